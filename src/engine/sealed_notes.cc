// Free text that staff type (a restriction's reason, a legal hold's reason, a suppression's
// reason) may name or describe a person, so it is sealed like any personal value: under the
// person's data key where there is a person (erasing them shreds it too), under the
// deployment's note key where there is none. A sealed note is stored in the same text column
// as before, as "sealed:" and the base64 of the sealed bytes, so neither backend changes
// schema. Rows written before notes were sealed hold plain text without that prefix: they are
// read as they are (and stay so until the row goes), never rewritten.
#include <sodium.h>

#include <cstring>

#include "crypto/sealing.h"
#include "engine/engine.h"

namespace custos::engine {

namespace {

constexpr std::string_view kSealedPrefix = "sealed:";
constexpr int kBase64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

}  // namespace

std::string Engine::SealNote(const crypto::SecretKey& key, std::string_view text,
                             const std::string& context) const {
  if (text.empty()) return "";
  std::vector<uint8_t> sealed = crypto::Seal(key, text, context + "/note");
  std::string out(kSealedPrefix);
  const size_t at = out.size();
  out.resize(at + sodium_base64_ENCODED_LEN(sealed.size(), kBase64));
  sodium_bin2base64(out.data() + at, out.size() - at, sealed.data(), sealed.size(), kBase64);
  out.resize(at + std::strlen(out.c_str() + at));  // less the terminating NUL it wrote
  return out;
}

Result<std::string> Engine::OpenNote(const crypto::SecretKey& key, const std::string& stored,
                                     const std::string& context) const {
  if (stored.compare(0, kSealedPrefix.size(), kSealedPrefix) != 0) return stored;  // older row
  const std::string_view text = std::string_view(stored).substr(kSealedPrefix.size());
  std::vector<uint8_t> sealed(text.size());
  size_t length = 0;
  if (sodium_base642bin(sealed.data(), sealed.size(), text.data(), text.size(), nullptr, &length,
                        nullptr, kBase64) != 0) {
    return Status(ErrorCode::kCryptoFailure, "a sealed note is not base64");
  }
  sealed.resize(length);
  return crypto::Open(key, sealed, context + "/note");
}

crypto::SecretKey Engine::NoteKey() const {
  // Notes that belong to no one person: a key derived from the controller and the master
  // key's wrap key, as endpoint secrets are (apart from them by its context).
  crypto::SecretKey wrap = master_key_.WrapKey();
  std::vector<uint8_t> derived(crypto::SecretKey::kSize);
  std::string context = "custos-note:" + controller_;
  crypto_generichash(derived.data(), derived.size(),
                     reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                     wrap.bytes().data(), wrap.bytes().size());
  auto key = crypto::SecretKey::FromBytes(derived);
  sodium_memzero(derived.data(), derived.size());
  return std::move(key).value();
}

}  // namespace custos::engine
