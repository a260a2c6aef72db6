// MasterKey: the one key kept outside the database, and the subkeys derived from it.
//
// The master key is 32 random bytes in a file of its own (mode 0600, owned by the service
// account). It never encrypts data directly: each use gets its own subkey, derived with
// crypto_kdf_derive_from_key under the fixed context "custos01", so a leak of one subkey
// (say the blind-index key) reveals nothing about the others or the master key.
//
//   subkey id 1  WrapKey()         wraps the per-subject data keys (sealing.h)
//   subkey id 2  BlindIndexKey()   keys the identifier blind index (blind_index.h)
//   subkey id 3  SuppressionKey()  keys the suppression list hashes
//   subkey id 4  AuditChainKey()   keys the audit log's hash chain (hash_chain.h)
//   subkey id 5  CheckpointSigningKey()  the seed of the Ed25519 key signing audit checkpoints
//   subkey id 6  KeyId()           a public name of this key, recorded by the store so that a
//                                  data directory or database refuses any other key
//
// These ids and the context are a storage format: changing them makes existing data
// unreadable.
//
// Thread-safety: LoadOrCreate may race with itself, in this or other processes, on the same
// path; all callers end up with the same key. A MasterKey is immutable, so its const methods
// may be called concurrently.
#ifndef CUSTOS_CRYPTO_MASTER_KEY_H_
#define CUSTOS_CRYPTO_MASTER_KEY_H_

#include <string>

#include "common/status.h"
#include "crypto/key.h"
#include "crypto/signing_key.h"

namespace custos::crypto {

class MasterKey {
 public:
  // The exact size of a master key file: the raw key bytes, nothing else.
  static constexpr size_t kFileSize = SecretKey::kSize;

  // Reads the master key from `path`, or creates it there if no file exists yet.
  // Creation is atomic: a fresh key is written and fsync'd to a temporary file (mode 0600) in
  // the same directory, then hard-linked into place, so no reader ever sees a partial file;
  // if another process creates `path` first, this call reads and returns that key instead.
  // Returns:
  //   kKeyFile  the file exists but has group/other permission bits, is not a regular file,
  //             or is not exactly kFileSize bytes. The message names the path and the fix,
  //             never the key.
  //   kIo       the file or its directory cannot be read, created or synced (the message
  //             carries strerror), e.g. the directory does not exist.
  //   kCryptoFailure  libsodium cannot initialise.
  // REQUIRES: the parent directory of `path` exists.
  // Only `init` may create a key: every other open uses Load, so a mistyped path is an error,
  // never a fresh key.
  static Result<MasterKey> LoadOrCreate(const std::string& path);
  // Reads the master key from `path`; never creates one. Errors as LoadOrCreate, and
  // kNotInitialised when no file exists at `path` (the message names the path and says that
  // only init creates a key).
  static Result<MasterKey> Load(const std::string& path);

  // Wraps an existing key without touching the filesystem. Tests only.
  static MasterKey FromSecretForTesting(SecretKey secret);

  MasterKey(MasterKey&&) noexcept = default;
  MasterKey& operator=(MasterKey&&) noexcept = default;

  // Each returns a new copy of a derived subkey (see the table above); the caller owns it.
  // REQUIRES: this MasterKey has not been moved from.
  SecretKey WrapKey() const;
  SecretKey BlindIndexKey() const;
  SecretKey SuppressionKey() const;
  SecretKey AuditChainKey() const;
  SigningKey CheckpointSigningKey() const;
  // 32 lower-case hex characters naming this key; derived one way, so it reveals nothing of the
  // key and may be stored and printed.
  std::string KeyId() const;

 private:
  explicit MasterKey(SecretKey secret) : secret_(std::move(secret)) {}
  SecretKey Derive(uint64_t subkey_id) const;

  SecretKey secret_;
};

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_MASTER_KEY_H_
