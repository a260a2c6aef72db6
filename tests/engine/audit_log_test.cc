// AuditLog over a real SqliteStore: concurrent commits share one transaction, the chain stays
// whole and in commit order, and one bad batch fails only its own caller.
#include "engine/audit_log.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../store/temp_dir.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

// Holds the first write at a gate until `writers` more callers are waiting behind it, so the
// test knows a group has formed, however slowly the threads run; counts the store calls.
// The chain's key (in a deployment, MasterKey::AuditChainKey); any fixed key will do here.
crypto::SecretKey ChainKey() {
  std::array<uint8_t, crypto::SecretKey::kSize> bytes;
  bytes.fill(9);
  return crypto::SecretKey::FromBytes(bytes).value();
}

class HoldFirstWrite : public store::ForwardingStore {
 public:
  HoldFirstWrite(store::Store& base, AuditLog*& log, size_t writers)
      : ForwardingStore(base), log_(log), writers_(writers) {}

  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    {
      std::lock_guard lock(mutex_);
      group_sizes.push_back(batches.size());
    }
    if (first_) {
      first_ = false;
      // The others queue in AuditLog::Commit while this (leader's) write is held.
      // The bound only ends a test that is broken; the writers queue within microseconds.
      EXPECT_TRUE(log_->WaitUntilWaitingForTesting(writers_, std::chrono::seconds(120)));
    }
    return ForwardingStore::ApplyGroup(batches);
  }

  std::vector<size_t> group_sizes;

 private:
  AuditLog*& log_;
  size_t writers_;
  bool first_ = true;  // only the leader thread calls ApplyGroup
  std::mutex mutex_;
};

store::WriteBatch NewSubject(const std::string& id) {
  store::WriteBatch batch;
  store::SubjectRow row;
  row.controller = "wig";
  row.subject_id = id;
  row.types = {"member"};
  row.created_at = Timestamp::FromUnixSeconds(1'700'000'000);
  row.wrapped_key = store::Bytes(40, 7);
  batch.Add(std::move(row));
  return batch;
}

AuditEntry Entry(const std::string& subject, const std::string& action) {
  AuditEntry entry;
  entry.controller = "wig";
  entry.at = Timestamp::FromUnixSeconds(1'700'000'000);
  entry.actor = "test";
  entry.action = action;
  entry.subject_id = subject;
  return entry;
}

class AuditLogTest : public testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.data_dir = dir_.path();
    auto opened = store::SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    sqlite_ = std::move(*opened);
    store::WriteBatch controller;
    controller.Add(store::ControllerRow{"wig", "test", "1", "", Timestamp::FromUnixSeconds(0)});
    ASSERT_TRUE(sqlite_->Apply(controller).ok());
  }

  store::TempDir dir_;
  std::unique_ptr<store::SqliteStore> sqlite_;
};

// "Durable writes from many concurrent requests are grouped into shared commits."
TEST_F(AuditLogTest, ConcurrentCommitsShareOneTransactionAndKeepTheChainWhole) {
  constexpr size_t kWriters = 16;
  AuditLog* log_ptr = nullptr;
  HoldFirstWrite gated(*sqlite_, log_ptr, kWriters - 1);
  AuditLog log(gated, ChainKey());
  log_ptr = &log;
  ASSERT_TRUE(log.Open().ok());
  log.Record(Entry("", "decide"));  // a buffered decision rides along

  std::vector<std::thread> threads;
  std::vector<bool> ok(kWriters, false);
  for (size_t i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      std::string id = "s" + std::to_string(i);
      ok[i] = log.Commit(NewSubject(id), {Entry(id, "subject_add")}).ok();
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t i = 0; i < kWriters; ++i) EXPECT_TRUE(ok[i]) << i;

  AuditLog::Stats stats = log.stats();
  EXPECT_EQ(stats.commits, static_cast<int64_t>(kWriters));
  EXPECT_LT(stats.groups, static_cast<int64_t>(kWriters));
  ASSERT_GE(gated.group_sizes.size(), 2u);
  // The held leader committed alone (with the decision); the other fifteen shared one commit.
  EXPECT_EQ(gated.group_sizes[1], kWriters - 1);

  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, static_cast<int64_t>(kWriters) + 1);
  auto count = sqlite_->CountSubjects("wig");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, static_cast<int64_t>(kWriters));
}

TEST_F(AuditLogTest, ABadBatchFailsOnlyItsCallerAndLeavesNoGapInTheChain) {
  constexpr size_t kWriters = 8;
  AuditLog* log_ptr = nullptr;
  HoldFirstWrite gated(*sqlite_, log_ptr, kWriters - 1);
  AuditLog log(gated, ChainKey());
  log_ptr = &log;
  ASSERT_TRUE(log.Open().ok());

  std::vector<std::thread> threads;
  std::vector<Status> results(kWriters);
  for (size_t i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      // Writer 5 adds a subject that writer 0 adds too: a primary-key clash.
      std::string id = "s" + std::to_string(i == 5 ? 0 : i);
      results[i] = log.Commit(NewSubject(id), {Entry(id, "subject_add")}).status();
    });
  }
  for (auto& thread : threads) thread.join();

  int failed = 0;
  for (const Status& status : results) failed += status.ok() ? 0 : 1;
  EXPECT_EQ(failed, 1);  // whichever of writers 0 and 5 came second
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, static_cast<int64_t>(kWriters) - 1);
}

TEST_F(AuditLogTest, BufferedDecisionsSurviveAFailedCommit) {
  AuditLog log(*sqlite_, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Commit(NewSubject("s1"), {Entry("s1", "subject_add")}).ok());
  log.Record(Entry("s1", "decide"));
  EXPECT_FALSE(log.Commit(NewSubject("s1"), {Entry("s1", "subject_add")}).ok());
  ASSERT_TRUE(log.Flush().ok());
  EXPECT_EQ(log.buffered(), 0u);
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, 2);  // subject_add and the decision, nothing of the clash
}

// Two processes over one database (PostgreSQL, or SQLite opened twice): each log read the head
// when it opened; the second to commit finds its seq taken and chains again from the new head.
TEST_F(AuditLogTest, ALogWhoseHeadIsStaleChainsAgainFromTheStoredHead) {
  AuditLog first(*sqlite_, ChainKey());
  AuditLog second(*sqlite_, ChainKey());
  ASSERT_TRUE(first.Open().ok());
  ASSERT_TRUE(second.Open().ok());
  ASSERT_TRUE(first.Commit(NewSubject("s1"), {Entry("s1", "subject_add")}).ok());
  second.Record(Entry("s1", "decide"));
  auto applied = second.Commit(NewSubject("s2"), {Entry("s2", "subject_add")});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_TRUE(first.Commit(NewSubject("s3"), {Entry("s3", "subject_add")}).ok());
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, 4);  // three subjects and the decision, each once
  auto count = sqlite_->CountSubjects("wig");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);
}

// A store whose writes fail while `failing` is set, as a full or lost disk would.
class FailingWrites : public store::ForwardingStore {
 public:
  explicit FailingWrites(store::Store& base) : ForwardingStore(base) {}
  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    if (failing) return Status(ErrorCode::kIo, "disk gone");
    return ForwardingStore::Apply(batch);
  }
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    if (failing) return Status(ErrorCode::kIo, "disk gone");
    return ForwardingStore::ApplyGroup(batches);
  }
  std::atomic<bool> failing{false};
};

int64_t StoredDecisions(store::Store& store) {
  int64_t decisions = 0;
  EXPECT_TRUE(store
                  .ScanAudit(1,
                             [&](const store::AuditRow& row) {
                               decisions += row.action == "decide" ? 1 : 0;
                               return true;
                             })
                  .ok());
  return decisions;
}

// A durably recorded entry is in the store when the call returns: nothing waits in memory.
TEST_F(AuditLogTest, ADurableEntryIsStoredWhenTheCallReturns) {
  AuditLog log(*sqlite_, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  log.Record(Entry("", "lookup"));  // an entry buffered earlier goes with it
  ASSERT_TRUE(log.RecordDurably(Entry("s1", "decide")).ok());
  EXPECT_EQ(log.buffered(), 0u);
  auto head = sqlite_->LastAudit();
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->seq, 2);
  EXPECT_EQ((*head)->action, "decide");
  EXPECT_EQ(StoredDecisions(*sqlite_), 1);
}

// Many threads deciding at once share commits: every entry is stored before its caller returns,
// in fewer transactions than entries, and the chain stays whole.
TEST_F(AuditLogTest, ConcurrentDurableEntriesShareCommits) {
  constexpr int kThreads = 16, kEach = 40;
  AuditLog log(*sqlite_, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  std::atomic<int> failed{0}, missing{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!log.RecordDurably(Entry("s" + std::to_string(t), "decide")).ok()) ++failed;
        // What this caller acknowledged is already counted by the log's head.
        if (log.head_seq() < i + 1) ++missing;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(missing.load(), 0);
  EXPECT_EQ(StoredDecisions(*sqlite_), kThreads * kEach);
  EXPECT_LE(log.stats().groups, static_cast<int64_t>(kThreads) * kEach);
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, kThreads * kEach);
}

// Fail closed: when the entry cannot be stored the caller hears so (and gives no decision);
// the entry stays buffered and is written once the store works again.
TEST_F(AuditLogTest, ADurableEntryThatCannotBeStoredFailsItsCaller) {
  FailingWrites store(*sqlite_);
  AuditLog log(store, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  store.failing = true;
  Status refused = log.RecordDurably(Entry("s1", "decide"));
  EXPECT_EQ(refused.code(), ErrorCode::kIo);
  EXPECT_EQ(StoredDecisions(*sqlite_), 0);
  EXPECT_EQ(log.buffered(), 1u);
  store.failing = false;
  ASSERT_TRUE(log.RecordDurably(Entry("s2", "decide")).ok());
  EXPECT_EQ(StoredDecisions(*sqlite_), 2);
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
}

// Runs each lead job on a thread of its own, as a server's handler pool would on one of its.
class ThreadRunner {
 public:
  void Run(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    ++jobs;
    threads_.emplace_back(std::move(job));
  }
  // Joins every job, including those started by jobs being joined.
  void Join() {
    for (;;) {
      std::vector<std::thread> threads;
      {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
      }
      if (threads.empty()) return;
      for (auto& thread : threads) thread.join();
    }
  }
  std::atomic<int> jobs{0};

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

bool AuditHasSubject(store::Store& store, const std::string& subject) {
  bool found = false;
  EXPECT_TRUE(store
                  .ScanAudit(1,
                             [&](const store::AuditRow& row) {
                               found = found || row.subject_id == subject;
                               return !found;
                             })
                  .ok());
  return found;
}

// A held decision (the server answers it without a thread waiting) is answered only once its
// entry is in the store, and held entries share commits led by the runner's jobs.
TEST_F(AuditLogTest, AHeldEntryIsAnsweredOnlyOnceStoredAndHeldEntriesShareCommits) {
  constexpr int kThreads = 4, kEach = 50;
  AuditLog log(*sqlite_, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  ThreadRunner runner;
  log.SetLeadRunner([&runner](std::function<void()> job) { runner.Run(std::move(job)); });
  std::atomic<int> answered{0}, failed{0}, unstored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string subject = "h" + std::to_string(t) + "_" + std::to_string(i);
        log.RecordDurablyThen(Entry(subject, "decide"), [&, subject](Status stored) {
          if (!stored.ok()) ++failed;
          if (!AuditHasSubject(*sqlite_, subject)) ++unstored;
          ++answered;
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  runner.Join();
  log.SetLeadRunner(nullptr);
  EXPECT_EQ(answered.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(unstored.load(), 0);
  EXPECT_EQ(StoredDecisions(*sqlite_), kThreads * kEach);
  EXPECT_EQ(log.buffered(), 0u);
  EXPECT_GE(runner.jobs.load(), 1);
  EXPECT_LE(runner.jobs.load(), kThreads * kEach);
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
}

// Fail closed when held, too: the answer is the store's error, and the entry is written later.
TEST_F(AuditLogTest, AHeldEntryThatCannotBeStoredIsAnsweredWithTheError) {
  FailingWrites store(*sqlite_);
  AuditLog log(store, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  ThreadRunner runner;
  log.SetLeadRunner([&runner](std::function<void()> job) { runner.Run(std::move(job)); });
  store.failing = true;
  std::optional<Status> outcome;
  log.RecordDurablyThen(Entry("s1", "decide"), [&](Status stored) { outcome = stored; });
  runner.Join();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->code(), ErrorCode::kIo);
  EXPECT_EQ(StoredDecisions(*sqlite_), 0);
  EXPECT_EQ(log.buffered(), 1u);
  store.failing = false;
  log.SetLeadRunner(nullptr);
  // Without a runner the caller commits before its answer: both entries are stored then.
  outcome.reset();
  log.RecordDurablyThen(Entry("s2", "decide"), [&](Status stored) { outcome = stored; });
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(outcome->ok()) << outcome->ToString();
  EXPECT_EQ(StoredDecisions(*sqlite_), 2);
}

// Held writes (CommitThen: a consent change answered without a thread waiting) are told once
// their batch is stored, share commits with each other and with waiting callers, and a bad
// batch among them fails only itself.
TEST_F(AuditLogTest, HeldCommitsAreToldOnceStoredAndABadOneFailsAlone) {
  constexpr int kHeld = 40;
  AuditLog log(*sqlite_, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  ThreadRunner runner;
  log.SetLeadRunner([&runner](std::function<void()> job) { runner.Run(std::move(job)); });
  std::atomic<int> ok{0}, failed{0}, unstored{0};
  for (int i = 0; i < kHeld; ++i) {
    std::string id = "w" + std::to_string(i);
    log.CommitThen(NewSubject(id), {Entry(id, "subject_add")},
                   [&, id](Result<store::AppliedIds> committed) {
                     if (!committed.ok()) {
                       ++failed;
                       return;
                     }
                     ++ok;
                     if (!AuditHasSubject(*sqlite_, id)) ++unstored;
                   });
  }
  // The same subject twice: the store refuses the second, and only that caller hears so.
  std::optional<Status> duplicate;
  log.CommitThen(NewSubject("w0"), {Entry("w0", "subject_add")},
                 [&](Result<store::AppliedIds> committed) { duplicate = committed.status(); });
  // A caller that waits shares the log with the held ones.
  ASSERT_TRUE(log.Commit(NewSubject("waiter"), {Entry("waiter", "subject_add")}).ok());
  runner.Join();
  log.SetLeadRunner(nullptr);
  EXPECT_EQ(ok.load(), kHeld);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(unstored.load(), 0);
  ASSERT_TRUE(duplicate.has_value());
  EXPECT_FALSE(duplicate->ok());
  auto verified = AuditLog::Verify(*sqlite_, ChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_EQ(verified->entries_checked, kHeld + 1);
}

// A store that refuses every write as PostgreSQL refuses a seq another process took, while the
// head it shows never moves (the other process keeps winning, or its row is not yet visible).
class HeadAlwaysTaken : public store::ForwardingStore {
 public:
  explicit HeadAlwaysTaken(store::Store& base) : ForwardingStore(base) {}
  Result<store::AppliedIds> Apply(const store::WriteBatch&) override { return Taken(); }
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>&) override {
    return Taken();
  }

 private:
  static Status Taken() {
    return Status(ErrorCode::kConflict,
                  "postgresql: statement failed: another process appended to the audit chain "
                  "first");
  }
};

// A race on the chain's head that re-chaining cannot win is a retryable STORE_UNAVAILABLE, and
// carries none of the database's words (an API client once got them in a 409).
TEST_F(AuditLogTest, AHeadRaceThatCannotBeWonIsRetryableAndNamesNoDatabase) {
  HeadAlwaysTaken store(*sqlite_);
  AuditLog log(store, ChainKey());
  ASSERT_TRUE(log.Open().ok());
  auto committed = log.Commit(NewSubject("s1"), {Entry("s1", "subject_add")});
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(committed.status().message().find("postgresql"), std::string::npos);
  Status decided = log.RecordDurably(Entry("s1", "decide"));
  EXPECT_EQ(decided.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(decided.message().find("postgresql"), std::string::npos);
  EXPECT_FALSE(log.Health().ok());
}

}  // namespace
}  // namespace custos::engine
