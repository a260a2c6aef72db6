#include "crypto/key.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "crypto/master_key.h"

namespace custos::crypto {
namespace {

// The VmFlags of the mapping in /proc/self/smaps that holds `address` ("" if none does).
std::string VmFlagsOf(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> from >> dash >> to && dash == '-' && line.find(':') > line.find(' ')) {
      inside = from <= at && at < to;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

bool HasFlag(const std::string& flags, const std::string& flag) {
  return (flags + " ").find(" " + flag + " ") != std::string::npos;
}

// AddressSanitizer replaces mlock with a call that does nothing and reports success, so under it
// no page is ever locked; the lock is checked in every other build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMlockWorks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMlockWorks = false;
#else
constexpr bool kMlockWorks = true;
#endif
#else
constexpr bool kMlockWorks = true;
#endif

TEST(SecretKey, KeyMemoryIsLockedAndLeftOutOfCoreDumps) {
  // Keys never reach swap or a core file (UK GDPR Art. 32): the page of the master key and of
  // a key derived from it is locked ("lo") and marked do-not-dump ("dd").
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::Random());
  SecretKey derived = master.WrapKey();
  SecretKey from_bytes = std::move(SecretKey::FromBytes(std::array<uint8_t, 32>{})).value();
  for (const SecretKey* key : {&derived, &from_bytes}) {
    std::string flags = VmFlagsOf(key->bytes().data());
    ASSERT_FALSE(flags.empty()) << "no mapping holds the key";
    if (kMlockWorks) {
      EXPECT_TRUE(HasFlag(flags, "lo")) << flags;
    }
    EXPECT_TRUE(HasFlag(flags, "dd")) << flags;
  }
  // The flags are read from the right mapping: ordinary heap memory has neither.
  std::vector<uint8_t> heap(64);
  std::string heap_flags = VmFlagsOf(heap.data());
  ASSERT_FALSE(heap_flags.empty());
  EXPECT_FALSE(HasFlag(heap_flags, "dd")) << heap_flags;
}

TEST(CryptoInit, IsIdempotent) {
  EXPECT_TRUE(InitSodium().ok());
  EXPECT_TRUE(InitSodium().ok());
}

TEST(SecretKey, RandomKeysAreFullSizeAndDistinct) {
  SecretKey a = SecretKey::Random();
  SecretKey b = SecretKey::Random();
  EXPECT_EQ(a.bytes().size(), SecretKey::kSize);
  EXPECT_FALSE(a.Equals(b));
  EXPECT_TRUE(a.Equals(a));
}

TEST(SecretKey, FromBytesCopiesExactly32Bytes) {
  std::array<uint8_t, 32> raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 + 1);
  Result<SecretKey> key = SecretKey::FromBytes(raw);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(std::vector<uint8_t>(key->bytes().begin(), key->bytes().end()),
            std::vector<uint8_t>(raw.begin(), raw.end()));
  raw[0] ^= 1;  // the key holds its own copy
  EXPECT_NE(key->bytes()[0], raw[0]);
}

TEST(SecretKey, FromBytesRejectsWrongLength) {
  std::vector<uint8_t> short_key(31, 1), long_key(33, 1), empty;
  EXPECT_EQ(SecretKey::FromBytes(short_key).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SecretKey::FromBytes(long_key).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SecretKey::FromBytes(empty).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SecretKey, MoveTransfersTheBytesAndEmptiesTheSource) {
  SecretKey a = SecretKey::Random();
  std::vector<uint8_t> before(a.bytes().begin(), a.bytes().end());
  SecretKey b = std::move(a);
  EXPECT_TRUE(a.bytes().empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(std::vector<uint8_t>(b.bytes().begin(), b.bytes().end()), before);

  SecretKey c = SecretKey::Random();
  c = std::move(b);
  EXPECT_EQ(std::vector<uint8_t>(c.bytes().begin(), c.bytes().end()), before);
  EXPECT_TRUE(b.bytes().empty());  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace custos::crypto
