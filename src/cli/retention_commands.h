// The retention verbs over a data directory (retention_commands.cc): `retention plan|run`,
// `hold place|release|list`, `review list|done` and `aggregate`. Registered in data_commands.cc.
// Each takes the verb's arguments (after the verb) and returns the exit code.
// Thread-safety: reentrant.
#ifndef CUSTOS_CLI_RETENTION_COMMANDS_H_
#define CUSTOS_CLI_RETENTION_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

using deployment::Session;

int RetentionCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);
int HoldCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);
int ReviewCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);
int AggregateCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_RETENTION_COMMANDS_H_
