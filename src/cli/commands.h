// The command layer of the `custos` CLI: parses arguments, calls the engine, renders output.
//
// RunCli is the whole CLI as a function, so tests and the scenario runner drive exactly what a
// person at a terminal drives, with no process in between.
// Exit codes (docs/CLI.md): 0 success, 1 the request was understood but refused or the input
// is invalid (e.g. an invalid policy), 2 wrong command line, 3 a file or database cannot be used.
// Thread-safety: RunCli is reentrant; it writes only to the streams it is given.
#ifndef CUSTOS_CLI_COMMANDS_H_
#define CUSTOS_CLI_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "common/status.h"
#include "deployment/session.h"

namespace custos::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIo = 3;

// `args` excludes the program name.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The exit code for a failed Status (one mapping for the whole CLI).
int ExitCodeFor(const Status& status);

// Options after the verb: `--name value` pairs and positional arguments, in order.
struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // "--format" -> "md"
  std::vector<std::string> flags;                            // "--json"

  const std::string* Option(const std::string& name) const;
  // Every value of a repeatable option, in order.
  std::vector<std::string> All(const std::string& name) const;
  bool Flag(const std::string& name) const;
};

// Splits `args` into positionals, `--opt value` options (for names in `valued`) and flags.
// Returns INVALID_ARGUMENT for an option missing its value or a name not in `valued`/`flags`.
Result<Args> ParseArgs(const std::vector<std::string>& args, const std::vector<std::string>& valued,
                       const std::vector<std::string>& flags);

// `custos serve` and `custos token` (serve_commands.cc).
int RunServeCommand(deployment::Options options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err);
int RunTokenCommand(const deployment::Options& options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err);

// `custos policy ...`, `custos notice`, `custos ropa`, `custos datamap` (policy_commands.cc).
int RunPolicyCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunNoticeCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRopaCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunDataMapCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_COMMANDS_H_
