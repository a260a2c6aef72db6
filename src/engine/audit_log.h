// AuditLog: the tamper-evident, append-only log of every decision, read and write.
//
// Each entry carries seq (1, 2, ...) and hash = KeyedChainHash(chain key, prev_hash, canonical
// entry), so changing, removing or reordering any stored entry breaks the chain from that point
// on, and without the chain key (derived from the master key, never in the database) nobody can
// re-chain an edited log. Entries written before the database recorded its key (a store created
// by an older version: store::KeyBindingRow::chain_keyed_from) keep their unkeyed ChainHash;
// Verify checks them as such and reports how many there are. What the chain alone cannot show,
// a cut tail or an older copy of the whole database, a signed checkpoint of the head shows
// (audit_checkpoint.h).
// Writes carry their own entries in the same transaction as the data (Commit), so no change
// lands unaudited. A decision's entry is either recorded durably (RecordDurably: its caller
// waits until the entry is committed, sharing the commit with every other entry and batch
// waiting at that moment, so an answered decision is always audited) or buffered (Record:
// written by the next Commit or Flush, lost if the process dies first). RecordDurablyThen
// keeps RecordDurably's promise without a thread waiting per entry: its callback is called
// once the entry is committed, by a commit led on a runner the server provides.
//
// Group commit: concurrent Commit calls share one transaction. The first caller to find no
// commit running becomes the leader: it takes every call waiting at that moment, chains their
// entries in arrival order, and applies all their batches with one Store::ApplyGroup (one
// fsync); the others wait and return their own batch's ids. If the group fails, the leader
// retries each batch alone (re-chained), so one bad batch fails only its own caller. The chain
// order is the commit order, because only the leader chains and it holds the chain's head
// until the group is stored. Several processes may share one database: audit seqs are unique
// in the store, so a commit chained from a stale head is refused whole, and the leader re-reads
// the head and chains again (the chain stays one line; nothing is written twice).
// The log remembers which seqs it stored itself (as ranges, so one busy process keeps one
// range), so an engine reading the chain for other processes' writes can skip its own.
// Thread-safety: safe for concurrent use.
#ifndef CUSTOS_ENGINE_AUDIT_LOG_H_
#define CUSTOS_ENGINE_AUDIT_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/key.h"
#include "store/store.h"

namespace custos::engine {

struct AuditEntry {
  std::string controller;
  Timestamp at;
  std::string actor, action, purpose, subject_id, detail;  // never personal values
};

// How an engine records its decisions' audit entries.
enum class DecisionAudit {
  kDurable,   // a decision is answered only once its entry is committed (the default)
  kBuffered,  // a decision is answered at once; its entry is written by the next commit or
              // flush (a crash loses the entries not yet written)
};

struct AuditVerification {
  int64_t entries_checked = 0;
  std::optional<int64_t> first_broken_seq;  // the first entry that does not fit, if one
  std::string problem;                      // what is wrong (empty: intact); names the seq
  // Entries 1..unkeyed_entries were chained before the database recorded its key: their hashes
  // are unkeyed, so whoever could write the database could have rewritten them consistently.
  int64_t unkeyed_entries = 0;
  int64_t head_seq = 0;  // the last entry checked (0: none)
  store::Bytes head_hash;
  bool intact() const { return problem.empty(); }
};

class AuditLog {
 public:
  // `chain_key` keys the chain (MasterKey::AuditChainKey).
  AuditLog(store::Store& store, crypto::SecretKey chain_key)
      : store_(store), chain_key_(std::move(chain_key)) {}

  // Reads the head of the chain. REQUIRES: called once before any other method.
  Status Open();
  // Buffers an entry; it is chained and stored by the next Commit or Flush.
  void Record(AuditEntry&& entry);
  // Buffers an entry and returns once it is stored: the caller leads the next commit or waits
  // for the one that takes it (with every buffered entry and every waiting Commit, one
  // transaction). Errors: the store's (IO_ERROR, ...) when the commit that took the entry
  // failed; the entry then stays buffered and goes with a later commit.
  Status RecordDurably(AuditEntry entry);
  // RecordDurably without the wait: buffers the entry and returns at once; `stored` is called
  // once the commit that took the entry has ended, with OK or that commit's error, on the
  // thread that committed it and without the log's lock held. A commit for such entries is led
  // by a job handed to the runner (SetLeadRunner: a server's handler pool), so no thread sleeps
  // per entry: one leader commits whatever arrived meanwhile, then calls each `stored`. Without
  // a runner the caller leads and waits (as RecordDurably does) before `stored` is called.
  void RecordDurablyThen(AuditEntry entry, std::function<void(Status)> stored);
  // Where commits for RecordDurablyThen's entries are led: `run(job)` runs job soon on another
  // thread (or at once on the caller's, when it can no longer hand it on). Clear it (nullptr)
  // before whatever runs the jobs goes away. REQUIRES: no RecordDurablyThen call in flight.
  void SetLeadRunner(std::function<void(std::function<void()>)> run);
  // True when RecordDurablyThen returns without waiting for a commit (a lead runner is set).
  bool HoldsWithoutWaiting() const;
  // Chains `entries` (and any buffered decisions), adds them to `batch`, and applies it
  // atomically, sharing the transaction with concurrent callers (see above). Returns once the
  // batch is stored. On failure nothing of this batch is stored; buffered decisions that could
  // not be stored stay buffered for the next commit.
  Result<store::AppliedIds> Commit(store::WriteBatch batch, std::vector<AuditEntry> entries);
  Status Flush() { return Commit({}, {}).status(); }
  // Commit without the wait: `done` gets what Commit would return once the commit that took
  // the batch has ended, on the committing thread and without the log's lock (led as for
  // RecordDurablyThen). Without a lead runner the caller commits and waits, then `done` runs.
  void CommitThen(store::WriteBatch batch, std::vector<AuditEntry> entries,
                  std::function<void(Result<store::AppliedIds>)> done);
  size_t buffered() const;
  // OK unless buffered entries could not be stored by the last commit that took them and still
  // wait: then that commit's error (readiness reports it; the entries go with a later commit).
  Status Health() const;
  // The highest seq this log knows is stored: the head read by Open, or the last one it
  // stored or adopted since.
  int64_t head_seq() const;

  // A run of seqs this log stored, first..last inclusive.
  struct SeqRange {
    int64_t first = 0, last = 0;
  };
  // The runs of seqs this log stored that begin at or before `seq`, oldest first, and forgets
  // those that end there (a reader of the chain asks once per seq it reaches). Only the last
  // kMaxOwnRanges runs are kept: an older one dropped makes its entries look like another
  // writer's, which costs a reader a reload, never a missed change.
  std::vector<SeqRange> TakeOwnSeqsThrough(int64_t seq);
  // True when this log stored every seq in [first, last] (a reader need not read them).
  bool StoredAll(int64_t first, int64_t last) const;
  static constexpr size_t kMaxOwnRanges = 4096;

  struct Stats {
    int64_t commits = 0;  // Commit calls that stored their batch
    int64_t groups = 0;   // store transactions that carried them (fewer under concurrency)
  };
  Stats stats() const;
  // Waits until at least `n` Commit calls wait for a leader (tests use it to know a group has
  // formed); false when `limit` passes first.
  bool WaitUntilWaitingForTesting(size_t n, std::chrono::milliseconds limit) const {
    std::unique_lock lock(mutex_);
    return queued_.wait_for(lock, limit, [&] { return waiting_.size() >= n; });
  }

  // Recomputes the whole chain from the store and names the first entry that does not fit:
  // entries from the store's chain_keyed_from on (1 when no key is recorded) keyed with
  // `chain_key`, those before it unkeyed (counted in unkeyed_entries).
  static Result<AuditVerification> Verify(store::Store& store, const crypto::SecretKey& chain_key);
  // The bytes hashed for one entry (length-prefixed fields, so no two entries collide).
  static std::string Canonical(const store::AuditRow& row);
  static void AppendCanonical(const store::AuditRow& row, std::string& out);

 private:
  // A CommitThen call's batch and entries, and whom to tell.
  struct HeldCommit {
    store::WriteBatch batch;
    std::vector<AuditEntry> entries;
    std::function<void(Result<store::AppliedIds>)> done;
  };
  // One waiting Commit call; lives on its caller's stack until `result` is set. A CommitThen
  // call's lives on the heap, owns its batch (`held`) and is freed once `done` was called.
  struct Pending {
    store::WriteBatch* batch = nullptr;
    const std::vector<AuditEntry>* entries = nullptr;
    std::optional<Result<store::AppliedIds>> result;
    std::unique_ptr<HeldCommit> held;
  };
  // How often one commit re-chains after finding that another process appended first.
  static constexpr int kMaxHeadRetries = 64;
  // Commits every waiting call as one group. REQUIRES: `lock` holds mutex_, no leader active.
  void LeadGroup(std::unique_lock<std::mutex>& lock);
  // The lead runner's job: leads groups while RecordDurablyThen's entries wait and no other
  // leader runs.
  void LeadWaitingEntries();
  // Hands LeadWaitingEntries to the runner when entries without a waiting thread wait and
  // nobody leads or is about to. REQUIRES: `lock` holds mutex_ (released while handing on).
  void ScheduleLead(std::unique_lock<std::mutex>& lock);
  // Until `done()`: sleeps while a leader runs, or leads the group the caller joined.
  // REQUIRES: `lock` holds mutex_; the caller joined group `group` (next_group_ when it did).
  template <typename Done>
  void AwaitGroup(std::unique_lock<std::mutex>& lock, int64_t group, Done done) {
    while (!done()) {
      if (leading_) {
        turns_[group % 2].wait(lock);
      } else {
        LeadGroup(lock);
        ScheduleLead(lock);
      }
    }
  }
  // Appends `entries` to `batch` as chained rows after (seq, hash), advancing both.
  void Chain(const std::vector<AuditEntry>& entries, store::WriteBatch& batch, int64_t& seq,
             store::Bytes& hash) const;
  // Whether a refused batch may have lost the race for its first seq (then the head is read
  // again); any other failure is the batch's own.
  static bool MayBeTakenHead(const Status& status);
  // When the stored chain's head is past `seq` (another process appended), moves (seq, hash)
  // to it and returns true.
  bool AdoptNewerHead(int64_t& seq, store::Bytes& hash);
  // Remembers that this log stored first..last. REQUIRES: mutex_ held.
  void NoteOwnSeqs(int64_t first, int64_t last);

  store::Store& store_;
  const crypto::SecretKey chain_key_;
  mutable std::mutex mutex_;
  // Groups are numbered; a caller joins the group next_group_ names and sleeps on
  // turns_[group % 2]. A leader that finishes group g wakes only g's callers (all of them:
  // each has its result) and one caller of g + 1, to lead it. Waking everyone on every commit
  // cost more than the commits did under load: the woken callers of the next group fought for
  // mutex_ only to sleep again.
  std::condition_variable turns_[2];
  int64_t next_group_ = 0;
  mutable std::condition_variable queued_;  // a Commit call joined waiting_ (for tests)
  bool leading_ = false;                    // a leader is committing (chaining or in the store)
  std::deque<Pending*> waiting_;
  int64_t last_seq_ = 0;
  store::Bytes last_hash_;
  std::vector<AuditEntry> buffer_;
  // Every entry put in buffer_ gets the next number; buffer_ holds numbers
  // (buffered_through_ - buffer_.size(), buffered_through_] while no leader runs. A leader that
  // took the buffer through n moves stored_through_ to n, or on failure failed_through_ to n
  // with failure_ (the entries go back to the front of the buffer).
  int64_t buffered_through_ = 0;
  int64_t stored_through_ = 0;
  int64_t failed_through_ = 0;
  Status failure_;
  // RecordDurablyThen's callbacks by entry number, oldest first; `unled_` counts their entries
  // still in buffer_ and the CommitThen calls in waiting_ (no leader has taken them yet).
  std::deque<std::pair<int64_t, std::function<void(Status)>>> callbacks_;
  int64_t unled_ = 0;
  std::function<void(std::function<void()>)> lead_runner_;
  bool lead_scheduled_ = false;  // a LeadWaitingEntries job is with the runner or running
  Stats stats_;
  std::deque<SeqRange> own_seqs_;  // ascending, disjoint
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_AUDIT_LOG_H_
