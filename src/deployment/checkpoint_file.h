// The latest signed audit checkpoint (engine/audit_checkpoint.h), kept outside the database in
// a file beside the master key (`<master key path>.checkpoint`, mode 0600), replaced
// atomically. Written after every CLI command that appended to the audit log, by
// `custos audit checkpoint`, and by `custos serve` every minute and at shutdown; read by
// `audit verify` (CLI and API) and served by GET /v1/audit/checkpoint.
//
// Thread-safety: functions only. Several processes may publish at once (PostgreSQL): each
// writes a complete file (rename), and a checkpoint never replaces one vouching for a later seq.
#ifndef CUSTOS_DEPLOYMENT_CHECKPOINT_FILE_H_
#define CUSTOS_DEPLOYMENT_CHECKPOINT_FILE_H_

#include <optional>
#include <string>

#include "common/status.h"
#include "engine/audit_checkpoint.h"
#include "engine/engine.h"

namespace custos::deployment {

// The checkpoint kept at `path`, or nullopt when no file exists yet. IO_ERROR when it cannot be
// read; AUDIT_CHAIN_BROKEN when it is not a checkpoint (it was damaged or replaced).
Result<std::optional<engine::AuditCheckpoint>> ReadCheckpointFile(const std::string& path);

// Writes `checkpoint` to `path` through a temporary file, fsync and rename (then fsyncs the
// directory), unless the file already holds a checkpoint of a later seq. IO_ERROR.
Status WriteCheckpointFile(const std::string& path, const engine::AuditCheckpoint& checkpoint);

// Reads the kept checkpoint, has the engine sign the current head (refused with
// AUDIT_CHAIN_BROKEN when the chain no longer holds the kept one: the file is then left as it
// is, as evidence) and writes it. Returns the new checkpoint.
Result<engine::AuditCheckpoint> PublishCheckpoint(engine::Engine& engine, const std::string& path);

// Verifies the engine's keyed chain and the chain against the checkpoint kept at `path` (when
// there is one).
Result<engine::AuditVerification> VerifyAudit(engine::Engine& engine, const std::string& path);

}  // namespace custos::deployment

#endif  // CUSTOS_DEPLOYMENT_CHECKPOINT_FILE_H_
