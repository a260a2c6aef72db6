#include "cli/commands.h"

#include <algorithm>
#include <cstdlib>
#include <ostream>

#include "cli/data_commands.h"
#include "cli/help.h"

namespace custos::cli {

namespace {

// Whether `args` asks for help (--help or -h anywhere).
bool AsksForHelp(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

}  // namespace

const std::string* Args::Option(const std::string& name) const {
  for (const auto& [key, value] : options) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::vector<std::string> Args::All(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : options) {
    if (key == name) out.push_back(value);
  }
  return out;
}

bool Args::Flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

Result<Args> ParseArgs(const std::vector<std::string>& args, const std::vector<std::string>& valued,
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
      std::vector<std::string> known(valued);
      known.insert(known.end(), flags.begin(), flags.end());
      std::string nearest = Nearest(name, known);
      return Status(ErrorCode::kInvalidArgument,
                    "unknown option " + name +
                        (nearest.empty() ? std::string() : " (did you mean " + nearest + "?)"));
    }
  }
  return parsed;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return kExitOk;
    case ErrorCode::kInvalidArgument: return kExitUsage;
    case ErrorCode::kIo:
    case ErrorCode::kUnavailable:
    case ErrorCode::kSystemUnavailable:
    case ErrorCode::kNotInitialised:
    case ErrorCode::kKeyMismatch: return kExitIo;
    default: return kExitRefused;
  }
}

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "help" || args[0] == "-h") {
    if (args.size() == 2 && args[0] == "help") {
      if (auto help = VerbHelp(args[1])) {
        out << *help;
        return kExitOk;
      }
    }
    (args.empty() ? err : out) << UsageText();
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version" || args[0] == "version") {
    out << VersionText();
    return kExitOk;
  }
  deployment::Options options;
  if (const char* data = std::getenv("CUSTOS_DATA")) options.data_dir = data;
  if (const char* url = std::getenv("CUSTOS_DATABASE")) options.database_url = url;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string now;
    if (arg == "--data") {
      if (!value(options.data_dir)) break;
    } else if (arg == "--database") {
      if (!value(options.database_url)) break;
    } else if (arg == "--schema") {
      if (!value(options.database_schema)) break;
    } else if (arg == "--controller") {
      if (!value(options.controller)) break;
    } else if (arg == "--master-key") {
      if (!value(options.master_key_path)) break;
    } else if (arg == "--now") {
      if (!value(now)) break;
      options.now = Timestamp::Parse(now);
      if (!options.now) {
        err << "custos: --now '" << now << "' is not an ISO-8601 time\n";
        return kExitUsage;
      }
    } else if (arg == "--json") {
      options.json = true;
    } else {
      break;
    }
  }
  if (i >= args.size() || args[i] == "--help" || args[i] == "-h") {
    if (i < args.size()) {
      out << UsageText();
      return kExitOk;
    }
    err << UsageText();
    return kExitUsage;
  }
  const std::string& verb = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  // Help needs no data directory: it is answered before anything is opened.
  if (AsksForHelp(rest) ||
      AsksForHelp({args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i)})) {
    if (auto help = VerbHelp(verb)) {
      out << *help;
      return kExitOk;
    }
  }
  if (IsDataCommand(verb)) {
    std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    // Options that belong to the verb may also follow it (custos decide ... --json).
    auto json = std::find(command.begin(), command.end(), "--json");
    if (json != command.end()) {
      options.json = true;
      command.erase(json);
    }
    return RunDataCommand(options, command, out, err);
  }
  if (verb == "serve") return RunServeCommand(options, rest, out, err);
  if (verb == "token") return RunTokenCommand(options, rest, out, err);
  if (verb == "policy") return RunPolicyCommand(rest, out, err);
  if (verb == "notice") return RunNoticeCommand(rest, out, err);
  if (verb == "ropa") return RunRopaCommand(rest, out, err);
  if (verb == "datamap") return RunDataMapCommand(rest, out, err);
  std::string nearest = Nearest(verb, Verbs());
  err << "custos: unknown command '" << verb << "'"
      << (nearest.empty() ? std::string() : " (did you mean '" + nearest + "'?)")
      << "; custos help lists them\n";
  return kExitUsage;
}

}  // namespace custos::cli
