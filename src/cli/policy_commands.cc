// `custos policy check`, `custos notice`, `custos ropa`, `custos datamap`.
#include <optional>
#include <ostream>

#include "cli/commands.h"
#include "policy/loader.h"

namespace custos::cli {

namespace {

// Loads a valid policy for a rendering command, printing the reason on failure.
// Returns nullopt (with `exit_code` set) when the policy cannot be used.
[[maybe_unused]] std::optional<policy::Policy> LoadForRendering(const std::string& path, std::ostream& err,
                                               int& exit_code) {
  auto loaded = policy::LoadPolicy(path);
  if (!loaded.ok()) {
    err << "custos: " << loaded.status().message() << "\n";
    exit_code = ExitCodeFor(loaded.status());
    return std::nullopt;
  }
  if (!loaded->ok()) {
    err << loaded->Report();
    err << "custos: " << path << " is not a valid policy; run 'custos policy check " << path
        << "'\n";
    exit_code = kExitRefused;
    return std::nullopt;
  }
  return std::move(loaded->policy);
}

}  // namespace

int RunPolicyCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] != "check") {
    err << "usage: custos policy check FILE [--quiet]\n";
    return kExitUsage;
  }
  auto parsed = ParseArgs({args.begin() + 1, args.end()}, {}, {"--quiet"});
  if (!parsed.ok() || parsed->positional.size() != 1) {
    err << "usage: custos policy check FILE [--quiet]\n";
    return kExitUsage;
  }
  const std::string& path = parsed->positional[0];
  auto loaded = policy::LoadPolicy(path);
  if (!loaded.ok()) {
    err << "custos: " << loaded.status().message() << "\n";
    return ExitCodeFor(loaded.status());
  }
  if (!loaded->ok()) {
    err << loaded->Report();
    err << loaded->diagnostics.size() << " error(s) in " << path << "\n";
    return kExitRefused;
  }
  if (!parsed->Flag("--quiet")) {
    const policy::Policy& p = loaded->policy;
    out << path << ": valid (" << p.controller.name << ", notice " << p.notice.version << ": "
        << p.purposes.size() << " purposes, " << p.categories.size() << " categories, "
        << p.recipients.size() << " recipients, " << p.retention.size()
        << " retention rules)\n";
  }
  return kExitOk;
}

int RunNoticeCommand(const std::vector<std::string>&, std::ostream&, std::ostream& err) {
  err << "custos: notice is not built yet\n";
  return kExitRefused;
}
int RunRopaCommand(const std::vector<std::string>&, std::ostream&, std::ostream& err) {
  err << "custos: ropa is not built yet\n";
  return kExitRefused;
}
int RunDataMapCommand(const std::vector<std::string>&, std::ostream&, std::ostream& err) {
  err << "custos: datamap is not built yet\n";
  return kExitRefused;
}

}  // namespace custos::cli
