// SecretKey: 32 bytes of key material held in guarded memory, and InitSodium().
//
// The bytes live in slots of locked memory: slabs allocated with sodium_malloc (guard pages
// around each slab, mlock'd where the system allows, so keys are not swapped out, and left out
// of core dumps with MADV_DONTDUMP), reused through a free list, and wiped when the key is
// destroyed. (A sodium_malloc per key, with guard pages and read-only protection per key, cost
// four system calls per key and serialised many threads on the kernel's memory-map lock; see
// key.cc.) A SecretKey is move-only; a
// moved-from key is empty (bytes() is empty) and may only be destroyed or assigned to.
//
// Thread-safety: InitSodium() may be called from any thread. A SecretKey is immutable after
// construction, so const methods may be called concurrently; moving one is not thread-safe.
#ifndef CUSTOS_CRYPTO_KEY_H_
#define CUSTOS_CRYPTO_KEY_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"

namespace custos::crypto {

// Initialises libsodium once per process; later calls return the first call's outcome.
// Returns OK, or kCryptoFailure when libsodium cannot initialise (e.g. no entropy source).
// Every function in custos::crypto calls it itself, so callers need it only to fail early.
Status InitSodium();

class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  // Returns a fresh key from the operating system's CSPRNG.
  // Aborts the process if libsodium cannot initialise or guarded memory cannot be allocated
  // (as operator new would on exhaustion): there is no safe way to continue without keys.
  static SecretKey Random();

  // Returns a key holding a copy of `bytes`, or kInvalidArgument if bytes.size() != kSize.
  // The caller still owns `bytes` and should wipe its copy (sodium_memzero) when done.
  static Result<SecretKey> FromBytes(std::span<const uint8_t> bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // The key material: kSize bytes, or empty for a moved-from key. The span is valid while
  // this key lives and is not moved from. Never log or persist it unsealed.
  std::span<const uint8_t> bytes() const;

  // True if both keys hold the same bytes; compares in constant time. Two empty keys are equal.
  bool Equals(const SecretKey& other) const;

 private:
  explicit SecretKey(uint8_t* data) : data_(data) {}

  uint8_t* data_;  // Owned slot of kSize bytes in locked memory. Null once moved from.
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_KEY_H_
