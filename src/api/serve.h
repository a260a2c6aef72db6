// Serve: the HTTP server's life, from opening the deployment to a clean drain. The CLI parses
// `custos serve`'s options into a ServeConfig (cli/serve_commands.cc) and calls it.
//
// Serve opens the data directory or database (initialising it from `policy_path` when given;
// waiting up to `wait_for_database` with backoff while the database cannot be reached),
// bounds the decision cache (people are read on first use, so start time does not grow with
// their number), listens, runs the background schedules (retention sweeps, outbox delivery,
// catching up with other writers, audit flushes), and on SIGTERM or SIGINT drains: it
// answers every request already received (new ones get 503 and their connection closes), stops
// listening, writes buffered audit entries and commits every queued batch before returning. A
// write is acknowledged only after its commit, so no acknowledged write is lost. Prints "custos
// serve: listening on http://HOST:PORT" on `out` once ready; logs are JSON lines on stderr.
// Thread-safety: one call per process (it blocks SIGTERM and SIGINT and waits for them).
#ifndef CUSTOS_API_SERVE_H_
#define CUSTOS_API_SERVE_H_

#include <chrono>
#include <iosfwd>
#include <string>

#include "api/http_server.h"
#include "api/server.h"
#include "common/status.h"
#include "deployment/session.h"

namespace custos::api {

struct ServeConfig {
  deployment::Options deployment;
  std::string policy_path;  // non-empty: initialise the deployment from this policy first
  std::string mail_config;  // non-empty: the mail notifier's configuration (smtp_sender.h)
  // Non-empty: a directory of import mappings (NAME.yaml) for POST /v1/imports?mapping=NAME,
  // each checked against the policy at start (a bad one stops the start with its file and line).
  std::string import_mappings_dir;
  HttpServerOptions http;
  ApiOptions api;                        // test_clock is taken from deployment.test_clock
  LogLevel log_level = LogLevel::kInfo;  // lines below it are not written
  // The most people whose decision state is kept in memory (--cache-people); the least used go
  // first, and are read again from the store on their next use.
  size_t cache_people = 1'000'000;
  // How long start-up waits for a database that cannot be reached (--wait-for-database).
  std::chrono::milliseconds wait_for_database{std::chrono::seconds(30)};
  // Each schedule's interval; zero turns it off.
  std::chrono::milliseconds sweep_every{std::chrono::hours(1)};
  std::chrono::milliseconds deliver_every{std::chrono::seconds(10)};
  std::chrono::milliseconds refresh_every{200};
  std::chrono::milliseconds drain{std::chrono::seconds(30)};
};

// Serves until SIGTERM or SIGINT, then drains. Returns OK after a clean stop. Errors: those of
// opening the deployment (NOT_INITIALISED, IO_ERROR, POLICY_INVALID, ...), of loading the tokens
// or the mail configuration, or of binding (IO_ERROR), and the audit flush's at shutdown.
Status Serve(const ServeConfig& config, std::ostream& out);

}  // namespace custos::api

#endif  // CUSTOS_API_SERVE_H_
