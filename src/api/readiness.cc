#include "api/readiness.h"

#include <string>

namespace custos::api {

namespace {
// The one probe: the database answers and the audit chain's head can be read. Gives the
// store's own error, for the log.
Status ProbeStore(store::Store& store) { return store.LastAudit().status(); }
}  // namespace

Status CheckReadiness(store::Store& store, const engine::AuditLog* audit) {
  Status probe = ProbeStore(store);
  if (probe.ok() && audit != nullptr) {
    Status health = audit->Health();
    if (!health.ok()) {
      return Status(ErrorCode::kUnavailable, "the audit log cannot store its buffered entries (" +
                                                 std::string(CodeName(health.code())) + ")");
    }
  }
  if (probe.ok()) return probe;
  return Status(ErrorCode::kUnavailable, "the database or the audit log cannot be used (" +
                                             std::string(CodeName(probe.code())) + ")");
}

DatabaseWatch::DatabaseWatch(store::Store& store, JsonLog& log, std::chrono::milliseconds every)
    : store_(store), log_(log), task_(every, PeriodicTask::First::kNow, [this] { Pass(); }) {}

void DatabaseWatch::Pass() {
  Status probe = ProbeStore(store_);
  auto now = std::chrono::steady_clock::now();
  if (!probe.ok()) {
    if (!down_since_) {
      down_since_ = now;
      log_.Write("warn", "database_unavailable", {{"code", std::string(CodeName(probe.code()))}});
    }
    return;
  }
  if (down_since_) {
    auto outage = std::chrono::duration_cast<std::chrono::milliseconds>(now - *down_since_);
    log_.Write("info", "database_available", {{"outage_ms", std::to_string(outage.count()), true}});
    down_since_.reset();
  }
}

}  // namespace custos::api
