#include "cli/commands.h"

#include <algorithm>
#include <ostream>

namespace custos::cli {

namespace {

constexpr const char* kUsage =
    "usage: custos <command> [arguments]\n"
    "\n"
    "policy documents:\n"
    "  custos policy check FILE                 validate a policy (exit 1 when invalid)\n"
    "  custos notice FILE --format md|html      the privacy notice generated from the policy\n"
    "  custos ropa FILE --format csv|json       the Article 30(1) record of processing\n"
    "  custos datamap FILE --format dot|svg     sources -> categories -> purposes -> recipients\n"
    "\n"
    "Exit codes: 0 ok, 1 invalid input or refused, 2 wrong command line, 3 file not usable.\n";

}  // namespace

const std::string* Args::Option(const std::string& name) const {
  for (const auto& [key, value] : options) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool Args::Flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

Result<Args> ParseArgs(const std::vector<std::string>& args,
                       const std::vector<std::string>& valued,
                       const std::vector<std::string>& flags) {
  Args parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.rfind("--", 0) != 0) {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::string value;
    bool has_inline_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline_value = true;
    }
    if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) {
          return Status(ErrorCode::kInvalidArgument, "option " + name + " needs a value");
        }
        value = args[++i];
      }
      parsed.options.emplace_back(name, value);
    } else if (std::find(flags.begin(), flags.end(), name) != flags.end() && !has_inline_value) {
      parsed.flags.push_back(name);
    } else {
      return Status(ErrorCode::kInvalidArgument, "unknown option " + name);
    }
  }
  return parsed;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return kExitOk;
    case ErrorCode::kInvalidArgument: return kExitUsage;
    case ErrorCode::kIo: return kExitIo;
    default: return kExitRefused;
  }
}

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "policy") return RunPolicyCommand(rest, out, err);
  if (verb == "notice") return RunNoticeCommand(rest, out, err);
  if (verb == "ropa") return RunRopaCommand(rest, out, err);
  if (verb == "datamap") return RunDataMapCommand(rest, out, err);
  err << "custos: unknown command '" << verb << "' (try: custos help)\n";
  return kExitUsage;
}

}  // namespace custos::cli
