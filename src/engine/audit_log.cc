#include "engine/audit_log.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>

#include "crypto/hash_chain.h"

namespace custos::engine {

namespace {

void AppendField(std::string& out, std::string_view field) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, field.size()).ptr;
  out.append(digits, end);
  out += ':';
  out += field;
  out += ';';
}

void AppendNumber(std::string& out, int64_t number) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  AppendField(out, std::string_view(digits, end - digits));
}

store::Bytes GenesisHash() { return store::Bytes(32, 0); }

}  // namespace

std::string AuditLog::Canonical(const store::AuditRow& row) {
  std::string out;
  AppendCanonical(row, out);
  return out;
}

void AuditLog::AppendCanonical(const store::AuditRow& row, std::string& out) {
  AppendNumber(out, row.seq);
  AppendField(out, row.controller);
  AppendNumber(out, row.at.micros);
  AppendField(out, row.actor);
  AppendField(out, row.action);
  AppendField(out, row.purpose);
  AppendField(out, row.subject_id);
  AppendField(out, row.detail);
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

void AuditLog::Record(AuditEntry&& entry) {
  std::lock_guard lock(mutex_);
  buffer_.push_back(std::move(entry));
  ++buffered_through_;
}

Status AuditLog::RecordDurably(AuditEntry entry) {
  std::unique_lock lock(mutex_);
  buffer_.push_back(std::move(entry));
  const int64_t mine = ++buffered_through_;
  AwaitGroup(lock, next_group_, [&] { return stored_through_ >= mine || failed_through_ >= mine; });
  return stored_through_ >= mine ? Status::Ok() : failure_;
}

void AuditLog::RecordDurablyThen(AuditEntry entry, std::function<void(Status)> stored) {
  std::unique_lock lock(mutex_);
  if (!lead_runner_) {
    lock.unlock();
    stored(RecordDurably(std::move(entry)));
    return;
  }
  buffer_.push_back(std::move(entry));
  callbacks_.emplace_back(++buffered_through_, std::move(stored));
  ++unled_;
  ScheduleLead(lock);
}

void AuditLog::SetLeadRunner(std::function<void(std::function<void()>)> run) {
  std::lock_guard lock(mutex_);
  lead_runner_ = std::move(run);
}

void AuditLog::CommitThen(store::WriteBatch batch, std::vector<AuditEntry> entries,
                          std::function<void(Result<store::AppliedIds>)> done) {
  std::unique_lock lock(mutex_);
  if (!lead_runner_) {
    lock.unlock();
    done(Commit(std::move(batch), std::move(entries)));
    return;
  }
  auto* pending = new Pending();
  pending->held = std::make_unique<HeldCommit>(
      HeldCommit{std::move(batch), std::move(entries), std::move(done)});
  pending->batch = &pending->held->batch;
  pending->entries = &pending->held->entries;
  waiting_.push_back(pending);
  ++unled_;
  queued_.notify_all();
  ScheduleLead(lock);
}

bool AuditLog::HoldsWithoutWaiting() const {
  std::lock_guard lock(mutex_);
  return static_cast<bool>(lead_runner_);
}

void AuditLog::ScheduleLead(std::unique_lock<std::mutex>& lock) {
  if (unled_ == 0 || leading_ || lead_scheduled_ || !lead_runner_) return;
  lead_scheduled_ = true;
  auto run = lead_runner_;
  lock.unlock();
  run([this] { LeadWaitingEntries(); });
  lock.lock();
}

void AuditLog::LeadWaitingEntries() {
  std::unique_lock lock(mutex_);
  // A leader that is running now takes the entries, or leaves them to the next job it asks for.
  while (unled_ > 0 && !leading_) LeadGroup(lock);
  lead_scheduled_ = false;
}

size_t AuditLog::buffered() const {
  std::lock_guard lock(mutex_);
  return buffer_.size();
}

AuditLog::Stats AuditLog::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

int64_t AuditLog::head_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

void AuditLog::NoteOwnSeqs(int64_t first, int64_t last) {
  if (first > last) return;
  if (!own_seqs_.empty() && own_seqs_.back().last + 1 >= first) {
    own_seqs_.back().last = std::max(own_seqs_.back().last, last);
    return;
  }
  own_seqs_.push_back({first, last});
  if (own_seqs_.size() > kMaxOwnRanges) own_seqs_.pop_front();
}

std::vector<AuditLog::SeqRange> AuditLog::TakeOwnSeqsThrough(int64_t seq) {
  std::lock_guard lock(mutex_);
  std::vector<SeqRange> taken;
  for (const SeqRange& range : own_seqs_) {
    if (range.first > seq) break;
    taken.push_back(range);
  }
  while (!own_seqs_.empty() && own_seqs_.front().last <= seq) own_seqs_.pop_front();
  return taken;
}

bool AuditLog::StoredAll(int64_t first, int64_t last) const {
  if (first > last) return true;
  std::lock_guard lock(mutex_);
  // Runs are disjoint and a contiguous run is kept as one range (NoteOwnSeqs).
  return std::any_of(own_seqs_.begin(), own_seqs_.end(), [&](const SeqRange& range) {
    return range.first <= first && last <= range.last;
  });
}

void AuditLog::Chain(const std::vector<AuditEntry>& entries, store::WriteBatch& batch, int64_t& seq,
                     store::Bytes& hash) const {
  batch.ops.reserve(batch.ops.size() + entries.size());
  std::string canonical;  // one buffer for the whole run
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
    canonical.clear();
    AppendCanonical(row, canonical);
    crypto::Digest digest = crypto::KeyedChainHash(chain_key_, hash, canonical);
    row.hash.assign(digest.begin(), digest.end());
    hash = row.hash;
    batch.Add(std::move(row));
  }
}

Status AuditLog::Health() const {
  std::lock_guard lock(mutex_);
  if (failed_through_ > stored_through_) return failure_;
  return Status::Ok();
}

Result<store::AppliedIds> AuditLog::Commit(store::WriteBatch batch,
                                           std::vector<AuditEntry> entries) {
  std::unique_lock lock(mutex_);
  if (batch.empty() && entries.empty() && buffer_.empty()) return store::AppliedIds{};
  Pending me{&batch, &entries, std::nullopt, nullptr};
  waiting_.push_back(&me);
  queued_.notify_all();
  AwaitGroup(lock, next_group_, [&] { return me.result.has_value(); });
  return std::move(*me.result);
}

bool AuditLog::MayBeTakenHead(const Status& status) {
  return status.code() == ErrorCode::kConflict;
}

bool AuditLog::AdoptNewerHead(int64_t& seq, store::Bytes& hash) {
  auto head = store_.LastAudit();
  if (!head.ok() || !head->has_value() || (*head)->seq <= seq) return false;
  seq = (*head)->seq;
  hash = (*head)->hash;
  return true;
}

void AuditLog::LeadGroup(std::unique_lock<std::mutex>& lock) {
  leading_ = true;
  const int64_t number = next_group_++;
  std::vector<Pending*> group(waiting_.begin(), waiting_.end());
  waiting_.clear();
  // Buffered decisions travel in a batch of their own, so a caller's failing batch cannot
  // take them down with it.
  std::vector<AuditEntry> decisions;
  decisions.swap(buffer_);
  unled_ = 0;
  const int64_t decisions_through = buffered_through_;
  int64_t head_seq = last_seq_;
  store::Bytes head_hash = last_hash_;
  lock.unlock();

  std::vector<size_t> own_ops;  // each caller's op count before its audit rows
  own_ops.reserve(group.size());
  for (Pending* pending : group) own_ops.push_back(pending->batch->ops.size());
  // Chains `entries` onto `batch` (first cut back to `own` ops) from (seq, hash) and applies
  // it alone. Another process sharing the database (PostgreSQL, or SQLite opened twice) may
  // have appended since this log read its head: then the first seq is taken, the store
  // refuses the batch whole (CONFLICT), and it is chained again from the new head.
  // Any other refusal is the batch's own fault. On success (seq, hash) is the new head.
  std::vector<SeqRange> stored;  // the seqs this group wrote, noted under the lock at the end
  auto apply_alone = [&](store::WriteBatch& batch, size_t own,
                         const std::vector<AuditEntry>& entries, int64_t& seq,
                         store::Bytes& hash) -> Result<store::AppliedIds> {
    for (int attempt = 0;; ++attempt) {
      batch.ops.resize(own);
      int64_t next_seq = seq;
      store::Bytes next_hash = hash;
      Chain(entries, batch, next_seq, next_hash);
      auto applied = store_.Apply(batch);
      if (applied.ok()) {
        stored.push_back({seq + 1, next_seq});
        seq = next_seq;
        hash = std::move(next_hash);
        return applied;
      }
      if (!MayBeTakenHead(applied.status())) return applied;
      if (attempt + 1 >= kMaxHeadRetries || !AdoptNewerHead(seq, hash)) {
        // Another server kept appending first: the caller may retry, and hears nothing of the
        // database's words (they would reach an API client as a 409 naming a constraint).
        return Status(ErrorCode::kUnavailable,
                      "another server extended the audit chain at the same moment; retry");
      }
    }
  };

  // Results are handed to their callers under the lock only (callers read them under it).
  std::vector<std::optional<Result<store::AppliedIds>>> results(group.size());
  int64_t transactions = 0;
  bool grouped = false;
  store::WriteBatch decision_batch;
  for (int attempt = 0; attempt < kMaxHeadRetries; ++attempt) {
    int64_t seq = head_seq;
    store::Bytes hash = head_hash;
    decision_batch.ops.clear();
    Chain(decisions, decision_batch, seq, hash);
    std::vector<const store::WriteBatch*> batches;
    batches.reserve(group.size() + 1);
    if (!decision_batch.empty()) batches.push_back(&decision_batch);
    for (size_t i = 0; i < group.size(); ++i) {
      group[i]->batch->ops.resize(own_ops[i]);
      Chain(*group[i]->entries, *group[i]->batch, seq, hash);
      batches.push_back(group[i]->batch);
    }
    ++transactions;
    auto applied = store_.ApplyGroup(batches);
    if (applied.ok()) {
      size_t index = decision_batch.empty() ? 0 : 1;
      for (auto& result : results) result = std::move((*applied)[index++]);
      stored.push_back({head_seq + 1, seq});
      head_seq = seq;
      head_hash = std::move(hash);
      grouped = true;
      break;
    }
    if (!MayBeTakenHead(applied.status()) || !AdoptNewerHead(head_seq, head_hash)) {
      break;
    }
  }
  bool decisions_stored = grouped || decisions.empty();
  Status decisions_failure;
  if (!grouped) {
    // Someone's batch is bad: each is retried alone, so it fails only its own caller.
    if (!decisions.empty()) {
      ++transactions;
      auto alone = apply_alone(decision_batch, 0, decisions, head_seq, head_hash);
      decisions_stored = alone.ok();
      if (!decisions_stored) decisions_failure = alone.status();
    }
    for (size_t i = 0; i < group.size(); ++i) {
      ++transactions;
      results[i] =
          apply_alone(*group[i]->batch, own_ops[i], *group[i]->entries, head_seq, head_hash);
    }
  }

  if (decisions_stored) decisions.clear();  // keeps its capacity for the next decisions
  lock.lock();
  if (!decisions_stored) {
    buffer_.insert(buffer_.begin(), std::make_move_iterator(decisions.begin()),
                   std::make_move_iterator(decisions.end()));
    failed_through_ = decisions_through;
    failure_ = std::move(decisions_failure);
  } else {
    stored_through_ = decisions_through;
    if (buffer_.empty()) buffer_.swap(decisions);  // no regrowing (and page faults) at every flush
  }
  last_seq_ = head_seq;
  last_hash_ = std::move(head_hash);
  for (const SeqRange& range : stored) NoteOwnSeqs(range.first, range.last);
  stats_.groups += transactions;
  std::vector<std::unique_ptr<Pending>> held;  // CommitThen calls: told below, then freed
  for (size_t i = 0; i < group.size(); ++i) {
    stats_.commits += results[i]->ok() ? 1 : 0;
    group[i]->result = std::move(results[i]);
    if (group[i]->held) held.emplace_back(group[i]);
  }
  leading_ = false;
  turns_[number % 2].notify_all();
  turns_[(number + 1) % 2].notify_one();
  // The callbacks of this group's entries are called without the lock: the next group may
  // start meanwhile.
  std::vector<std::pair<Status, std::function<void(Status)>>> answers;
  while (!callbacks_.empty() && callbacks_.front().first <= decisions_through) {
    answers.emplace_back(decisions_stored ? Status::Ok() : failure_,
                         std::move(callbacks_.front().second));
    callbacks_.pop_front();
  }
  if (answers.empty() && held.empty()) return;
  lock.unlock();
  for (auto& pending : held) pending->held->done(std::move(*pending->result));
  for (auto& [status, stored] : answers) stored(status);
  held.clear();
  lock.lock();
}

Result<AuditVerification> AuditLog::Verify(store::Store& store,
                                           const crypto::SecretKey& chain_key) {
  AuditVerification result;
  ASSIGN_OR_RETURN(std::optional<store::KeyBindingRow> binding, store.GetKeyBinding());
  const int64_t keyed_from = binding.has_value() ? binding->chain_keyed_from : 1;
  store::Bytes expected_prev = GenesisHash();
  int64_t expected_seq = 1;
  Status scan = store.ScanAudit(1, [&](const store::AuditRow& row) {
    auto fail = [&](std::string problem) {
      result.first_broken_seq = row.seq;
      result.problem = std::move(problem);
      return false;
    };
    const std::string entry = "entry " + std::to_string(row.seq) + " ";
    if (row.seq != expected_seq) {
      result.first_broken_seq = expected_seq;
      result.problem = "entry " + std::to_string(expected_seq) + " is missing";
      return false;
    }
    if (row.prev_hash != expected_prev) return fail(entry + "does not follow the entry before it");
    const bool keyed = row.seq >= keyed_from;
    crypto::Digest digest = keyed ? crypto::KeyedChainHash(chain_key, row.prev_hash, Canonical(row))
                                  : crypto::ChainHash(row.prev_hash, Canonical(row));
    if (!std::equal(digest.begin(), digest.end(), row.hash.begin(), row.hash.end())) {
      return fail(entry + "was changed after it was written (its hash does not match its content" +
                  (keyed ? " under this deployment's key)" : ")"));
    }
    expected_prev = row.hash;
    ++expected_seq;
    ++result.entries_checked;
    if (!keyed) result.unkeyed_entries = row.seq;
    result.head_seq = row.seq;
    return true;
  });
  if (!scan.ok()) return scan;
  if (result.head_seq > 0) result.head_hash = expected_prev;
  return result;
}

}  // namespace custos::engine
