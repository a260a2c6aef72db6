// Sealing: authenticated encryption of personal values at rest, and wrapping of the
// per-subject data keys under the master key (crypto-shredding: destroy the wrapped data key
// and every value sealed under it becomes unreadable, backups included).
//
// Sealed format (version 1), a storage format:
//   0x01 || nonce (24 bytes, random) || XChaCha20-Poly1305-IETF ciphertext || tag (16 bytes)
// The version byte is authenticated together with the caller's associated data. Random
// 192-bit nonces are safe to draw independently for any number of messages under one key.
//
// Associated data is not encrypted but must match exactly at Open: bind each sealed value to
// where it belongs (e.g. "controller/subject_id/category") so it cannot be moved elsewhere.
//
// Thread-safety: all functions are stateless and may be called concurrently.
#ifndef CUSTOS_CRYPTO_SEALING_H_
#define CUSTOS_CRYPTO_SEALING_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/key.h"
#include "crypto/master_key.h"

namespace custos::crypto {

inline constexpr uint8_t kSealFormatVersion = 1;
// Bytes a sealed value adds to its plaintext: version byte, nonce and tag.
inline constexpr size_t kSealOverhead = 1 + 24 + 16;

// Returns the sealed form of `plaintext` (kSealOverhead + plaintext.size() bytes). Sealing the
// same plaintext twice gives different output (fresh nonce). The caller owns the result.
// Aborts only if libsodium cannot initialise.
// REQUIRES: `key` has not been moved from.
// PII: plaintext is personal data; the output is safe to store. Associated data is stored in
// the clear by the caller, so it should hold ids, never personal values.
std::vector<uint8_t> Seal(const SecretKey& key, std::string_view plaintext,
                          std::string_view associated_data);

// Returns the plaintext of a value made by Seal with the same key and associated data.
// Returns kCryptoFailure if `sealed` is truncated, has an unknown version, was altered, or the
// key or associated data differ. The message never contains any of the data.
// REQUIRES: `key` has not been moved from.
// PII: the returned string is personal data: keep it out of logs and errors, and only hand it
// to a caller whose purpose allows the read.
Result<std::string> Open(const SecretKey& key, std::span<const uint8_t> sealed,
                         std::string_view associated_data);

// Returns `data_key` sealed under master.WrapKey(), for storing beside the subject.
// `associated_data` should be "controller/subject_id", so that a wrapped key copied onto
// another subject fails to unwrap.
// REQUIRES: neither key has been moved from.
std::vector<uint8_t> WrapDataKey(const MasterKey& master, const SecretKey& data_key,
                                 std::string_view associated_data);

// Returns the data key inside `wrapped`. Returns kCryptoFailure on a wrong master key, wrong
// associated data, tampering, truncation, or a sealed value that does not hold a key.
// REQUIRES: `master` has not been moved from.
Result<SecretKey> UnwrapDataKey(const MasterKey& master, std::span<const uint8_t> wrapped,
                                std::string_view associated_data);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_SEALING_H_
