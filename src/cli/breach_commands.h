// The breach register's verbs over a data directory (breach_commands.cc): `breach record`,
// `list`, `show`, `assess`, `update`, `report`, `tell`, `close` and `export`. Registered in
// data_commands.cc. Takes the verb's arguments (after "breach") and returns the exit code.
// Thread-safety: reentrant.
#ifndef CUSTOS_CLI_BREACH_COMMANDS_H_
#define CUSTOS_CLI_BREACH_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

int BreachCommand(deployment::Session& session, const std::vector<std::string>& args,
                  std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_BREACH_COMMANDS_H_
