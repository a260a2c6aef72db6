// The rights-request verbs over a data directory (request_commands.cc): `request ...`,
// `outbox list|read` (the local outbox: messages waiting for someone to send or read them) and
// `endpoint set|list` (where recipients and the requester notifier take messages).
// Registered in data_commands.cc. Each takes the verb's arguments (after the verb) and returns
// the exit code. Thread-safety: reentrant.
#ifndef CUSTOS_CLI_REQUEST_COMMANDS_H_
#define CUSTOS_CLI_REQUEST_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "deployment/session.h"

namespace custos::cli {

using deployment::Session;

int RequestCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);
int OutboxCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);
int EndpointCommand(Session& session, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_REQUEST_COMMANDS_H_
