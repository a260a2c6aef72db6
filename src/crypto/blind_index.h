// Blind index: look a person up by an identifier (email, phone, external id) without storing
// the identifier in the clear. The store keeps BlindIndex(key, kind, NormalizeIdentifier(..))
// beside the sealed value; a lookup recomputes it from the query. The index key is derived
// from the master key (MasterKey::BlindIndexKey), so a stolen database alone cannot be
// brute-forced for known emails or phone numbers.
//
// Thread-safety: all functions are stateless and may be called concurrently.
#ifndef CUSTOS_CRYPTO_BLIND_INDEX_H_
#define CUSTOS_CRYPTO_BLIND_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/key.h"

namespace custos::crypto {

inline constexpr size_t kBlindIndexSize = 32;

// Returns the canonical form of an identifier, so the same person's identifier always gives
// the same blind index:
//   "email"     ASCII whitespace trimmed, ASCII letters lower-cased.
//   "phone"     only digits kept, plus a '+' if it is the first non-space character; then a
//               leading "00" becomes "+", a UK national leading "0" becomes "+44", and a UK
//               trunk zero written after the country code ("+44 (0)20...") is dropped.
//               "07700 900123", "+44 7700 900123" and "+44 (0)7700-900123" all give
//               "+447700900123".
//   any other kind (e.g. "external"): ASCII whitespace trimmed, otherwise unchanged.
// The result may be empty (e.g. a phone number with no digits); callers should reject that.
// This is a storage format: changing a rule orphans existing index entries.
// PII: `value` and the result are personal data; never log or store them unsealed.
std::string NormalizeIdentifier(std::string_view kind, std::string_view value);

// Returns the kBlindIndexSize-byte keyed BLAKE2b-256 of kind || 0x00 || normalized_value.
// Deterministic for a given key; different kinds never share an index for the same value.
// REQUIRES: `index_key` has not been moved from; `kind` contains no NUL byte.
// PII: `normalized_value` is personal data; the result is a pseudonym safe to store.
std::vector<uint8_t> BlindIndex(const SecretKey& index_key, std::string_view kind,
                                std::string_view normalized_value);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_BLIND_INDEX_H_
