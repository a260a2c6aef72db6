#include "delivery/outbox_dispatcher.h"

#include <algorithm>

#include "engine/mail_endpoint.h"

namespace custos::delivery {

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

OutboxDispatcher::OutboxDispatcher(engine::Engine& engine, WebhookSender& sender,
                                   WebhookSender* mail)
    : engine_(engine), sender_(sender), mail_(mail) {}

milliseconds OutboxDispatcher::LeaseFor(size_t max) const {
  milliseconds longest = sender_.max_send_duration();
  if (mail_ != nullptr) longest = std::max(longest, mail_->max_send_duration());
  return static_cast<int64_t>(max) * (longest + milliseconds(1000)) + kLeaseMargin;
}

Result<DeliveryCounts> OutboxDispatcher::RunOnce(size_t max, const std::atomic<bool>* stop) {
  DeliveryCounts counts;
  if (max == 0) return counts;
  const milliseconds lease = LeaseFor(max);
  // The lease runs on the engine's clock in the store; this process measures its own sends on
  // the steady clock, so a send never starts unless it can end (timeout) before the lease does.
  milliseconds longest = sender_.max_send_duration();
  if (mail_ != nullptr) longest = std::max(longest, mail_->max_send_duration());
  const steady_clock::time_point last_start = steady_clock::now() + lease - kLeaseMargin - longest;
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
    WebhookResult result;
    if (!engine::IsMailServerUrl(delivery.url)) {
      result = sender_.Send(delivery, unix_seconds);
    } else if (mail_ != nullptr) {
      result = mail_->Send(delivery, unix_seconds);
    } else {
      result.error = "mail: not configured";
    }
    RETURN_IF_ERROR(engine_.RecordDelivery(delivery, result.delivered, result.error));
    DeliveryOutcome outcome{delivery.outbox_id, delivery.target, store::OutboxState::kDelivered,
                            result.error};
    if (result.delivered) {
      ++counts.delivered;
      totals.delivered.fetch_add(1, std::memory_order_relaxed);
    } else if (engine::IsPermanentFailure(result.error) ||
               delivery.attempts + 1 >= engine::kMaxDeliveryAttempts) {
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

}  // namespace custos::delivery
