// `custos import --mapping FILE DATA...` (import_commands.cc): people from CRM exports (CSV,
// JSON Lines) through Engine::ImportBatch, a batch per transaction, with progress, a summary and
// a reject file. Registered in data_commands.cc.
// Thread-safety: reentrant.
#ifndef CUSTOS_CLI_IMPORT_COMMANDS_H_
#define CUSTOS_CLI_IMPORT_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

int ImportCommand(deployment::Session& session, const std::vector<std::string>& args,
                  std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_IMPORT_COMMANDS_H_
