#include "crypto/signing_key.h"

#include <sodium.h>

#include "crypto/internal.h"

namespace custos::crypto {

static_assert(crypto_sign_SEEDBYTES == SecretKey::kSize);
static_assert(crypto_sign_PUBLICKEYBYTES == std::tuple_size_v<PublicKey>);
static_assert(crypto_sign_BYTES == std::tuple_size_v<Signature>);

namespace {

// Expands `seed` into libsodium's 64-byte secret key in `secret` (wiped by the caller).
void Expand(const SecretKey& seed, PublicKey& public_key,
            std::array<uint8_t, crypto_sign_SECRETKEYBYTES>& secret) {
  internal::InitSodiumOrDie();
  crypto_sign_seed_keypair(public_key.data(), secret.data(), seed.bytes().data());
}

}  // namespace

SigningKey SigningKey::FromSeed(const SecretKey& seed) {
  PublicKey public_key;
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> secret;
  Expand(seed, public_key, secret);
  sodium_memzero(secret.data(), secret.size());
  Result<SecretKey> copy = SecretKey::FromBytes(seed.bytes());
  return SigningKey(std::move(copy).value(), public_key);
}

Signature SigningKey::Sign(std::string_view message) const {
  PublicKey public_key;
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> secret;
  Expand(seed_, public_key, secret);
  Signature signature;
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret.data());
  sodium_memzero(secret.data(), secret.size());
  return signature;
}

bool VerifySignature(std::span<const uint8_t> public_key, std::string_view message,
                     std::span<const uint8_t> signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  internal::InitSodiumOrDie();
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

}  // namespace custos::crypto
