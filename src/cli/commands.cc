#include "cli/commands.h"

#include <algorithm>
#include <cstdlib>
#include <ostream>

#include "cli/data_commands.h"

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
    "\n"
    "personal data (global options: --data DIR, --database postgresql://... [--schema NAME]\n"
    "to keep the database in PostgreSQL, --controller KEY, --master-key PATH,\n"
    "--now TIME to set the engine's clock, --json):\n"
    "  custos --data DIR init --policy FILE\n"
    "  custos --data DIR subject add [ID] --type T [--email E] [--phone P] [--at TIME]\n"
    "  custos --data DIR subject show ID | subject find --email E\n"
    "  custos --data DIR event SUBJECT EVENT [--at TIME]\n"
    "  custos --data DIR record put SUBJECT CATEGORY VALUE --source S --purpose P [--at TIME]\n"
    "  custos --data DIR record state SUBJECT CATEGORY\n"
    "  custos --data DIR consent give|withdraw SUBJECT PURPOSE [--cookie] [--channel C]\n"
    "  custos --data DIR consent export SUBJECT        (ISO/IEC 27560-shaped JSON)\n"
    "  custos --data DIR preference set SUBJECT email|sms|post|phone on|off\n"
    "  custos --data DIR object SUBJECT PURPOSE|direct_marketing|'*' [--lift]\n"
    "  custos --data DIR restrict SUBJECT [CATEGORY...] --reason R | --lift ID\n"
    "  custos --data DIR suppress --email E --reason R\n"
    "  custos --data DIR decide SUBJECT PURPOSE CATEGORY... [--channel C] [--at TIME]\n"
    "  custos --data DIR audit verify\n"
    "  custos --data DIR retention plan [--as-of TIME] [--json]   (dry run: what would happen)\n"
    "  custos --data DIR retention run [--as-of TIME]      (resumes an interrupted run first)\n"
    "  custos --data DIR hold place (--subject S | --category C) --reason R [--expires TIME]\n"
    "  custos --data DIR hold release ID | hold list\n"
    "  custos --data DIR review list [--all] | review done ID      (DPO review tasks)\n"
    "  custos --data DIR aggregate CATEGORY [--threshold N]   (small cells suppressed)\n"
    "\n"
    "rights requests (docs/CLI.md has every option):\n"
    "  custos --data DIR request open TYPE --email E | --subject S --verified-by METHOD\n"
    "  custos --data DIR request verify R CODE | --staff METHOD     (the month starts)\n"
    "  custos --data DIR request wait|answered|extend|refuse|withdraw|fulfil R ...\n"
    "  custos --data DIR request show R | list [--due-soon|--overdue] | document R FORMAT\n"
    "  custos --data DIR request recipients R | request purge\n"
    "  custos --data DIR outbox list | outbox read ID      (the local outbox of messages)\n"
    "  custos --data DIR outbox deliver [--max N]   (one pass: POST due messages to endpoints)\n"
    "  custos --data DIR endpoint set RECIPIENT URL --secret S | endpoint list\n"
    "\n"
    "server:\n"
    "  custos serve --data DIR [--policy FILE] [--listen 127.0.0.1:8080] [--tls-cert F --tls-key "
    "F]\n"
    "               [--test-clock] [--threads N] [--rate-limit N] [--log-requests "
    "all|errors|none]\n"
    "  custos --data DIR token create --role admin|dpo|staff|processor|subject [--purpose P]...\n"
    "               [--controller C --category C...] [--subject ID] [--label TEXT]\n"
    "  custos --data DIR token list | token revoke ID\n"
    "\n"
    "Exit codes: 0 ok, 1 invalid input or refused (a deny), 2 wrong command line,\n"
    "3 file or database not usable.\n";

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
  if (i >= args.size()) {
    err << kUsage;
    return kExitUsage;
  }
  const std::string& verb = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
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
  err << "custos: unknown command '" << verb << "' (try: custos help)\n";
  return kExitUsage;
}

}  // namespace custos::cli
