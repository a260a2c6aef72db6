#include "crypto/key.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "crypto/internal.h"

namespace custos::crypto {

namespace {

// Allocation failure here is memory exhaustion (or too many mappings): like operator new we
// cannot report it through a value, and continuing without the key is never correct.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "custos: fatal: %s\n", what);
  std::abort();
}

uint8_t* AllocateGuarded() {
  internal::InitSodiumOrDie();
  auto* data = static_cast<uint8_t*>(sodium_malloc(SecretKey::kSize));
  if (data == nullptr) Die("cannot allocate guarded memory for a key");
  return data;
}

}  // namespace

Status InitSodium() {
  // sodium_init() is itself thread-safe; the static just avoids retaking its lock each call.
  static const int result = sodium_init();
  if (result < 0) return Status(ErrorCode::kCryptoFailure, "libsodium failed to initialise");
  return Status::Ok();
}

namespace internal {
void InitSodiumOrDie() {
  if (!InitSodium().ok()) Die("libsodium failed to initialise");
}
}  // namespace internal

SecretKey SecretKey::Random() {
  uint8_t* data = AllocateGuarded();
  randombytes_buf(data, kSize);
  sodium_mprotect_readonly(data);
  return SecretKey(data);
}

Result<SecretKey> SecretKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSize) {
    return Status(ErrorCode::kInvalidArgument, "a secret key must be " + std::to_string(kSize) +
                                                   " bytes, got " + std::to_string(bytes.size()));
  }
  uint8_t* data = AllocateGuarded();
  std::copy(bytes.begin(), bytes.end(), data);
  sodium_mprotect_readonly(data);
  return SecretKey(data);
}

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

// sodium_free makes the region writable again, wipes it and unmaps it; it accepts null.
SecretKey::~SecretKey() { sodium_free(data_); }

std::span<const uint8_t> SecretKey::bytes() const {
  if (data_ == nullptr) return {};
  return {data_, kSize};
}

bool SecretKey::Equals(const SecretKey& other) const {
  if (data_ == nullptr || other.data_ == nullptr) return data_ == other.data_;
  return sodium_memcmp(data_, other.data_, kSize) == 0;
}

}  // namespace custos::crypto
