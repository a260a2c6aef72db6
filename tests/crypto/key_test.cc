#include "crypto/key.h"

#include <gtest/gtest.h>

#include <array>
#include <utility>
#include <vector>

namespace custos::crypto {
namespace {

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
