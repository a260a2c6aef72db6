// AuditLog: the tamper-evident, append-only log of every decision, read and write.
//
// Each entry carries seq (1, 2, ...) and hash = ChainHash(prev_hash, canonical entry), so
// changing, removing or reordering any stored entry breaks the chain from that point on.
// Decisions are buffered (Record) and written by the next Commit or Flush; writes carry their
// own entries in the same transaction as the data (Commit), so no change lands unaudited.
//
// Group commit: concurrent Commit calls share one transaction. The first caller to find no
// commit running becomes the leader: it takes every call waiting at that moment, chains their
// entries in arrival order, and applies all their batches with one Store::ApplyGroup (one
// fsync); the others wait and return their own batch's ids. If the group fails, the leader
// retries each batch alone (re-chained), so one bad batch fails only its own caller. The chain
// order is the commit order, because only the leader chains and it holds the chain's head
// until the group is stored.
// Thread-safety: safe for concurrent use.
#ifndef CUSTOS_ENGINE_AUDIT_LOG_H_
#define CUSTOS_ENGINE_AUDIT_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
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
  // Chains `entries` (and any buffered decisions), adds them to `batch`, and applies it
  // atomically, sharing the transaction with concurrent callers (see above). Returns once the
  // batch is stored. On failure nothing of this batch is stored; buffered decisions that could
  // not be stored stay buffered for the next commit.
  Result<store::AppliedIds> Commit(store::WriteBatch batch, std::vector<AuditEntry> entries);
  Status Flush() { return Commit({}, {}).status(); }
  size_t buffered() const;

  struct Stats {
    int64_t commits = 0;  // Commit calls that stored their batch
    int64_t groups = 0;   // store transactions that carried them (fewer under concurrency)
  };
  Stats stats() const;
  // Commit calls waiting for a leader (tests use it to know a group has formed).
  size_t waiting_for_testing() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

  // Recomputes the whole chain from the store and names the first entry that does not fit.
  static Result<AuditVerification> Verify(store::Store& store);
  // The bytes hashed for one entry (length-prefixed fields, so no two entries collide).
  static std::string Canonical(const store::AuditRow& row);

 private:
  // One waiting Commit call; lives on its caller's stack until `result` is set.
  struct Pending {
    store::WriteBatch* batch = nullptr;
    const std::vector<AuditEntry>* entries = nullptr;
    std::optional<Result<store::AppliedIds>> result;
  };
  // Commits every waiting call as one group. REQUIRES: `lock` holds mutex_, no leader active.
  void LeadGroup(std::unique_lock<std::mutex>& lock);
  // Appends `entries` to `batch` as chained rows after (seq, hash), advancing both.
  static void Chain(const std::vector<AuditEntry>& entries, store::WriteBatch& batch, int64_t& seq,
                    store::Bytes& hash);

  store::Store& store_;
  mutable std::mutex mutex_;
  std::condition_variable committed_;  // a group finished: waiting callers check their result
  bool leading_ = false;               // a leader is committing (chaining or in the store)
  std::deque<Pending*> waiting_;
  int64_t last_seq_ = 0;
  store::Bytes last_hash_;
  std::vector<AuditEntry> buffer_;
  Stats stats_;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_AUDIT_LOG_H_
