// Readiness: whether this server can do its work now, as opposed to liveness (/healthz: the
// process answers). Ready means the database answers, the audit chain's head can be read (every
// write and durable decision appends to it) and the audit log's buffered entries are being
// stored (a flush that failed and has not succeeded since makes it unready); the policy is
// loaded before the server listens, so it is ready from the first request. /readyz answers from
// CheckReadiness, and DatabaseWatch runs the same check every second to log when the database goes
// and comes back. Thread-safety: CheckReadiness may be called from any thread; DatabaseWatch runs
// on its own.
#ifndef CUSTOS_API_READINESS_H_
#define CUSTOS_API_READINESS_H_

#include <chrono>
#include <optional>

#include "api/log.h"
#include "api/periodic_task.h"
#include "common/status.h"
#include "engine/audit_log.h"
#include "store/store.h"

namespace custos::api {

// OK when ready; otherwise STORE_UNAVAILABLE (whatever the store's own error was: a client can
// only wait and retry) with the store's code in the message. `audit`, when given, is the
// engine's audit log, whose last failed flush also makes the server unready.
Status CheckReadiness(store::Store& store, const engine::AuditLog* audit = nullptr);

// Logs `database_unavailable` (warn, with the store's error code) when the check first fails and
// `database_available` (info, with the outage's length in ms) when it passes again. Reconnecting
// is the store's: every request opens a new connection when the pooled ones are gone.
class DatabaseWatch {
 public:
  DatabaseWatch(store::Store& store, JsonLog& log, std::chrono::milliseconds every);
  void Stop() { task_.Stop(); }

 private:
  void Pass();

  store::Store& store_;
  JsonLog& log_;
  std::optional<std::chrono::steady_clock::time_point> down_since_;  // only the task's thread
  PeriodicTask task_;  // last: starts once the members above are ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_READINESS_H_
