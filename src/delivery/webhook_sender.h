// WebhookSender: delivers one outbox message to its endpoint, and CurlWebhookSender, the one on
// libcurl (the only file that includes curl.h is webhook_sender.cc).
//
// A delivery is an HTTP POST of the message's payload (JSON) to the endpoint's URL with
//   Content-Type: application/json
//   X-Custos-Delivery: <outbox id>        (the same on every retry: receivers deduplicate by it)
//   X-Custos-Timestamp: <unix seconds>
//   X-Custos-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> keyed with the
//                       endpoint's secret (crypto/webhook_signature.h)
// TLS certificates and host names are verified, redirects are not followed, only http and https
// are spoken, and the attempt is bounded (connect 5 s, whole exchange 10 s by default). A 2xx
// answer is a delivery; anything else fails with a short error naming the HTTP status or curl's
// error ("http 503", "curl: Couldn't connect to server"): never the URL, its query or the body.
// Thread-safety: Send() may be called from several threads at once (one curl handle per call).
// PII: the payload holds personal data; it goes only to the endpoint and is never logged.
#ifndef CUSTOS_DELIVERY_WEBHOOK_SENDER_H_
#define CUSTOS_DELIVERY_WEBHOOK_SENDER_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/engine.h"

namespace custos::delivery {

struct WebhookResult {
  bool delivered = false;
  int http_status = 0;  // 0 when no answer arrived
  std::string error;    // empty when delivered; non-personal
};

// How one outbox message leaves: by signed webhook (CurlWebhookSender, below) or by e-mail
// (SmtpSender, delivery/smtp_sender.h). An error beginning "permanent: " (engine/mail_endpoint.h)
// means the message is refused for good and is not retried.
class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // POSTs `delivery.payload` to `delivery.url`, signed as of `unix_seconds`. Never throws.
  virtual WebhookResult Send(const engine::OutboxDelivery& delivery, int64_t unix_seconds) = 0;
  // The longest one Send() may take (its total timeout).
  virtual std::chrono::milliseconds max_send_duration() const = 0;
};

struct CurlWebhookOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  // For tests only: a CA bundle to trust instead of the system's (empty: the system's).
  std::string ca_file;
};

class CurlWebhookSender final : public WebhookSender {
 public:
  explicit CurlWebhookSender(CurlWebhookOptions options = {});
  WebhookResult Send(const engine::OutboxDelivery& delivery, int64_t unix_seconds) override;
  std::chrono::milliseconds max_send_duration() const override { return options_.total_timeout; }

 private:
  CurlWebhookOptions options_;
};

}  // namespace custos::delivery

#endif  // CUSTOS_DELIVERY_WEBHOOK_SENDER_H_
