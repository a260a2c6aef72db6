// Private to src/crypto: helpers shared by the crypto .cc files. Not part of the API.
// Thread-safety: safe to call from any thread.
#ifndef CUSTOS_CRYPTO_INTERNAL_H_
#define CUSTOS_CRYPTO_INTERNAL_H_

namespace custos::crypto::internal {

// Initialises libsodium, or aborts the process if it cannot. For the functions that cannot
// return a Status (Seal, BlindIndex, ...): without libsodium there is no safe fallback.
void InitSodiumOrDie();

}  // namespace custos::crypto::internal

#endif  // CUSTOS_CRYPTO_INTERNAL_H_
