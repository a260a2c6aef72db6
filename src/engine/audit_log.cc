#include "engine/audit_log.h"

#include <iterator>
#include <optional>

#include "crypto/hash_chain.h"

namespace custos::engine {

namespace {

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

store::Bytes GenesisHash() { return store::Bytes(32, 0); }

}  // namespace

std::string AuditLog::Canonical(const store::AuditRow& row) {
  std::string out;
  AppendField(out, std::to_string(row.seq));
  AppendField(out, row.controller);
  AppendField(out, std::to_string(row.at.micros));
  AppendField(out, row.actor);
  AppendField(out, row.action);
  AppendField(out, row.purpose);
  AppendField(out, row.subject_id);
  AppendField(out, row.detail);
  return out;
}

Status AuditLog::Open() {
  std::lock_guard lock(mutex_);
  auto last = store_.LastAudit();
  if (!last.ok()) return last.status();
  if (last->has_value()) {
    last_seq_ = (*last)->seq;
    last_hash_ = (*last)->hash;
  } else {
    last_seq_ = 0;
    last_hash_ = GenesisHash();
  }
  return Status::Ok();
}

void AuditLog::Record(AuditEntry entry) {
  std::lock_guard lock(mutex_);
  buffer_.push_back(std::move(entry));
}

size_t AuditLog::buffered() const {
  std::lock_guard lock(mutex_);
  return buffer_.size();
}

AuditLog::Stats AuditLog::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void AuditLog::Chain(const std::vector<AuditEntry>& entries, store::WriteBatch& batch, int64_t& seq,
                     store::Bytes& hash) {
  for (const auto& entry : entries) {
    store::AuditRow row;
    row.seq = ++seq;
    row.controller = entry.controller;
    row.at = entry.at;
    row.actor = entry.actor;
    row.action = entry.action;
    row.purpose = entry.purpose;
    row.subject_id = entry.subject_id;
    row.detail = entry.detail;
    row.prev_hash = hash;
    crypto::Digest digest = crypto::ChainHash(hash, Canonical(row));
    row.hash.assign(digest.begin(), digest.end());
    hash = row.hash;
    batch.Add(std::move(row));
  }
}

Result<store::AppliedIds> AuditLog::Commit(store::WriteBatch batch,
                                           std::vector<AuditEntry> entries) {
  std::unique_lock lock(mutex_);
  if (batch.empty() && entries.empty() && buffer_.empty()) return store::AppliedIds{};
  Pending me{&batch, &entries, std::nullopt};
  waiting_.push_back(&me);
  while (!me.result.has_value()) {
    if (leading_) {
      committed_.wait(lock);
    } else {
      LeadGroup(lock);
    }
  }
  return std::move(*me.result);
}

void AuditLog::LeadGroup(std::unique_lock<std::mutex>& lock) {
  leading_ = true;
  std::vector<Pending*> group(waiting_.begin(), waiting_.end());
  waiting_.clear();
  // Buffered decisions travel in a batch of their own, so a caller's failing batch cannot
  // take them down with it.
  std::vector<AuditEntry> decisions;
  decisions.swap(buffer_);
  int64_t seq = last_seq_;
  store::Bytes hash = last_hash_;
  lock.unlock();

  store::WriteBatch decision_batch;
  std::vector<size_t> own_ops;  // each caller's op count before its audit rows
  own_ops.reserve(group.size());
  std::vector<const store::WriteBatch*> batches;
  batches.reserve(group.size() + 1);
  Chain(decisions, decision_batch, seq, hash);
  if (!decision_batch.empty()) batches.push_back(&decision_batch);
  for (Pending* pending : group) {
    own_ops.push_back(pending->batch->ops.size());
    Chain(*pending->entries, *pending->batch, seq, hash);
    batches.push_back(pending->batch);
  }
  // Results are handed to their callers under the lock only (callers read them under it).
  std::vector<std::optional<Result<store::AppliedIds>>> results(group.size());
  auto applied = store_.ApplyGroup(batches);
  int64_t transactions = 1;
  if (applied.ok()) {
    size_t index = decision_batch.empty() ? 0 : 1;
    for (auto& result : results) result = std::move((*applied)[index++]);
  } else {
    // Someone's batch is bad: retry each alone, re-chained from the head stored so far.
    seq = last_seq_;
    hash = last_hash_;
    bool decisions_stored = decisions.empty();
    if (!decisions.empty()) {
      store::WriteBatch alone;
      int64_t next_seq = seq;
      store::Bytes next_hash = hash;
      Chain(decisions, alone, next_seq, next_hash);
      ++transactions;
      if (store_.Apply(alone).ok()) {
        seq = next_seq;
        hash = std::move(next_hash);
        decisions_stored = true;
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      Pending* pending = group[i];
      pending->batch->ops.resize(own_ops[i]);
      int64_t next_seq = seq;
      store::Bytes next_hash = hash;
      Chain(*pending->entries, *pending->batch, next_seq, next_hash);
      ++transactions;
      results[i] = store_.Apply(*pending->batch);
      if (results[i]->ok()) {
        seq = next_seq;
        hash = std::move(next_hash);
      }
    }
    if (!decisions_stored) {
      lock.lock();
      buffer_.insert(buffer_.begin(), std::make_move_iterator(decisions.begin()),
                     std::make_move_iterator(decisions.end()));
      lock.unlock();
    }
  }

  lock.lock();
  last_seq_ = seq;
  last_hash_ = std::move(hash);
  stats_.groups += transactions;
  for (size_t i = 0; i < group.size(); ++i) {
    stats_.commits += results[i]->ok() ? 1 : 0;
    group[i]->result = std::move(results[i]);
  }
  leading_ = false;
  committed_.notify_all();
}

Result<AuditVerification> AuditLog::Verify(store::Store& store) {
  AuditVerification result;
  store::Bytes expected_prev = GenesisHash();
  int64_t expected_seq = 1;
  Status scan = store.ScanAudit(1, [&](const store::AuditRow& row) {
    auto fail = [&](std::string problem) {
      result.first_broken_seq = row.seq;
      result.problem = std::move(problem);
      return false;
    };
    if (row.seq != expected_seq) {
      result.first_broken_seq = expected_seq;
      result.problem = "entry " + std::to_string(expected_seq) + " is missing";
      return false;
    }
    if (row.prev_hash != expected_prev) return fail("does not follow the entry before it");
    crypto::Digest digest = crypto::ChainHash(row.prev_hash, Canonical(row));
    if (!std::equal(digest.begin(), digest.end(), row.hash.begin(), row.hash.end())) {
      return fail("its content was changed after it was written");
    }
    expected_prev = row.hash;
    ++expected_seq;
    ++result.entries_checked;
    return true;
  });
  if (!scan.ok()) return scan;
  return result;
}

}  // namespace custos::engine
