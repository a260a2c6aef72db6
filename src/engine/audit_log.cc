#include "engine/audit_log.h"

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

void AuditLog::ChainInGroupCommit(store::GroupCommitter& committer) {
  committer_ = &committer;
  committer.SetSequencer(this);
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
  pending_seq_ = last_seq_;
  pending_hash_ = last_hash_;
  return Status::Ok();
}

void AuditLog::ChainRow(store::AuditRow& row, int64_t& seq, store::Bytes& hash) const {
  row.seq = ++seq;
  row.prev_hash = hash;
  crypto::Digest digest = crypto::ChainHash(hash, Canonical(row));
  row.hash.assign(digest.begin(), digest.end());
  hash = row.hash;
}

void AuditLog::Sequence(store::WriteBatch& batch) {
  std::lock_guard lock(mutex_);
  for (auto& op : batch.ops) {
    auto* row = std::get_if<store::AuditRow>(&op);
    // Every audit row of a submitted batch came from Commit() below; a batch retried after its
    // group failed is chained again from the committed head.
    if (row != nullptr) ChainRow(*row, pending_seq_, pending_hash_);
  }
}

void AuditLog::Committed() {
  std::lock_guard lock(mutex_);
  last_seq_ = pending_seq_;
  last_hash_ = pending_hash_;
}

void AuditLog::Abandoned() {
  std::lock_guard lock(mutex_);
  pending_seq_ = last_seq_;
  pending_hash_ = last_hash_;
}

void AuditLog::Record(AuditEntry entry) {
  std::lock_guard lock(mutex_);
  buffer_.push_back(std::move(entry));
}

size_t AuditLog::buffered() const {
  std::lock_guard lock(mutex_);
  return buffer_.size();
}

Result<store::AppliedIds> AuditLog::Commit(store::WriteBatch batch,
                                           std::vector<AuditEntry> entries) {
  auto row_of = [](const AuditEntry& entry) {
    store::AuditRow row;
    row.controller = entry.controller;
    row.at = entry.at;
    row.actor = entry.actor;
    row.action = entry.action;
    row.purpose = entry.purpose;
    row.subject_id = entry.subject_id;
    row.detail = entry.detail;
    return row;
  };
  if (committer_ != nullptr) {
    std::vector<AuditEntry> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(buffer_);
    }
    if (batch.empty() && entries.empty() && taken.empty()) return store::AppliedIds{};
    for (const auto& entry : taken) batch.Add(row_of(entry));
    for (const auto& entry : entries) batch.Add(row_of(entry));
    auto applied = committer_->Submit(std::move(batch));
    if (!applied.ok() && !taken.empty()) {
      std::lock_guard lock(mutex_);
      buffer_.insert(buffer_.begin(), std::make_move_iterator(taken.begin()),
                     std::make_move_iterator(taken.end()));
    }
    return applied;
  }
  std::lock_guard lock(mutex_);
  if (batch.empty() && entries.empty() && buffer_.empty()) return store::AppliedIds{};
  int64_t seq = last_seq_;
  store::Bytes hash = last_hash_;
  auto chain = [&](const AuditEntry& entry) {
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
  };
  for (const auto& entry : buffer_) chain(entry);
  for (const auto& entry : entries) chain(entry);
  auto applied = store_.Apply(batch);
  if (!applied.ok()) return applied.status();
  last_seq_ = seq;
  last_hash_ = std::move(hash);
  buffer_.clear();
  return applied;
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
