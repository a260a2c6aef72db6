// Webhook signatures: how a receiver of custos's outbox deliveries knows a message came from
// custos and was not changed or replayed late.
//
// A delivery carries X-Custos-Timestamp: <unix seconds> and
// X-Custos-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">, keyed with the secret
// registered for the endpoint (Engine::SetRecipientEndpoint). A receiver recomputes the HMAC
// over the raw body it received, compares in constant time, and rejects timestamps too far from
// its own clock. This is a wire format: changing it breaks every receiver.
// Thread-safety: all functions are stateless and may be called concurrently.
#ifndef CUSTOS_CRYPTO_WEBHOOK_SIGNATURE_H_
#define CUSTOS_CRYPTO_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace custos::crypto {

// Returns HMAC-SHA256(key, message) (RFC 2104, RFC 4231) in lower-case hex. Keys of any length
// (longer than 64 bytes are hashed first, as the RFC says). Aborts if libsodium cannot
// initialise.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// Returns the X-Custos-Signature value: "sha256=" + HmacSha256Hex(secret, "<ts>.<body>"), with
// `unix_seconds` in decimal. PII: `body` may hold personal data; only its MAC is returned.
std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);

// True when `signature` is WebhookSignature(secret, unix_seconds, body), compared in constant
// time. For receivers and tests.
bool VerifyWebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body,
                            std::string_view signature);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_WEBHOOK_SIGNATURE_H_
