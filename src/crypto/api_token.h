// API tokens: random bearer secrets that are stored only as a hash.
//
// A token reads "cst_<id>_<secret>": `id` (16 hex digits) names the token in logs, rate limits
// and listings; `secret` is 32 random bytes in hex. The server keeps only HashApiToken(token),
// so a stolen token file lets nobody call the API. Tokens carry 256 bits of entropy, so a
// fast unkeyed hash (BLAKE2b-256) is enough: there is nothing to brute-force.
// Thread-safety: reentrant.
#ifndef CUSTOS_CRYPTO_API_TOKEN_H_
#define CUSTOS_CRYPTO_API_TOKEN_H_

#include <optional>
#include <string>
#include <string_view>

namespace custos::crypto {

struct NewToken {
  std::string id;     // public
  std::string token;  // the whole bearer secret: shown once to whoever creates it, never stored
};

// A fresh token from the operating system's CSPRNG. Aborts if libsodium cannot initialise.
NewToken GenerateApiToken();

// The id inside a token (a view into `token`), or nullopt when `token` is not shaped like one.
std::optional<std::string_view> ApiTokenId(std::string_view token);

// BLAKE2b-256 of the token, in hex.
std::string HashApiToken(std::string_view token);

// Compares two hashes (hex), or two tokens, in constant time (for equal sizes).
bool ApiTokenHashesEqual(std::string_view a, std::string_view b);

}  // namespace custos::crypto

#endif  // CUSTOS_CRYPTO_API_TOKEN_H_
