// Hash chain for the tamper-evident audit log, and hex encoding for digests.
//
// Each audit entry stores ChainHash(previous entry's digest, canonical form of this entry);
// changing, dropping or reordering any entry changes every digest after it. ChainHash is
// unkeyed: whoever can write the database can recompute it after an edit. KeyedChainHash (the
// same input under a secret key that never enters the database, MasterKey::AuditChainKey) cannot
// be recomputed without that key, so an edited and re-chained log no longer verifies.
//
// Thread-safety: all functions are stateless and may be called concurrently.
#ifndef CUSTOS_CRYPTO_HASH_CHAIN_H_
#define CUSTOS_CRYPTO_HASH_CHAIN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/key.h"

namespace custos::crypto {

using Digest = std::array<uint8_t, 32>;

// Returns BLAKE2b-256 over
//   u64be(prev_hash.size()) || prev_hash || u64be(canonical_entry.size()) || canonical_entry
// Both parts are length-prefixed so no two (prev, entry) pairs share an input. The first
// entry of a chain passes an empty prev_hash (or a fixed genesis digest; the verifier must
// use the same). This is a storage format: changing it breaks verification of old logs.
// PII: the entry should carry subject ids, not personal values; the digest is safe to store.
Digest ChainHash(std::span<const uint8_t> prev_hash, std::string_view canonical_entry);

// The same input as ChainHash, hashed with BLAKE2b-256 keyed with `key` (a MAC). Also a
// storage format. REQUIRES: `key` has not been moved from.
Digest KeyedChainHash(const SecretKey& key, std::span<const uint8_t> prev_hash,
                      std::string_view canonical_entry);

// Returns `bytes` as lower-case hex, two characters per byte.
std::string ToHex(std::span<const uint8_t> bytes);

// Returns the bytes spelled by `hex` (upper or lower case), or nullopt if it has an odd
// length or any non-hex character. An empty string gives an empty vector.
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_HASH_CHAIN_H_
