// Verbs that work over a data directory (see data_commands.cc and docs/CLI.md).
// Thread-safety: reentrant.
#ifndef CUSTOS_CLI_DATA_COMMANDS_H_
#define CUSTOS_CLI_DATA_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

using deployment::Session;

bool IsDataCommand(const std::string& verb);
// REQUIRES: !args.empty() and IsDataCommand(args[0]).
int RunDataCommand(const deployment::Options& options, const std::vector<std::string>& args,
                   std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_DATA_COMMANDS_H_
