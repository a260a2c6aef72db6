#include "crypto/api_token.h"

#include <sodium.h>

#include <cstdlib>

#include "crypto/key.h"

namespace custos::crypto {

namespace {

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

bool IsHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !text.empty();
}

constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;

}  // namespace

NewToken GenerateApiToken() {
  if (!InitSodium().ok()) std::abort();
  unsigned char id[kIdBytes];
  unsigned char secret[kSecretBytes];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  NewToken token;
  token.id = Hex(id, sizeof id);
  token.token = "cst_" + token.id + "_" + Hex(secret, sizeof secret);
  sodium_memzero(secret, sizeof secret);
  return token;
}

std::optional<std::string_view> ApiTokenId(std::string_view token) {
  if (token.size() != 4 + kIdBytes * 2 + 1 + kSecretBytes * 2 || token.substr(0, 4) != "cst_" ||
      token[4 + kIdBytes * 2] != '_') {
    return std::nullopt;
  }
  std::string_view id = token.substr(4, kIdBytes * 2);
  if (!IsHex(id) || !IsHex(token.substr(5 + kIdBytes * 2))) return std::nullopt;
  return id;
}

std::string HashApiToken(std::string_view token) {
  if (!InitSodium().ok()) std::abort();
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return Hex(digest, sizeof digest);
}

bool ApiTokenHashesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custos::crypto
