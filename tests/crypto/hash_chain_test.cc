#include "crypto/hash_chain.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace custos::crypto {
namespace {

// The expected digests were computed apart from custos, with Python's hashlib:
//   def chain(prev, entry):
//     return hashlib.blake2b(struct.pack(">Q", len(prev)) + prev +
//                            struct.pack(">Q", len(entry)) + entry, digest_size=32).hexdigest()
// The keyed chain is the same input under BLAKE2b's key (hashlib.blake2b(..., key=...)): a
// recomputation without the key gives another digest.
TEST(HashChain, TheKeyedChainMatchesItsKnownAnswerAndNeedsTheKey) {
  std::array<uint8_t, SecretKey::kSize> bytes;
  bytes.fill(1);
  SecretKey key = SecretKey::FromBytes(bytes).value();
  EXPECT_EQ(ToHex(KeyedChainHash(key, {}, R"({"seq":1})")),
            "48ce4387e09d548fcfe51f7b66fad29d588055689c5d4687f81cc1713f854991");
  EXPECT_NE(KeyedChainHash(key, {}, R"({"seq":1})"), ChainHash({}, R"({"seq":1})"));
  bytes[31] = 2;
  SecretKey other = SecretKey::FromBytes(bytes).value();
  EXPECT_NE(KeyedChainHash(key, {}, "entry"), KeyedChainHash(other, {}, "entry"));
}

TEST(HashChain, MatchesKnownAnswers) {
  // Pins the construction: BLAKE2b-256(u64be(|prev|) || prev || u64be(|entry|) || entry).
  Digest zero{};
  EXPECT_EQ(ToHex(ChainHash(zero, R"({"seq":1})")),
            "1cb389eb2ce9c5cfaff3d45638cef968352f4058e54d2a9ecd37e1115d369ec7");
  EXPECT_EQ(ToHex(ChainHash({}, R"({"seq":1})")),
            "f3578a4b55514edd7735a55ab5b1c5cbe894be3c4dda2adf9016c6c5c995418f");
  EXPECT_EQ(ToHex(ChainHash({}, "")),
            "94c1c088cc9453996779630ad3af45cbd92814828dd784cf2aa12df95d1b8afe");
}

TEST(HashChain, GivesTheSameDigestEveryTime) {
  // chain(bytes(32), b"entry"), computed as above; asked twice of one process.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(ToHex(ChainHash(Digest{}, "entry")),
              "e96948922faf35b9f4869432022d2a7a9b913dbd423de9bb1fefc5528e14541e");
  }
}

TEST(HashChain, ChainsFromThePreviousDigest) {
  // chain(chain(b"", b"genesis"), b"entry"), computed as above.
  Digest genesis = ChainHash({}, "genesis");
  EXPECT_EQ(ToHex(genesis), "ade177ef4c3404a3972ae14ce2addeffb10ebfc322b1395e12ef4283cd280216");
  EXPECT_EQ(ToHex(ChainHash(genesis, "entry")),
            "eba486ccaa37e77ff16de5ea04652938e52a4ba83dbd98d2d1bdfd1f575437ba");
}

TEST(HashChain, ChangesWithAnyByteOfPrev) {
  Digest prev = ChainHash({}, "genesis");
  Digest base = ChainHash(prev, "entry");
  for (size_t i = 0; i < prev.size(); ++i) {
    Digest changed = prev;
    changed[i] ^= 0x01;
    EXPECT_NE(ChainHash(changed, "entry"), base) << i;
  }
}

TEST(HashChain, ChangesWithAnyByteOfEntry) {
  Digest prev = ChainHash({}, "genesis");
  std::string entry = R"({"actor":"dpo","subject":"s-0001","action":"read"})";
  Digest base = ChainHash(prev, entry);
  for (size_t i = 0; i < entry.size(); ++i) {
    std::string changed = entry;
    changed[i] ^= 0x01;
    EXPECT_NE(ChainHash(prev, changed), base) << i;
  }
  EXPECT_NE(ChainHash(prev, entry + " "), base);
  EXPECT_NE(ChainHash(prev, entry.substr(1)), base);
}

TEST(HashChain, BoundaryBetweenPrevAndEntryIsUnambiguous) {
  std::vector<uint8_t> ab = {'a', 'b'};
  std::vector<uint8_t> a = {'a'};
  EXPECT_NE(ChainHash(ab, "c"), ChainHash(a, "bc"));
  EXPECT_NE(ChainHash({}, ""), ChainHash(Digest{}, ""));
}

TEST(HashChain, DetectsReorderedEntries) {
  Digest h0{};
  Digest forward = ChainHash(ChainHash(h0, "one"), "two");
  Digest reversed = ChainHash(ChainHash(h0, "two"), "one");
  EXPECT_NE(forward, reversed);
}

TEST(HashChainHex, RoundTrips) {
  std::vector<uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "00017f80abff");
  EXPECT_EQ(FromHex("00017f80abff"), bytes);
  EXPECT_EQ(FromHex("00017F80ABFF"), bytes);
  EXPECT_EQ(ToHex({}), "");
  EXPECT_EQ(FromHex(""), std::vector<uint8_t>());
  Digest d = ChainHash({}, "x");
  EXPECT_EQ(ToHex(d).size(), 64u);
  EXPECT_EQ(*FromHex(ToHex(d)), std::vector<uint8_t>(d.begin(), d.end()));
}

TEST(HashChainHex, RejectsMalformedHex) {
  for (const char* bad : {"0", "abc", "0g", "zz", " 00", "00 ", "0x00", "-1"}) {
    EXPECT_FALSE(FromHex(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace custos::crypto
