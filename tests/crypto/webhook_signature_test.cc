#include "crypto/webhook_signature.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::crypto {
namespace {

// RFC 4231 section 4: HMAC-SHA-256 test cases (case 5, a truncated MAC, does not apply).
TEST(HmacSha256, MatchesRfc4231TestCases) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (char c = 0x01; c <= 0x19; ++c) key4 += c;
  EXPECT_EQ(HmacSha256Hex(key4, std::string(50, '\xcd')),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Keys longer than the block size (131 bytes) are hashed first.
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "This is a test using a larger than block-size key and a larger than "
                          "block-size data. The key needs to be hashed before being used by the "
                          "HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(WebhookSignature, SignsTimestampDotBody) {
  // Pins the wire format: "sha256=" + hex HMAC-SHA256(secret, "<unix seconds>.<body>"),
  // computed independently (Python's hmac module).
  EXPECT_EQ(
      WebhookSignature("whsec_0123456789abcdef", 1767225600, R"({"subject_request_id":"r_1"})"),
      "sha256=6593859de560b300150c93bbc89065a5b42877f03f72bc8d89226b4aecbe6277");
}

TEST(WebhookSignature, VerifiesOnlyTheSameSecretTimeAndBody) {
  const std::string body = R"({"a":1})";
  std::string signature = WebhookSignature("secret-0123456789", 100, body);
  EXPECT_TRUE(VerifyWebhookSignature("secret-0123456789", 100, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature("secret-0123456780", 100, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature("secret-0123456789", 101, body, signature));
  EXPECT_FALSE(VerifyWebhookSignature("secret-0123456789", 100, R"({"a":2})", signature));
  EXPECT_FALSE(VerifyWebhookSignature("secret-0123456789", 100, body, signature.substr(1)));
  EXPECT_FALSE(VerifyWebhookSignature("secret-0123456789", 100, body, ""));
}

}  // namespace
}  // namespace custos::crypto
