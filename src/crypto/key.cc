#include "crypto/key.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "crypto/internal.h"

namespace custos::crypto {

namespace {

// Allocation failure here is memory exhaustion (or too many mappings): like operator new we
// cannot report it through a value, and continuing without the key is never correct.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "custos: fatal: %s\n", what);
  std::abort();
}

// Key slots come from slabs of locked memory: each slab is one sodium_malloc'd region (guard
// pages around it, mlock'd so keys are not swapped out, and marked MADV_DONTDUMP so no core
// file holds them) cut into kSize-byte slots, kept for
// the life of the process and reused through a free list. A key per subject is opened for
// every read and write, and a sodium_malloc per key costs mmap, mprotect, mlock and munmap:
// in a process with many threads those serialise on the kernel's memory-map lock (measured:
// 64 threads changing consent spent most of their time there). Slots are wiped when freed.
class KeySlots {
 public:
  uint8_t* Take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) Grow();
    uint8_t* slot = free_.back();
    free_.pop_back();
    return slot;
  }
  void Give(uint8_t* slot) {
    sodium_memzero(slot, SecretKey::kSize);
    std::lock_guard lock(mutex_);
    free_.push_back(slot);
  }

 private:
  static constexpr size_t kSlotsPerSlab = 1024;
  void Grow() {
    internal::InitSodiumOrDie();
    auto* slab = static_cast<uint8_t*>(sodium_malloc(kSlotsPerSlab * SecretKey::kSize));
    if (slab == nullptr) Die("cannot allocate locked memory for keys");
    // sodium_malloc locks the region and leaves it out of core dumps where the platform allows;
    // say so explicitly here, and say it once when the memory lock limit refuses it (keys may
    // then be swapped out, never dumped).
    if (sodium_mlock(slab, kSlotsPerSlab * SecretKey::kSize) != 0 && !warned_) {
      warned_ = true;
      std::fprintf(stderr,
                   "custos: warning: key memory cannot be locked (RLIMIT_MEMLOCK); keys may be "
                   "swapped out\n");
    }
    free_.reserve(free_.size() + kSlotsPerSlab);
    for (size_t i = kSlotsPerSlab; i-- > 0;) free_.push_back(slab + i * SecretKey::kSize);
  }
  std::mutex mutex_;
  std::vector<uint8_t*> free_;
  bool warned_ = false;
};

KeySlots& Slots() {
  static KeySlots* slots = new KeySlots();  // never destroyed: keys may outlive statics
  return *slots;
}

uint8_t* AllocateGuarded() { return Slots().Take(); }

void Release(uint8_t* data) {
  if (data != nullptr) Slots().Give(data);
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
  return SecretKey(data);
}

Result<SecretKey> SecretKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSize) {
    return Status(ErrorCode::kInvalidArgument, "a secret key must be " + std::to_string(kSize) +
                                                   " bytes, got " + std::to_string(bytes.size()));
  }
  uint8_t* data = AllocateGuarded();
  std::copy(bytes.begin(), bytes.end(), data);
  return SecretKey(data);
}

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    Release(data_);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

SecretKey::~SecretKey() { Release(data_); }

std::span<const uint8_t> SecretKey::bytes() const {
  if (data_ == nullptr) return {};
  return {data_, kSize};
}

bool SecretKey::Equals(const SecretKey& other) const {
  if (data_ == nullptr || other.data_ == nullptr) return data_ == other.data_;
  return sodium_memcmp(data_, other.data_, kSize) == 0;
}

}  // namespace custos::crypto
