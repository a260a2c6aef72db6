// The organisation's own systems over a data directory (systems_commands.cc): `systems check`,
// `systems sweep`, and the request verbs that reach them, `request plan` and
// `request waive-system` (called from request_commands.cc). Through the engine's calls
// (engine_systems.cc), as the API's routes do. Thread-safety: reentrant.
#ifndef CUSTOS_CLI_SYSTEMS_COMMANDS_H_
#define CUSTOS_CLI_SYSTEMS_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

int SystemsCommand(deployment::Session& session, const std::vector<std::string>& args,
                   std::ostream& out, std::ostream& err);
// `request plan R` and `request waive-system R SYSTEM --reason TEXT`: `args` after "request".
int RequestPlanCommand(deployment::Session& session, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err);
int RequestWaiveSystemCommand(deployment::Session& session, const std::vector<std::string>& args,
                              std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_SYSTEMS_COMMANDS_H_
