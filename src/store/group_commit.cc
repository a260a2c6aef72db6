#include "store/group_commit.h"

#include <algorithm>
#include <utility>

namespace custos::store {

GroupCommitter::GroupCommitter(Store& store, GroupCommitOptions options)
    : ForwardingStore(store), options_(options), writer_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_one();
  writer_.join();
  // Callers whose batches were just committed may still be waking up; they touch mutex_ and
  // done_ on their way out, so wait for the last one to leave.
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return callers_ == 0; });
}

Result<AppliedIds> GroupCommitter::Submit(WriteBatch batch) { return Apply(batch); }

Result<AppliedIds> GroupCommitter::Apply(const WriteBatch& batch) {
  if (batch.empty()) return AppliedIds{};
  Pending pending;
  pending.batch = &batch;
  std::unique_lock lock(mutex_);
  if (stopping_) return Status(ErrorCode::kInternal, "group commit: shutting down");
  ++callers_;
  queue_.push_back(&pending);
  work_.notify_one();
  done_.wait(lock, [&] { return pending.done; });
  --callers_;
  if (callers_ == 0 && stopping_) done_.notify_all();
  return std::move(*pending.result);
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

size_t GroupCommitter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void GroupCommitter::Run() {
  const size_t max_batches = std::max<size_t>(options_.max_batches, 1);
  std::vector<Pending*> group;
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    // Stop only once the queue is empty: batches submitted before shutdown are committed.
    if (queue_.empty()) return;
    size_t take = std::min(queue_.size(), max_batches);
    auto end = queue_.begin() + static_cast<std::ptrdiff_t>(take);
    group.assign(queue_.begin(), end);
    queue_.erase(queue_.begin(), end);
    lock.unlock();
    Commit(group);
    lock.lock();
    for (Pending* pending : group) pending->done = true;
    stats_.batches += static_cast<int64_t>(group.size());
    group.clear();
    done_.notify_all();
  }
}

void GroupCommitter::Commit(const std::vector<Pending*>& group) {
  int64_t commits = 0;
  int64_t retries = 0;
  if (group.size() == 1) {
    group.front()->result = base().Apply(*group.front()->batch);
    if (group.front()->result->ok()) ++commits;
  } else {
    std::vector<const WriteBatch*> batches;
    batches.reserve(group.size());
    for (const Pending* pending : group) batches.push_back(pending->batch);
    Result<std::vector<AppliedIds>> applied = base().ApplyGroup(batches);
    if (applied.ok()) {
      ++commits;
      for (size_t i = 0; i < group.size(); ++i) group[i]->result = std::move((*applied)[i]);
    } else {
      // A group is all or nothing: commit each batch alone so only the bad ones fail.
      for (Pending* pending : group) {
        pending->result = base().Apply(*pending->batch);
        ++retries;
        if (pending->result->ok()) ++commits;
      }
    }
  }
  std::lock_guard lock(mutex_);
  ++stats_.groups;
  stats_.commits += commits;
  stats_.retries += retries;
}

}  // namespace custos::store
