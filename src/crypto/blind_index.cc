#include "crypto/blind_index.h"

#include <sodium.h>

#include "crypto/internal.h"

namespace custos::crypto {

namespace {

static_assert(kBlindIndexSize == crypto_generichash_BYTES);
static_assert(SecretKey::kSize >= crypto_generichash_KEYBYTES_MIN &&
              SecretKey::kSize <= crypto_generichash_KEYBYTES_MAX);

// Locale-independent on purpose: std::isspace/std::tolower would make the index depend on
// the process locale.
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string NormalizeEmail(std::string_view value) {
  std::string out(TrimAscii(value));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NormalizePhone(std::string_view value) {
  value = TrimAscii(value);
  std::string out;
  if (!value.empty() && value.front() == '+') out += '+';
  for (char c : value) {
    if (c >= '0' && c <= '9') out += c;
  }
  if (out.starts_with("00")) {
    out.replace(0, 2, "+");  // international call prefix
  } else if (out.starts_with("0")) {
    out.replace(0, 1, "+44");  // UK national format
  }
  if (out.starts_with("+440")) out.erase(3, 1);  // "+44 (0)..."
  return out;
}

}  // namespace

std::string NormalizeIdentifier(std::string_view kind, std::string_view value) {
  if (kind == "email") return NormalizeEmail(value);
  if (kind == "phone") return NormalizePhone(value);
  return std::string(TrimAscii(value));
}

std::vector<uint8_t> BlindIndex(const SecretKey& index_key, std::string_view kind,
                                std::string_view normalized_value) {
  internal::InitSodiumOrDie();
  std::span<const uint8_t> key = index_key.bytes();
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), kBlindIndexSize);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kind.data()), kind.size());
  const uint8_t separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(normalized_value.data()),
                            normalized_value.size());
  std::vector<uint8_t> out(kBlindIndexSize);
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof(state));
  return out;
}

}  // namespace custos::crypto
