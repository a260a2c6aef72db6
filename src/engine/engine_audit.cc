// Engine: signing and verifying the audit chain (audit_log.h, audit_checkpoint.h).
#include <optional>

#include "engine/engine.h"

namespace custos::engine {

crypto::PublicKey Engine::CheckpointPublicKey() const {
  return master_key_.CheckpointSigningKey().public_key();
}

Result<AuditCheckpoint> Engine::CheckpointAudit(const std::optional<AuditCheckpoint>& previous) {
  RETURN_IF_ERROR(audit_.Flush());
  ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, store_.LastAudit());
  crypto::SigningKey key = master_key_.CheckpointSigningKey();
  if (previous.has_value()) {
    AuditVerification held;
    if (head.has_value()) {
      held.head_seq = head->seq;
      held.head_hash = head->hash;
    }
    CheckAgainstCheckpoint(store_, *previous, key.public_key(), held);
    if (!held.intact()) {
      return Status(ErrorCode::kAuditBroken,
                    "no new checkpoint: " + held.problem + "; run 'custos audit verify'");
    }
  }
  AuditCheckpoint checkpoint;
  checkpoint.controller = controller_;
  checkpoint.at = clock_.Now();
  if (head.has_value()) {
    checkpoint.seq = head->seq;
    checkpoint.hash = head->hash;
  }
  SignCheckpoint(key, checkpoint);
  return checkpoint;
}

Result<AuditVerification> Engine::VerifyAudit(const std::optional<AuditCheckpoint>& latest) {
  RETURN_IF_ERROR(audit_.Flush());
  ASSIGN_OR_RETURN(AuditVerification verification,
                   AuditLog::Verify(store_, master_key_.AuditChainKey()));
  if (latest.has_value()) {
    CheckAgainstCheckpoint(store_, *latest, CheckpointPublicKey(), verification);
  }
  return verification;
}

}  // namespace custos::engine
