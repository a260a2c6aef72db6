// `custos application authorise|list|revoke`: third-party applications a controller authorises
// (the policy's `third_party_apps`), through api/applications.h as the API's routes go.
// Registered in data_commands.cc. Takes the verb's arguments (after "application") and returns
// the exit code.
// Thread-safety: reentrant.
#ifndef CUSTOS_CLI_APPLICATION_COMMANDS_H_
#define CUSTOS_CLI_APPLICATION_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

int ApplicationCommand(deployment::Session& session, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_APPLICATION_COMMANDS_H_
