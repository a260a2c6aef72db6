#include "crypto/sealing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace custos::crypto {
namespace {

constexpr std::string_view kAd = "wig/s-0001/user.contact.email";

TEST(Seal, RoundTrips) {
  SecretKey key = SecretKey::Random();
  for (const std::string& text : {std::string(), std::string("ada@example.test"),
                                  std::string("with\0nul", 8), std::string(100000, 'x')}) {
    std::vector<uint8_t> sealed = Seal(key, text, kAd);
    EXPECT_EQ(sealed.size(), text.size() + kSealOverhead);
    EXPECT_EQ(sealed[0], kSealFormatVersion);
    Result<std::string> opened = Open(key, sealed, kAd);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, text);
  }
}

TEST(Seal, DoesNotContainThePlaintext) {
  SecretKey key = SecretKey::Random();
  std::string text = "ada.lovelace@example.test";
  std::vector<uint8_t> sealed = Seal(key, text, kAd);
  std::string as_string(sealed.begin(), sealed.end());
  EXPECT_EQ(as_string.find("lovelace"), std::string::npos);
}

TEST(Seal, SameTextSealsDifferentlyEachTime) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> a = Seal(key, "ada@example.test", kAd);
  std::vector<uint8_t> b = Seal(key, "ada@example.test", kAd);
  EXPECT_NE(a, b);
  // The nonces differ, not only the ciphertexts.
  EXPECT_NE(std::vector<uint8_t>(a.begin() + 1, a.begin() + 25),
            std::vector<uint8_t>(b.begin() + 1, b.begin() + 25));
}

TEST(Seal, AnyFlippedByteFailsToOpen) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> sealed = Seal(key, "ada@example.test", kAd);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> tampered = sealed;
    tampered[i] ^= 0x01;
    Result<std::string> opened = Open(key, tampered, kAd);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), ErrorCode::kCryptoFailure) << "byte " << i;
  }
}

TEST(Seal, WrongKeyFails) {
  std::vector<uint8_t> sealed = Seal(SecretKey::Random(), "ada@example.test", kAd);
  EXPECT_EQ(Open(SecretKey::Random(), sealed, kAd).status().code(), ErrorCode::kCryptoFailure);
}

TEST(Seal, WrongAssociatedDataFails) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> sealed = Seal(key, "ada@example.test", kAd);
  for (std::string_view ad : {"wig/s-0002/user.contact.email", "wig/s-0001/user.contact.phone", "",
                              "wig/s-0001/user.contact.email "}) {
    EXPECT_EQ(Open(key, sealed, ad).status().code(), ErrorCode::kCryptoFailure) << ad;
  }
}

TEST(Seal, TruncationFails) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> sealed = Seal(key, "ada@example.test", kAd);
  for (size_t len :
       {size_t{0}, size_t{1}, size_t{25}, kSealOverhead - 1, kSealOverhead, sealed.size() - 1}) {
    std::vector<uint8_t> cut(sealed.begin(), sealed.begin() + static_cast<ptrdiff_t>(len));
    EXPECT_EQ(Open(key, cut, kAd).status().code(), ErrorCode::kCryptoFailure) << len;
  }
  std::vector<uint8_t> extended = sealed;
  extended.push_back(0);
  EXPECT_EQ(Open(key, extended, kAd).status().code(), ErrorCode::kCryptoFailure);
}

TEST(Seal, FailureMessagesCarryNoData) {
  SecretKey key = SecretKey::Random();
  std::vector<uint8_t> sealed = Seal(key, "ada@example.test", kAd);
  sealed.back() ^= 1;
  Status status = Open(key, sealed, kAd).status();
  EXPECT_EQ(status.message().find("ada"), std::string::npos);
  EXPECT_EQ(status.message().find("s-0001"), std::string::npos);
}

TEST(DataKeyWrap, RoundTrips) {
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::Random());
  SecretKey data_key = SecretKey::Random();
  std::vector<uint8_t> wrapped = WrapDataKey(master, data_key, "wig/s-0001");
  EXPECT_EQ(wrapped.size(), SecretKey::kSize + kSealOverhead);
  Result<SecretKey> unwrapped = UnwrapDataKey(master, wrapped, "wig/s-0001");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(unwrapped->Equals(data_key));
}

TEST(DataKeyWrap, CannotBeMovedToAnotherSubject) {
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::Random());
  std::vector<uint8_t> wrapped = WrapDataKey(master, SecretKey::Random(), "wig/s-0001");
  EXPECT_EQ(UnwrapDataKey(master, wrapped, "wig/s-0002").status().code(),
            ErrorCode::kCryptoFailure);
  EXPECT_EQ(UnwrapDataKey(master, wrapped, "protectuk/s-0001").status().code(),
            ErrorCode::kCryptoFailure);
}

TEST(DataKeyWrap, FailsUnderAnotherMasterKeyOrWhenTampered) {
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::Random());
  MasterKey other = MasterKey::FromSecretForTesting(SecretKey::Random());
  std::vector<uint8_t> wrapped = WrapDataKey(master, SecretKey::Random(), "wig/s-0001");
  EXPECT_EQ(UnwrapDataKey(other, wrapped, "wig/s-0001").status().code(), ErrorCode::kCryptoFailure);
  std::vector<uint8_t> tampered = wrapped;
  tampered[30] ^= 0x80;
  EXPECT_EQ(UnwrapDataKey(master, tampered, "wig/s-0001").status().code(),
            ErrorCode::kCryptoFailure);
  wrapped.pop_back();
  EXPECT_EQ(UnwrapDataKey(master, wrapped, "wig/s-0001").status().code(),
            ErrorCode::kCryptoFailure);
}

TEST(DataKeyWrap, IsNotTheDataSealedDirectlyUnderTheMasterKey) {
  // Wrapping uses the derived WrapKey, never the master secret itself.
  SecretKey secret = SecretKey::Random();
  SecretKey copy = SecretKey::FromBytes(secret.bytes()).value();
  MasterKey master = MasterKey::FromSecretForTesting(std::move(secret));
  std::vector<uint8_t> wrapped = WrapDataKey(master, SecretKey::Random(), "wig/s-0001");
  EXPECT_FALSE(Open(copy, wrapped, "wig/s-0001").ok());
  EXPECT_TRUE(Open(master.WrapKey(), wrapped, "wig/s-0001").ok());
}

TEST(DataKeyWrap, RejectsASealedValueThatIsNotAKey) {
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::Random());
  std::vector<uint8_t> sealed = Seal(master.WrapKey(), "not a key", "wig/s-0001");
  EXPECT_EQ(UnwrapDataKey(master, sealed, "wig/s-0001").status().code(), ErrorCode::kCryptoFailure);
}

}  // namespace
}  // namespace custos::crypto
