#include "crypto/hash_chain.h"

#include <sodium.h>

#include "crypto/internal.h"

namespace custos::crypto {

namespace {

static_assert(std::tuple_size_v<Digest> == crypto_generichash_BYTES);

void UpdateLengthPrefixed(crypto_generichash_state* state, const uint8_t* data, size_t size) {
  std::array<uint8_t, 8> length;
  uint64_t n = size;
  for (int i = 7; i >= 0; --i) {
    length[static_cast<size_t>(i)] = static_cast<uint8_t>(n & 0xff);
    n >>= 8;
  }
  crypto_generichash_update(state, length.data(), length.size());
  crypto_generichash_update(state, data, size);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Digest Hash(const uint8_t* key, size_t key_size, std::span<const uint8_t> prev_hash,
            std::string_view canonical_entry) {
  internal::InitSodiumOrDie();
  crypto_generichash_state state;
  crypto_generichash_init(&state, key, key_size, std::tuple_size_v<Digest>);
  UpdateLengthPrefixed(&state, prev_hash.data(), prev_hash.size());
  UpdateLengthPrefixed(&state, reinterpret_cast<const uint8_t*>(canonical_entry.data()),
                       canonical_entry.size());
  Digest out;
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace

Digest ChainHash(std::span<const uint8_t> prev_hash, std::string_view canonical_entry) {
  return Hash(nullptr, 0, prev_hash, canonical_entry);
}

Digest KeyedChainHash(const SecretKey& key, std::span<const uint8_t> prev_hash,
                      std::string_view canonical_entry) {
  return Hash(key.bytes().data(), key.bytes().size(), prev_hash, canonical_entry);
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::optional<std::vector<uint8_t>> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

}  // namespace custos::crypto
