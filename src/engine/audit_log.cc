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

Result<store::AppliedIds> AuditLog::Commit(store::WriteBatch batch,
                                           std::vector<AuditEntry> entries) {
  std::lock_guard lock(mutex_);
  if (batch.empty() && entries.empty() && buffer_.empty()) return store::AppliedIds{};
  // Another process sharing the database (PostgreSQL, or SQLite from two processes) may have
  // appended since this log read its head. Then the first seq chained here is taken already,
  // the store refuses the whole batch (INVALID_ARGUMENT, nothing applied), and the batch is
  // chained again from the new head. The chain stays one line; the data is written once.
  constexpr int kMaxAttempts = 64;
  Status failure;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    store::WriteBatch chained = batch;
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
      chained.Add(std::move(row));
    };
    for (const auto& entry : buffer_) chain(entry);
    for (const auto& entry : entries) chain(entry);
    auto applied = store_.Apply(chained);
    if (applied.ok()) {
      last_seq_ = seq;
      last_hash_ = std::move(hash);
      buffer_.clear();
      return applied;
    }
    failure = applied.status();
    if (failure.code() != ErrorCode::kInvalidArgument || seq == last_seq_) break;
    // Refused: retry only when the head moved (someone else appended); otherwise the batch
    // itself is at fault and the error is the caller's.
    auto head = store_.LastAudit();
    if (!head.ok() || !head->has_value() || (*head)->seq <= last_seq_) break;
    last_seq_ = (*head)->seq;
    last_hash_ = (*head)->hash;
  }
  return failure;
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
