// `custos policy check`, `custos notice`, `custos ropa`, `custos datamap`.
#include <algorithm>
#include <fstream>
#include <optional>
#include <ostream>
#include <string_view>

#include "cli/commands.h"
#include "policy/datamap.h"
#include "policy/datamap_svg.h"
#include "policy/loader.h"
#include "policy/notice.h"
#include "policy/policy_diff.h"
#include "policy/ropa.h"
#include "policy/warnings.h"

namespace custos::cli {

namespace {

// Loads a valid policy for a rendering command, printing the reason on failure.
// Returns nullopt (with `exit_code` set) when the policy cannot be used.
std::optional<policy::Policy> LoadForRendering(const std::string& path, std::ostream& err,
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

namespace {

// `custos policy diff OLD NEW [--json]`: what changed, which changes are material and which
// purposes need fresh consent. Both files must be valid policies.
int RunPolicyDiff(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* usage = "usage: custos policy diff OLD NEW [--json]\n";
  auto parsed = ParseArgs(args, {}, {"--json"});
  if (!parsed.ok() || parsed->positional.size() != 2) {
    if (!parsed.ok()) err << "custos: " << parsed.status().message() << "\n";
    err << usage;
    return kExitUsage;
  }
  policy::Policy versions[2];
  for (int i = 0; i < 2; ++i) {
    auto loaded = policy::LoadValidPolicy(parsed->positional[static_cast<size_t>(i)]);
    if (!loaded.ok()) {
      // One line: the problems (each naming file:line) and their fixes, joined.
      std::string message = loaded.status().message();
      while (!message.empty() && message.back() == '\n') message.pop_back();
      for (size_t at; (at = message.find("\n  hint: ")) != std::string::npos;) {
        message.replace(at, 9, "; fix: ");
      }
      std::replace(message.begin(), message.end(), '\n', ' ');
      err << "custos: error " << CodeName(loaded.status().code()) << ": " << message << "\n";
      return ExitCodeFor(loaded.status());
    }
    versions[i] = std::move(*loaded);
  }
  std::vector<policy::PolicyChange> changes = policy::DiffPolicies(versions[0], versions[1]);
  out << (parsed->Flag("--json") ? policy::PolicyDiffJson(changes) + "\n"
                                 : policy::PolicyDiffText(changes));
  return kExitOk;
}

}  // namespace

int RunPolicyCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* usage =
      "usage: custos policy check FILE [--quiet] [--strict]\n"
      "       custos policy diff OLD NEW [--json]\n";
  if (!args.empty() && args[0] == "diff") {
    return RunPolicyDiff({args.begin() + 1, args.end()}, out, err);
  }
  if (args.empty() || args[0] != "check") {
    err << usage;
    return kExitUsage;
  }
  auto parsed = ParseArgs({args.begin() + 1, args.end()}, {}, {"--quiet", "--strict"});
  if (!parsed.ok() || parsed->positional.size() != 1) {
    if (!parsed.ok()) err << "custos: " << parsed.status().message() << "\n";
    err << usage;
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
  // Warnings: printed always; errors only with --strict.
  policy::Diagnostics warnings = policy::PolicyWarnings(loaded->policy);
  for (const auto& warning : warnings) err << warning.Format(path) << "\n";
  const bool strict = parsed->Flag("--strict");
  if (!parsed->Flag("--quiet")) {
    const policy::Policy& p = loaded->policy;
    out << path << ": valid (" << p.controller.name << ", notice " << p.notice.version << ": "
        << p.purposes.size() << " purposes, " << p.categories.size() << " categories, "
        << p.recipients.size() << " recipients, " << p.retention.size() << " retention rules)";
    if (!warnings.empty()) out << ", " << warnings.size() << " warning(s)";
    out << "\n";
  }
  if (strict && !warnings.empty()) {
    err << warnings.size() << " warning(s) in " << path << " (--strict makes them errors)\n";
    return kExitRefused;
  }
  return kExitOk;
}

namespace {

// What a rendering verb was asked for: the policy path, a format and where to write.
struct RenderRequest {
  std::string path;
  std::string format;
  std::optional<std::string> output;  // --output FILE; stdout when absent
  policy::DataMapView view;           // datamap: --purpose KEY or --subject-type KEY
  std::string templates;              // notice: --templates DIR
};

// Parses `VERB FILE [--format F] [--output FILE]`. On a wrong command line prints one line and
// returns nullopt; `formats` lists the accepted values, the first being the default.
std::optional<RenderRequest> ParseRenderArgs(const std::vector<std::string>& args,
                                             std::string_view verb,
                                             const std::vector<std::string>& formats,
                                             std::ostream& err, bool views = false,
                                             bool templates = false) {
  std::string usage = "usage: custos " + std::string(verb) + " FILE [--format ";
  for (size_t i = 0; i < formats.size(); ++i) usage += (i > 0 ? "|" : "") + formats[i];
  usage += "] [--output FILE]";
  if (views) usage += " [--purpose KEY | --subject-type KEY]";
  if (templates) usage += " [--templates DIR]";
  std::vector<std::string> options = {"--format", "--output"};
  if (views) options.insert(options.end(), {"--purpose", "--subject-type"});
  if (templates) options.push_back("--templates");
  auto parsed = ParseArgs(args, options, {});
  if (!parsed.ok()) {
    err << "custos " << verb << ": " << parsed.status().message() << "; " << usage << "\n";
    return std::nullopt;
  }
  const Args& storage = *parsed;
  if (storage.positional.size() != 1) {
    err << "custos " << verb << ": expected one policy FILE; " << usage << "\n";
    return std::nullopt;
  }
  RenderRequest request;
  request.path = storage.positional[0];
  const std::string* format = storage.Option("--format");
  request.format = format != nullptr ? *format : formats[0];
  if (std::find(formats.begin(), formats.end(), request.format) == formats.end()) {
    err << "custos " << verb << ": unknown format '" << request.format << "'; " << usage << "\n";
    return std::nullopt;
  }
  if (const std::string* output = storage.Option("--output")) request.output = *output;
  if (const std::string* purpose = storage.Option("--purpose")) request.view.purpose = *purpose;
  if (const std::string* type = storage.Option("--subject-type")) request.view.subject_type = *type;
  if (const std::string* dir = storage.Option("--templates")) request.templates = *dir;
  if (!request.view.purpose.empty() && !request.view.subject_type.empty()) {
    err << "custos " << verb << ": give --purpose or --subject-type, not both; " << usage << "\n";
    return std::nullopt;
  }
  return request;
}

// Writes a rendered document to --output or to `out`.
int WriteRendered(const RenderRequest& request, const std::string& text, std::ostream& out,
                  std::ostream& err) {
  if (!request.output) {
    out << text;
    return kExitOk;
  }
  std::ofstream file(*request.output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    err << "custos: cannot write " << *request.output << "\n";
    return kExitIo;
  }
  return kExitOk;
}

}  // namespace

int RunNoticeCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto request = ParseRenderArgs(args, "notice", {"md", "html"}, err, false, true);
  if (!request) return kExitUsage;
  policy::NoticeTemplates templates;
  if (!request->templates.empty()) {
    auto loaded = policy::LoadNoticeTemplates(request->templates);
    if (!loaded.ok()) {
      err << "custos notice: " << loaded.status().message() << "\n";
      return ExitCodeFor(loaded.status());
    }
    templates = std::move(*loaded);
  }
  int exit_code = kExitOk;
  auto policy = LoadForRendering(request->path, err, exit_code);
  if (!policy) return exit_code;
  auto format =
      request->format == "html" ? policy::NoticeFormat::kHtml : policy::NoticeFormat::kMarkdown;
  return WriteRendered(*request, policy::RenderNotice(*policy, format, templates), out, err);
}

int RunRopaCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto request = ParseRenderArgs(args, "ropa", {"csv", "json"}, err);
  if (!request) return kExitUsage;
  int exit_code = kExitOk;
  auto policy = LoadForRendering(request->path, err, exit_code);
  if (!policy) return exit_code;
  std::string text =
      request->format == "json" ? policy::RenderRopaJson(*policy) : policy::RenderRopaCsv(*policy);
  return WriteRendered(*request, text, out, err);
}

int RunDataMapCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto request = ParseRenderArgs(args, "datamap", {"dot", "svg"}, err, true);
  if (!request) return kExitUsage;
  int exit_code = kExitOk;
  auto policy = LoadForRendering(request->path, err, exit_code);
  if (!policy) return exit_code;
  const auto& view = request->view;
  if ((!view.purpose.empty() || !view.subject_type.empty()) &&
      policy::PurposesInView(*policy, view).empty()) {
    err << "custos datamap: no purpose of the policy is "
        << (view.purpose.empty() ? "about subject type '" + view.subject_type + "'"
                                 : "named '" + view.purpose + "'")
        << "\n";
    return kExitUsage;
  }
  std::string dot = policy::RenderDataMapDot(*policy, view);
  if (request->format == "dot") return WriteRendered(*request, dot, out, err);
  auto svg = policy::RenderDotToSvg(dot);
  if (!svg.ok()) {
    err << "custos: cannot draw the data map: " << svg.status().message() << "\n";
    return kExitRefused;
  }
  return WriteRendered(*request, *svg, out, err);
}

}  // namespace custos::cli
