// SigningKey: the deployment's Ed25519 key, which signs audit checkpoints (engine/
// audit_checkpoint.h) so that a witness outside the database can later prove what the log's
// head was.
//
// The key pair is derived from a 32-byte seed (MasterKey::CheckpointSigningKey derives the seed
// from the master key), so it is held exactly like the master key and never stored anywhere;
// the public key may be published freely.
//
// Thread-safety: a SigningKey is immutable; its const methods may be called concurrently.
#ifndef CUSTOS_CRYPTO_SIGNING_KEY_H_
#define CUSTOS_CRYPTO_SIGNING_KEY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "crypto/key.h"

namespace custos::crypto {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

class SigningKey {
 public:
  // Derives the Ed25519 key pair from `seed` (crypto_sign_seed_keypair).
  // REQUIRES: `seed` has not been moved from.
  static SigningKey FromSeed(const SecretKey& seed);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;

  const PublicKey& public_key() const { return public_key_; }
  // A detached Ed25519 signature of `message`.
  Signature Sign(std::string_view message) const;

 private:
  SigningKey(SecretKey seed, PublicKey public_key)
      : seed_(std::move(seed)), public_key_(public_key) {}

  SecretKey seed_;  // the secret half is re-expanded from the seed at each signature
  PublicKey public_key_;
};

// True when `signature` is `public_key`'s Ed25519 signature of `message`. Sizes other than 32
// and 64 bytes give false.
bool VerifySignature(std::span<const uint8_t> public_key, std::string_view message,
                     std::span<const uint8_t> signature);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_SIGNING_KEY_H_
