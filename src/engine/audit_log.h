// AuditLog: the tamper-evident, append-only log of every decision, read and write.
//
// Each entry carries seq (1, 2, ...) and hash = ChainHash(prev_hash, canonical entry), so
// changing, removing or reordering any stored entry breaks the chain from that point on.
// Decisions are buffered (Record) and written by the next Commit or Flush; writes carry their
// own entries in the same transaction as the data (Commit), so no change lands unaudited.
// Thread-safety: safe for concurrent use; commits are serialised by an internal mutex so the
// chain order is the commit order. Several processes may share one database: audit seqs are
// unique in the store, so a commit from a stale head is refused whole, and Commit re-reads the
// head and chains the batch again (the chain stays linear; nothing is written twice).
#ifndef CUSTOS_ENGINE_AUDIT_LOG_H_
#define CUSTOS_ENGINE_AUDIT_LOG_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace custos::engine {

struct AuditEntry {
  std::string controller;
  Timestamp at;
  std::string actor, action, purpose, subject_id, detail;  // never personal values
};

struct AuditVerification {
  int64_t entries_checked = 0;
  std::optional<int64_t> first_broken_seq;  // nullopt: the chain is intact
  std::string problem;                      // what is wrong at first_broken_seq
};

class AuditLog {
 public:
  explicit AuditLog(store::Store& store) : store_(store) {}

  // Reads the head of the chain. REQUIRES: called once before any other method.
  Status Open();
  // Buffers an entry; it is chained and stored by the next Commit or Flush.
  void Record(AuditEntry entry);
  // Chains the buffered entries and `entries`, adds them to `batch`, applies it atomically.
  // When another process appended first, chains again from the new head and retries.
  // On failure nothing is stored and the buffered entries stay buffered.
  Result<store::AppliedIds> Commit(store::WriteBatch batch, std::vector<AuditEntry> entries);
  Status Flush() { return Commit({}, {}).status(); }
  size_t buffered() const;

  // Recomputes the whole chain from the store and names the first entry that does not fit.
  static Result<AuditVerification> Verify(store::Store& store);
  // The bytes hashed for one entry (length-prefixed fields, so no two entries collide).
  static std::string Canonical(const store::AuditRow& row);

 private:
  store::Store& store_;
  mutable std::mutex mutex_;
  int64_t last_seq_ = 0;
  store::Bytes last_hash_;
  std::vector<AuditEntry> buffer_;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_AUDIT_LOG_H_
