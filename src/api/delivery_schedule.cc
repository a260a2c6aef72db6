#include "api/delivery_schedule.h"

namespace custos::api {

using delivery::DeliveryOutcome;

DeliverySchedule::DeliverySchedule(delivery::OutboxDispatcher& dispatcher, JsonLog& log,
                                   std::chrono::milliseconds every, size_t batch)
    : dispatcher_(dispatcher),
      log_(log),
      batch_(batch),
      task_(every, PeriodicTask::First::kNow, [this] { DeliverDue(); }) {}

void DeliverySchedule::DeliverDue() {
  // Batches until no more are due, so a backlog drains in one pass rather than one batch per
  // interval.
  while (!task_.stopping().load()) {
    auto counts = dispatcher_.RunOnce(batch_, &task_.stopping());
    if (!counts.ok()) {
      // Once per change, not every interval: a store that cannot deliver (e.g. a backend
      // without the outbox) would otherwise fill the log.
      std::string code(CodeName(counts.status().code()));
      if (code != last_error_) {
        log_.Write("error", "outbox_pass_failed", {{"code", code}});
        last_error_ = code;
      }
      return;
    }
    last_error_.clear();
    for (const DeliveryOutcome& o : counts->outcomes) {
      if (o.state == store::OutboxState::kDelivered) continue;
      log_.Write(o.state == store::OutboxState::kDead ? "error" : "info", "outbox_send_failed",
                 {{"outbox_id", std::to_string(o.outbox_id), true},
                  {"target", o.target},
                  {"error", o.error},
                  {"state", std::string(store::OutboxStateName(o.state))}});
    }
    if (counts->claimed > 0) {
      log_.Write("info", "outbox_pass",
                 {{"claimed", std::to_string(counts->claimed), true},
                  {"delivered", std::to_string(counts->delivered), true},
                  {"failed", std::to_string(counts->failed), true},
                  {"dead", std::to_string(counts->dead), true},
                  {"deferred", std::to_string(counts->deferred), true}});
    }
    if (counts->claimed < static_cast<int64_t>(batch_) || counts->deferred > 0) return;
  }
}

}  // namespace custos::api
