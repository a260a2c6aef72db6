#include "crypto/webhook_signature.h"

#include <sodium.h>

#include <array>

#include "crypto/internal.h"

namespace custos::crypto {

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  internal::InitSodiumOrDie();
  // The init/update/final form takes a key of any length; crypto_auth_hmacsha256() itself
  // wants exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac;
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  std::string hex(mac.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  hex.pop_back();
  return hex;
}

std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text.append(body);
  std::string signature = "sha256=" + HmacSha256Hex(secret, signed_text);
  sodium_memzero(signed_text.data(), signed_text.size());
  return signature;
}

bool VerifyWebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body,
                            std::string_view signature) {
  std::string expected = WebhookSignature(secret, unix_seconds, body);
  if (signature.size() != expected.size()) return false;
  return sodium_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

}  // namespace custos::crypto
