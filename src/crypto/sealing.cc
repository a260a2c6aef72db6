#include "crypto/sealing.h"

#include <sodium.h>

#include <array>

#include "crypto/internal.h"

namespace custos::crypto {

namespace {

constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kSealOverhead == 1 + kNonceSize + kTagSize);
static_assert(SecretKey::kSize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

// The version byte is authenticated by prefixing it to the caller's associated data.
std::vector<uint8_t> FullAssociatedData(std::string_view associated_data) {
  std::vector<uint8_t> ad;
  ad.reserve(1 + associated_data.size());
  ad.push_back(kSealFormatVersion);
  ad.insert(ad.end(), associated_data.begin(), associated_data.end());
  return ad;
}

Status OpenFailure() {
  return Status(ErrorCode::kCryptoFailure,
                "sealed value failed authentication (wrong key, wrong associated data, or "
                "altered)");
}

// Checks the envelope of `sealed` and decrypts it into `out`, which must have exactly
// sealed.size() - kSealOverhead bytes. On failure `out` is left zeroed.
Status OpenInto(const SecretKey& key, std::span<const uint8_t> sealed,
                std::string_view associated_data, std::span<uint8_t> out) {
  if (sealed.size() < kSealOverhead) {
    return Status(ErrorCode::kCryptoFailure, "sealed value is truncated");
  }
  if (sealed[0] != kSealFormatVersion) {
    return Status(ErrorCode::kCryptoFailure,
                  "sealed value has unknown format version " + std::to_string(sealed[0]));
  }
  if (Status s = InitSodium(); !s.ok()) return s;
  std::vector<uint8_t> ad = FullAssociatedData(associated_data);
  const uint8_t* nonce = sealed.data() + 1;
  std::span<const uint8_t> ciphertext = sealed.subspan(1 + kNonceSize);
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(), nonce,
                                                 key.bytes().data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return OpenFailure();
  }
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> Seal(const SecretKey& key, std::string_view plaintext,
                          std::string_view associated_data) {
  internal::InitSodiumOrDie();
  std::vector<uint8_t> ad = FullAssociatedData(associated_data);
  std::vector<uint8_t> sealed(kSealOverhead + plaintext.size());
  sealed[0] = kSealFormatVersion;
  uint8_t* nonce = sealed.data() + 1;
  randombytes_buf(nonce, kNonceSize);
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceSize, &ciphertext_len, reinterpret_cast<const uint8_t*>(plaintext.data()),
      plaintext.size(), ad.data(), ad.size(), nullptr, nonce, key.bytes().data());
  return sealed;
}

Result<std::string> Open(const SecretKey& key, std::span<const uint8_t> sealed,
                         std::string_view associated_data) {
  if (sealed.size() < kSealOverhead) {
    return Status(ErrorCode::kCryptoFailure, "sealed value is truncated");
  }
  std::string plaintext(sealed.size() - kSealOverhead, '\0');
  RETURN_IF_ERROR(
      OpenInto(key, sealed, associated_data,
               std::span<uint8_t>(reinterpret_cast<uint8_t*>(plaintext.data()), plaintext.size())));
  return plaintext;
}

std::vector<uint8_t> WrapDataKey(const MasterKey& master, const SecretKey& data_key,
                                 std::string_view associated_data) {
  std::span<const uint8_t> bytes = data_key.bytes();
  return Seal(master.WrapKey(),
              std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
              associated_data);
}

Result<SecretKey> UnwrapDataKey(const MasterKey& master, std::span<const uint8_t> wrapped,
                                std::string_view associated_data) {
  if (wrapped.size() != kSealOverhead + SecretKey::kSize) {
    return Status(ErrorCode::kCryptoFailure, "wrapped data key has the wrong length");
  }
  // Decrypt onto the stack rather than into a std::string, so the only copy outside guarded
  // memory is this buffer, which is wiped before returning.
  std::array<uint8_t, SecretKey::kSize> buf;
  RETURN_IF_ERROR(OpenInto(master.WrapKey(), wrapped, associated_data, buf));
  Result<SecretKey> key = SecretKey::FromBytes(buf);
  sodium_memzero(buf.data(), buf.size());
  return key;
}

}  // namespace custos::crypto
