// `custos serve` and `custos token`: the server's entry points, called by the CLI's dispatcher
// with the global options already parsed (cli/commands.cc).
//
// serve: opens the data directory (initialising it from --policy when given), warms the
// decision cache, listens, and on SIGTERM or SIGINT drains: it stops accepting, answers every
// request already received, writes buffered audit entries and commits every queued batch
// before exiting 0. A write is acknowledged only after its commit, so no acknowledged write
// is lost. Prints "custos serve: listening on http://HOST:PORT" on stdout once ready.
// token: creates API tokens (printed once, stored hashed) and lists them.
// Thread-safety: one call per process.
#ifndef CUSTOS_API_SERVE_H_
#define CUSTOS_API_SERVE_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/session.h"

namespace custos::api {

int RunServeCommand(cli::GlobalOptions options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err);
int RunTokenCommand(const cli::GlobalOptions& options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err);

}  // namespace custos::api

#endif  // CUSTOS_API_SERVE_H_
