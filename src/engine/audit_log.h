// AuditLog: the tamper-evident, append-only log of every decision, read and write.
//
// Each entry carries seq (1, 2, ...) and hash = ChainHash(prev_hash, canonical entry), so
// changing, removing or reordering any stored entry breaks the chain from that point on.
// Decisions are buffered (Record) and written by the next Commit or Flush; writes carry their
// own entries in the same transaction as the data (Commit), so no change lands unaudited.
// Thread-safety: safe for concurrent use. On a plain Store, commits are serialised by an
// internal mutex so the chain order is the commit order. Over a GroupCommitter
// (ChainInGroupCommit), writers do not wait for each other: entries go to the store unchained
// and the committer's writer thread chains them (Sequence) in the order they are committed, so
// many writers share one commit and the chain order is still the commit order.
#ifndef CUSTOS_ENGINE_AUDIT_LOG_H_
#define CUSTOS_ENGINE_AUDIT_LOG_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/group_commit.h"
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

class AuditLog final : public store::BatchSequencer {
 public:
  explicit AuditLog(store::Store& store) : store_(store) {}

  // Commits go through `committer` (which must wrap the store given to the constructor), and
  // the chain is completed on its writer thread. REQUIRES: called before Open(); `committer`
  // outlives this log.
  void ChainInGroupCommit(store::GroupCommitter& committer);

  // Reads the head of the chain. REQUIRES: called once before any other method but
  // ChainInGroupCommit.
  Status Open();
  // Buffers an entry; it is chained and stored by the next Commit or Flush.
  void Record(AuditEntry entry);
  // Chains the buffered entries and `entries`, adds them to `batch`, applies it atomically.
  // On failure nothing is stored and the buffered entries stay buffered.
  Result<store::AppliedIds> Commit(store::WriteBatch batch, std::vector<AuditEntry> entries);
  Status Flush() { return Commit({}, {}).status(); }
  size_t buffered() const;

  // store::BatchSequencer (the committer's writer thread only): chains the batch's audit rows
  // onto the pending head (again, when a batch is retried); Committed/Abandoned keep or drop
  // them.
  void Sequence(store::WriteBatch& batch) override;
  void Committed() override;
  void Abandoned() override;

  // Recomputes the whole chain from the store and names the first entry that does not fit.
  static Result<AuditVerification> Verify(store::Store& store);
  // The bytes hashed for one entry (length-prefixed fields, so no two entries collide).
  static std::string Canonical(const store::AuditRow& row);

 private:
  void ChainRow(store::AuditRow& row, int64_t& seq, store::Bytes& hash) const;

  store::Store& store_;
  store::GroupCommitter* committer_ = nullptr;
  mutable std::mutex mutex_;
  // Grouped mode: the head including sequenced but not yet committed batches (writer thread).
  int64_t pending_seq_ = 0;
  store::Bytes pending_hash_;
  int64_t last_seq_ = 0;
  store::Bytes last_hash_;
  std::vector<AuditEntry> buffer_;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_AUDIT_LOG_H_
