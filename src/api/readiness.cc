#include "api/readiness.h"

#include <string>

namespace custos::api {

Status CheckReadiness(store::Store& store) {
  auto head = store.LastAudit();
  if (head.ok()) return Status::Ok();
  return Status(ErrorCode::kUnavailable, "the database or the audit log cannot be used (" +
                                             std::string(CodeName(head.status().code())) + ")");
}

DatabaseWatch::DatabaseWatch(store::Store& store, JsonLog& log, std::chrono::milliseconds every)
    : store_(store), log_(log), task_(every, PeriodicTask::First::kNow, [this] { Pass(); }) {}

void DatabaseWatch::Pass() {
  auto head = store_.LastAudit();
  auto now = std::chrono::steady_clock::now();
  if (!head.ok()) {
    if (!down_since_) {
      down_since_ = now;
      log_.Write("warn", "database_unavailable",
                 {{"code", std::string(CodeName(head.status().code()))}});
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
