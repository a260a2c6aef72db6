// OutboxDispatcher: delivers the engine's outbox (Article 19 notices to recipients, messages to
// requesters) to the endpoints registered for their targets. `custos serve` runs it on a
// schedule (api/delivery_schedule.h); `custos outbox deliver` runs one pass.
//
// A pass claims due messages (Engine::ClaimDeliveries: a lease, so several processes over one
// PostgreSQL database can run dispatchers and each message goes to one of them), sends each
// with a WebhookSender (by e-mail with the mail sender when the target's endpoint is a mail
// server, smtp:// or smtps://), and records the outcome (Engine::RecordDelivery: delivered,
// payload dropped and digest kept; or failed, retried after 1 min, 5 min, 30 min, 2 h, 6 h,
// then daily; dead after engine::kMaxDeliveryAttempts, or at once when the failure is
// permanent). A message is never sent after its lease could have run out: the rest of the batch
// is left to be claimed again once the lease ends, with no attempt counted. Delivery is at least
// once (a crash between the POST and its record repeats it); receivers deduplicate by
// X-Custos-Delivery.
// Logs and counts name outbox ids, recipient keys and error strings: never a payload or a URL.
// Thread-safety: RunOnce may run in several threads or processes at once (claims are leased).
#ifndef CUSTOS_DELIVERY_OUTBOX_DISPATCHER_H_
#define CUSTOS_DELIVERY_OUTBOX_DISPATCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "delivery/webhook_sender.h"
#include "engine/engine.h"

namespace custos::delivery {

// What one pass did with each message it sent. Non-personal.
struct DeliveryOutcome {
  int64_t outbox_id = 0;
  std::string target;  // the recipient key, "requester" or "controller"
  store::OutboxState state = store::OutboxState::kPending;  // delivered, pending (retry), dead
  std::string error;
};

struct DeliveryCounts {
  int64_t claimed = 0;    // messages claimed with an endpoint to send to
  int64_t delivered = 0;  // answered 2xx
  int64_t failed = 0;     // failed, to be retried later
  int64_t dead = 0;       // failed for the last time (kMaxDeliveryAttempts, or permanently)
  int64_t deferred = 0;   // claimed but not sent: the lease would have run out, or stopping
  std::vector<DeliveryOutcome> outcomes;
};

// Deliveries recorded by every dispatcher in this process, for /metrics.
struct DeliveryTotals {
  std::atomic<int64_t> delivered{0}, failed{0}, dead{0};
};
DeliveryTotals& ProcessDeliveryTotals();

class OutboxDispatcher {
 public:
  // REQUIRES: `engine`, `sender` and `mail` (when given) outlive the dispatcher. Without `mail`,
  // a message for a mail server fails ("mail: not configured") and is retried.
  OutboxDispatcher(engine::Engine& engine, WebhookSender& sender, WebhookSender* mail = nullptr);

  // One pass over at most `max` due messages. `stop`, when given and set, ends the pass before
  // the next send (the rest is deferred). Errors: those of Engine::ClaimDeliveries and
  // Engine::RecordDelivery (IO_ERROR, CRYPTO_FAILURE); a pass stopped by an error has sent
  // the messages before it, and a message whose record failed is sent again after its lease.
  Result<DeliveryCounts> RunOnce(size_t max, const std::atomic<bool>* stop = nullptr);

  // How long a claim holds: long enough for a whole batch of `max` sends.
  std::chrono::milliseconds LeaseFor(size_t max) const;

 private:
  engine::Engine& engine_;
  WebhookSender& sender_;
  WebhookSender* mail_;
};

}  // namespace custos::delivery

#endif  // CUSTOS_DELIVERY_OUTBOX_DISPATCHER_H_
