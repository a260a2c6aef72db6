// GroupCommitter: many concurrent writers share one commit. Each caller of Submit() blocks
// until its batch is committed; one background thread takes every batch waiting at that moment
// (up to max_batches) and commits them with a single Store::ApplyGroup(), so N requests cost one
// transaction and one fsync instead of N. When a group fails, each of its batches is retried
// alone, so one bad batch fails only its own caller.
//
// GroupCommitter is itself a Store: Apply() goes through the group (the same as Submit()),
// everything else is passed straight to the wrapped store. Hand it to the engine to give every
// request group commit.
//
// Thread-safety: safe to call from many threads at once. The destructor commits every batch
// already submitted, waits for their callers to return, then stops the thread; a Submit() that
// arrives once destruction has begun fails with INTERNAL.
// PII: batches hold sealed values and keyed hashes only (see rows.h); nothing is logged.
#ifndef CUSTOS_STORE_GROUP_COMMIT_H_
#define CUSTOS_STORE_GROUP_COMMIT_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/forwarding_store.h"
#include "store/store.h"

namespace custos::store {

struct GroupCommitOptions {
  size_t max_batches = 1024;  // most batches in one commit (at least 1)
};

class GroupCommitter final : public ForwardingStore {
 public:
  struct Stats {
    int64_t batches = 0;  // batches finished (committed or failed)
    int64_t groups = 0;   // groups taken from the queue, each one Apply/ApplyGroup call
    int64_t commits = 0;  // successful transactions: groups plus batches retried alone
    int64_t retries = 0;  // batches retried alone after their group failed
  };

  // Starts the writer thread. REQUIRES: `store` outlives this object.
  explicit GroupCommitter(Store& store, GroupCommitOptions options = {});
  ~GroupCommitter() override;
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Commits `batch` together with the other batches waiting, and returns its ids once it is
  // committed (as durable as the wrapped store makes a commit). Errors are the wrapped store's
  // for this batch alone: INVALID_ARGUMENT for a row that breaks a constraint (nothing of the
  // batch applied), IO_ERROR for storage failures; INTERNAL when shutting down.
  // An empty batch returns at once with no ids.
  Result<AppliedIds> Submit(WriteBatch batch);

  // Counters since construction.
  Stats stats() const;
  // Batches waiting for the writer thread (not yet taken into a group).
  size_t queued() const;

  // Store: the same as Submit(), without moving the batch.
  Result<AppliedIds> Apply(const WriteBatch& batch) override;

 private:
  // One waiting caller. Lives on the caller's stack; the caller blocks until `done`.
  struct Pending {
    const WriteBatch* batch = nullptr;
    std::optional<Result<AppliedIds>> result;
    bool done = false;
  };

  void Run();
  // Commits `group` (called without the lock) and fills in every result.
  void Commit(const std::vector<Pending*>& group);

  const GroupCommitOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_;  // the writer waits for batches or stopping_
  std::condition_variable done_;  // callers wait for their `done`; the destructor for callers_
  std::deque<Pending*> queue_;
  int callers_ = 0;  // callers inside Apply()
  bool stopping_ = false;
  Stats stats_;

  std::thread writer_;  // last: starts once every other member is ready
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_GROUP_COMMIT_H_
