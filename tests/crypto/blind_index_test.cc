#include "crypto/blind_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash_chain.h"

namespace custos::crypto {
namespace {

TEST(BlindIndexNormalize, Email) {
  EXPECT_EQ(NormalizeIdentifier("email", "  Ada.Lovelace@Example.TEST \t\n"),
            "ada.lovelace@example.test");
  EXPECT_EQ(NormalizeIdentifier("email", "ada@example.test"), "ada@example.test");
  EXPECT_EQ(NormalizeIdentifier("email", "   "), "");
  // Non-ASCII bytes pass through untouched (no locale-dependent case folding).
  EXPECT_EQ(NormalizeIdentifier("email", "J\xC3\x89R\xC3\x94ME@Example.test"),
            "j\xC3\x89r\xC3\x94me@example.test");
}

TEST(BlindIndexNormalize, UkPhoneNumbersInEveryCommonShape) {
  for (const char* phone : {"07700 900123", "07700900123", "+44 7700 900123", "+447700900123",
                            "+44 (0)7700-900123", "0044 7700 900123", " (07700) 900-123 "}) {
    EXPECT_EQ(NormalizeIdentifier("phone", phone), "+447700900123") << phone;
  }
}

TEST(BlindIndexNormalize, OtherPhoneNumbers) {
  EXPECT_EQ(NormalizeIdentifier("phone", "+1 (555) 010-9999"), "+15550109999");
  EXPECT_EQ(NormalizeIdentifier("phone", "0033 1 23 45 67 89"), "+33123456789");
  // A '+' counts only at the start.
  EXPECT_EQ(NormalizeIdentifier("phone", "44+7700"), "447700");
  EXPECT_EQ(NormalizeIdentifier("phone", "no digits"), "");
}

TEST(BlindIndexNormalize, ExternalIdsAreOnlyTrimmed) {
  EXPECT_EQ(NormalizeIdentifier("external", "  CRM-00042 "), "CRM-00042");
  EXPECT_EQ(NormalizeIdentifier("external", "a b"), "a b");
}

TEST(BlindIndex, IsStableAndKeyed) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> a = BlindIndex(key, "email", "ada@example.test");
  EXPECT_EQ(a.size(), kBlindIndexSize);
  EXPECT_EQ(BlindIndex(key, "email", "ada@example.test"), a);
  EXPECT_NE(BlindIndex(key, "email", "ada@example.tesT"), a);
  EXPECT_NE(BlindIndex(SecretKey::Random(), "email", "ada@example.test"), a);
}

TEST(BlindIndex, SeparatesKinds) {
  SecretKey key = SecretKey::Random();
  EXPECT_NE(BlindIndex(key, "email", "12345"), BlindIndex(key, "external", "12345"));
  EXPECT_NE(BlindIndex(key, "phone", "+447700900123"),
            BlindIndex(key, "external", "+447700900123"));
  // The separator keeps the kind/value boundary unambiguous.
  EXPECT_NE(BlindIndex(key, "email", "x"), BlindIndex(key, "emailx", ""));
}

TEST(BlindIndex, MatchesAKnownAnswer) {
  // Pins the construction: keyed BLAKE2b-256 over kind || 0x00 || value.
  std::vector<uint8_t> raw(32);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i);
  SecretKey key = SecretKey::FromBytes(raw).value();
  EXPECT_EQ(ToHex(BlindIndex(key, "email", "ada@example.test")),
            "4b4da9d6319ae50ee212827bb6cec5edfac8dd42f203a044c979a1cc629ec821");
}

TEST(BlindIndex, NormalisedSpellingsShareAnIndex) {
  SecretKey key = SecretKey::Random();
  EXPECT_EQ(BlindIndex(key, "phone", NormalizeIdentifier("phone", "07700 900123")),
            BlindIndex(key, "phone", NormalizeIdentifier("phone", "+44 7700 900123")));
  EXPECT_EQ(BlindIndex(key, "email", NormalizeIdentifier("email", " ADA@example.test")),
            BlindIndex(key, "email", NormalizeIdentifier("email", "ada@EXAMPLE.test ")));
}

}  // namespace
}  // namespace custos::crypto
