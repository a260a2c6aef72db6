// AuditCheckpoint: a signed statement of the audit chain's head ("at <time>, the log of
// <controller>'s deployment ended at seq N with hash H"), so that what the chain alone cannot
// show is caught: a cut tail, or the whole database replaced by an older copy.
//
// The deployment signs with its Ed25519 key (MasterKey::CheckpointSigningKey, never in the
// database). An adapter keeps the latest checkpoint outside the database (deployment/
// checkpoint_file.h) and serves it with the public key, so a witness elsewhere can keep a copy
// and compare later. This file only builds, signs, parses and checks checkpoints; it does no
// I/O of its own beyond reading the store.
//
// Thread-safety: functions only; they touch the store through its thread-safe interface.
#ifndef CUSTOS_ENGINE_AUDIT_CHECKPOINT_H_
#define CUSTOS_ENGINE_AUDIT_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "crypto/signing_key.h"
#include "engine/audit_log.h"
#include "store/store.h"

namespace custos::engine {

struct AuditCheckpoint {
  std::string controller;  // the controller of the process that signed it
  int64_t seq = 0;         // the head it vouches for; 0: the log was empty
  store::Bytes hash;       // that entry's hash (empty when seq is 0)
  Timestamp at;            // when it was signed
  crypto::PublicKey public_key{};
  crypto::Signature signature{};
};

// The bytes signed: a version tag and the fields, each length-prefixed. A storage format.
std::string CheckpointMessage(const AuditCheckpoint& checkpoint);

// Fills public_key and signature of `checkpoint` with `key`.
void SignCheckpoint(const crypto::SigningKey& key, AuditCheckpoint& checkpoint);

// True when `checkpoint` is signed by `expected` (its own public_key field must also match).
bool CheckpointSignedBy(const AuditCheckpoint& checkpoint, const crypto::PublicKey& expected);

// One JSON object: {"controller", "seq", "hash" (hex), "at" (ISO-8601), "public_key" (hex),
// "signature" (hex)}, the form kept in the checkpoint file and served by the API.
std::string FormatCheckpoint(const AuditCheckpoint& checkpoint);
// Parses FormatCheckpoint's form. INVALID_ARGUMENT naming the field that is wrong.
Result<AuditCheckpoint> ParseCheckpoint(std::string_view text);

// Compares the stored chain (already checked by AuditLog::Verify into `verification`) with
// `checkpoint`, which must be signed by `expected`: a log ending before the checkpoint's seq is
// truncated (or an older copy), an entry at that seq with another hash was rolled back or
// rewritten. Sets verification.problem (and first_broken_seq) when it does not hold.
void CheckAgainstCheckpoint(store::Store& store, const AuditCheckpoint& checkpoint,
                            const crypto::PublicKey& expected, AuditVerification& verification);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_AUDIT_CHECKPOINT_H_
