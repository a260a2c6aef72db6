// How the outbox tells a mail server from a webhook, and how a sender says a failure is for
// good. Used by Engine::SetRecipientEndpoint, Engine::RecordDelivery (request_outbox.cc) and the
// dispatcher (delivery/outbox_dispatcher.cc).
// Thread-safety: pure functions.
#ifndef CUSTOS_ENGINE_MAIL_ENDPOINT_H_
#define CUSTOS_ENGINE_MAIL_ENDPOINT_H_

#include <string>
#include <string_view>

namespace custos::engine {

// Whether an endpoint URL names a mail server (smtp:// or smtps://, any case) rather than a
// webhook. Only the "requester" target may have one.
bool IsMailServerUrl(std::string_view url);

// A delivery error that begins with this marks a permanent failure (the receiver refused the
// message for good, e.g. an SMTP 5xx): Engine::RecordDelivery makes the message dead at once,
// never retried, and the error as stored and listed says "permanent: ...".
inline constexpr std::string_view kPermanentFailure = "permanent: ";
inline bool IsPermanentFailure(std::string_view error) {
  return error.substr(0, kPermanentFailure.size()) == kPermanentFailure;
}

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_MAIL_ENDPOINT_H_
