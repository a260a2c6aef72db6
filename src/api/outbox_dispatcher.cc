#include "api/outbox_dispatcher.h"

namespace custos::api {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Time kept between the last send a lease allows and the lease's end, for recording it.
constexpr milliseconds kLeaseMargin{30000};

}  // namespace

DeliveryTotals& ProcessDeliveryTotals() {
  static DeliveryTotals totals;
  return totals;
}

OutboxDispatcher::OutboxDispatcher(engine::Engine& engine, WebhookSender& sender)
    : engine_(engine), sender_(sender) {}

milliseconds OutboxDispatcher::LeaseFor(size_t max) const {
  return static_cast<int64_t>(max) * (sender_.max_send_duration() + milliseconds(1000)) +
         kLeaseMargin;
}

Result<DeliveryCounts> OutboxDispatcher::RunOnce(size_t max, const std::atomic<bool>* stop) {
  DeliveryCounts counts;
  if (max == 0) return counts;
  const milliseconds lease = LeaseFor(max);
  // The lease runs on the engine's clock in the store; this process measures its own sends on
  // the steady clock, so a send never starts unless it can end (timeout) before the lease does.
  const steady_clock::time_point last_start =
      steady_clock::now() + lease - kLeaseMargin - sender_.max_send_duration();
  ASSIGN_OR_RETURN(std::vector<engine::OutboxDelivery> claimed,
                   engine_.ClaimDeliveries(max, int64_t{lease.count()} * 1000));
  counts.claimed = static_cast<int64_t>(claimed.size());
  DeliveryTotals& totals = ProcessDeliveryTotals();
  for (const engine::OutboxDelivery& delivery : claimed) {
    if ((stop != nullptr && stop->load()) || steady_clock::now() > last_start) {
      ++counts.deferred;  // claimed again by anyone once the lease ends; no attempt counted
      continue;
    }
    const int64_t unix_seconds = engine_.Now().micros / 1000000;
    WebhookResult result = sender_.Send(delivery, unix_seconds);
    RETURN_IF_ERROR(engine_.RecordDelivery(delivery, result.delivered, result.error));
    DeliveryOutcome outcome{delivery.outbox_id, delivery.target, store::OutboxState::kDelivered,
                            result.error};
    if (result.delivered) {
      ++counts.delivered;
      totals.delivered.fetch_add(1, std::memory_order_relaxed);
    } else if (delivery.attempts + 1 >= engine::kMaxDeliveryAttempts) {
      outcome.state = store::OutboxState::kDead;
      ++counts.dead;
      totals.dead.fetch_add(1, std::memory_order_relaxed);
    } else {
      outcome.state = store::OutboxState::kPending;
      ++counts.failed;
      totals.failed.fetch_add(1, std::memory_order_relaxed);
    }
    counts.outcomes.push_back(std::move(outcome));
  }
  return counts;
}

DeliverySchedule::DeliverySchedule(OutboxDispatcher& dispatcher, JsonLog& log,
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
