#include "crypto/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

namespace custos::crypto {

namespace {

// crypto_kdf context: exactly crypto_kdf_CONTEXTBYTES (8) characters. Part of the format.
constexpr char kKdfContext[] = "custos01";
static_assert(sizeof(kKdfContext) - 1 == crypto_kdf_CONTEXTBYTES);
static_assert(SecretKey::kSize == crypto_kdf_KEYBYTES);

constexpr uint64_t kWrapKeyId = 1;
constexpr uint64_t kBlindIndexKeyId = 2;
constexpr uint64_t kSuppressionKeyId = 3;
constexpr uint64_t kAuditChainKeyId = 4;
constexpr uint64_t kCheckpointSigningKeyId = 5;
constexpr uint64_t kKeyIdSubkeyId = 6;

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

// Closes the descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int Get() const { return fd_; }
  // Closes now and reports the error close() gives (it can carry a deferred write error).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<SecretKey> ReadKeyFrom(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return IoError("cannot stat master key file", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status(ErrorCode::kKeyFile, "master key file " + path +
                                           " is not a regular file; point custos at the key file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status(ErrorCode::kKeyFile,
                  "master key file " + path + " has mode " + ModeString(st.st_mode) +
                      ", which gives group or others access; restrict it to its "
                      "owner with: chmod 600 " +
                      path);
  }
  // Read one byte more than expected so a file that grew since fstat is still caught.
  std::array<uint8_t, MasterKey::kFileSize + 1> buf;
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      sodium_memzero(buf.data(), buf.size());
      return IoError("cannot read master key file", path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != MasterKey::kFileSize) {
    sodium_memzero(buf.data(), buf.size());
    // Never suggest deleting it: a new key would make every sealed value unreadable.
    return Status(
        ErrorCode::kKeyFile,
        "master key file " + path + " is " +
            (got > MasterKey::kFileSize ? "longer than" : std::to_string(got) + " bytes, not") +
            " " + std::to_string(MasterKey::kFileSize) +
            " bytes; it is damaged or not a custos master key: restore it from backup");
  }
  auto key = SecretKey::FromBytes(std::span<const uint8_t>(buf.data(), MasterKey::kFileSize));
  sodium_memzero(buf.data(), buf.size());
  return key;
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write master key file", path, errno);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// fsync the directory so the new link survives a crash, not only the file contents.
Status SyncParentDirectory(const std::string& path) {
  // Built in one initialisation: assigning "." to the emptied string afterwards trips g++ 12's
  // -Wrestrict false positive at -O3 (GCC bug 105329, in std::string::_M_replace).
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.Get() < 0) return IoError("cannot open directory", dir, errno);
  if (::fsync(fd.Get()) != 0) return IoError("cannot sync directory", dir, errno);
  return Status::Ok();
}

// Writes a fresh key to `path`. Returns the key, nullopt if another process created `path`
// first (the caller then reads theirs), or an error.
Result<std::optional<SecretKey>> CreateKeyFile(const std::string& path) {
  SecretKey key = SecretKey::Random();
  std::array<uint8_t, 8> suffix;
  randombytes_buf(suffix.data(), suffix.size());
  std::string tmp = path + ".tmp-";
  for (uint8_t b : suffix) {
    static constexpr char kHex[] = "0123456789abcdef";
    tmp += kHex[b >> 4];
    tmp += kHex[b & 0xf];
  }

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.Get() < 0) return IoError("cannot create master key file next to", path, errno);
  // From here on the temporary file must not outlive this call.
  auto fail = [&tmp](Status status) {
    ::unlink(tmp.c_str());
    return status;
  };
  // open() applied the umask, which may have removed owner bits; set 0600 exactly.
  if (::fchmod(fd.Get(), 0600) != 0) return fail(IoError("cannot chmod", tmp, errno));
  if (Status s = WriteAll(fd.Get(), key.bytes(), tmp); !s.ok()) return fail(s);
  if (::fsync(fd.Get()) != 0) return fail(IoError("cannot sync", tmp, errno));
  if (fd.Close() != 0) return fail(IoError("cannot close", tmp, errno));

  // link() never replaces an existing file, so exactly one racing creator wins, and `path`
  // only ever appears complete.
  int link_rc = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (link_rc != 0) {
    if (link_errno == EEXIST) return std::optional<SecretKey>();
    return IoError("cannot create master key file", path, link_errno);
  }
  RETURN_IF_ERROR(SyncParentDirectory(path));
  return std::optional<SecretKey>(std::move(key));
}

}  // namespace

Result<MasterKey> MasterKey::LoadOrCreate(const std::string& path) {
  RETURN_IF_ERROR(InitSodium());
  // Two rounds cover losing a creation race; a third would mean the winner's file vanished
  // again, which is not a race worth papering over.
  for (int round = 0; round < 2; ++round) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.Get() >= 0) {
      ASSIGN_OR_RETURN(SecretKey key, ReadKeyFrom(fd.Get(), path));
      return MasterKey(std::move(key));
    }
    if (errno != ENOENT) return IoError("cannot open master key file", path, errno);
    ASSIGN_OR_RETURN(std::optional<SecretKey> created, CreateKeyFile(path));
    if (created.has_value()) return MasterKey(std::move(*created));
  }
  return Status(ErrorCode::kIo,
                "master key file " + path + " was created by another process but then disappeared");
}

Result<MasterKey> MasterKey::Load(const std::string& path) {
  RETURN_IF_ERROR(InitSodium());
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.Get() < 0) {
    if (errno == ENOENT) {
      return Status(ErrorCode::kNotInitialised,
                    "master key file " + path +
                        " does not exist; only init creates a key: check --master-key, or "
                        "restore the key from backup");
    }
    return IoError("cannot open master key file", path, errno);
  }
  ASSIGN_OR_RETURN(SecretKey key, ReadKeyFrom(fd.Get(), path));
  return MasterKey(std::move(key));
}

MasterKey MasterKey::FromSecretForTesting(SecretKey secret) { return MasterKey(std::move(secret)); }

SecretKey MasterKey::Derive(uint64_t subkey_id) const {
  std::array<uint8_t, SecretKey::kSize> buf;
  // Only fails for out-of-range lengths, which the static_asserts above rule out.
  crypto_kdf_derive_from_key(buf.data(), buf.size(), subkey_id, kKdfContext,
                             secret_.bytes().data());
  Result<SecretKey> key = SecretKey::FromBytes(buf);
  sodium_memzero(buf.data(), buf.size());
  return std::move(key).value();
}

SecretKey MasterKey::WrapKey() const { return Derive(kWrapKeyId); }
SecretKey MasterKey::BlindIndexKey() const { return Derive(kBlindIndexKeyId); }
SecretKey MasterKey::SuppressionKey() const { return Derive(kSuppressionKeyId); }
SecretKey MasterKey::AuditChainKey() const { return Derive(kAuditChainKeyId); }

SigningKey MasterKey::CheckpointSigningKey() const {
  return SigningKey::FromSeed(Derive(kCheckpointSigningKeyId));
}

std::string MasterKey::KeyId() const {
  SecretKey derived = Derive(kKeyIdSubkeyId);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < 16; ++i) {
    uint8_t b = derived.bytes()[i];
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

}  // namespace custos::crypto
