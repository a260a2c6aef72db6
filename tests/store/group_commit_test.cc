#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"
#include "temp_dir.h"

namespace custos::store {
namespace {

SubjectRow Subject(const std::string& id) {
  SubjectRow row;
  row.controller = "wig";
  row.subject_id = id;
  row.types = {"member"};
  row.created_at = Timestamp::FromUnixSeconds(1'700'000'000);
  row.wrapped_key = Bytes(40, 7);
  return row;
}

WriteBatch NewSubject(const std::string& id) {
  WriteBatch batch;
  batch.Add(Subject(id));
  RecordRow record;
  record.controller = "wig";
  record.subject_id = id;
  record.category = "user.name";
  record.sealed_value = Bytes(id.begin(), id.end());
  batch.Add(std::move(record));
  return batch;
}

// A store whose writes wait at a gate until the test opens it, and which counts them.
class GatedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  Result<AppliedIds> Apply(const WriteBatch& batch) override {
    Wait();
    return ForwardingStore::Apply(batch);
  }
  Result<std::vector<AppliedIds>> ApplyGroup(
      const std::vector<const WriteBatch*>& batches) override {
    Wait();
    group_sizes.push_back(batches.size());
    return ForwardingStore::ApplyGroup(batches);
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    gate_.notify_all();
  }
  // True once a write is waiting at the gate.
  bool Waiting() {
    std::lock_guard lock(mutex_);
    return waiting_ > 0;
  }

  std::vector<size_t> group_sizes;  // written by the committer's thread only

 private:
  void Wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    gate_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  std::mutex mutex_;
  std::condition_variable gate_;
  bool open_ = false;
  int waiting_ = 0;
};

// Polls `predicate` until it holds. Threads reach the gate or the queue within microseconds;
// the 60 s bound only ends a test that is broken, so a slow machine never fails it.
template <typename Predicate>
bool Eventually(Predicate predicate) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class GroupCommitTest : public testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions options;
    options.data_dir = dir_.path();
    auto opened = SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    sqlite_ = std::move(opened).value();
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> sqlite_;
};

TEST_F(GroupCommitTest, ManyThreadsShareFewerCommitsAndLoseNothing) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  GroupCommitter committer(*sqlite_);
  std::atomic<int> failures{0};
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Result<AppliedIds> applied =
            committer.Submit(NewSubject("t" + std::to_string(t) + "-" + std::to_string(i)));
        if (!applied.ok() || applied->record_ids.size() != 1) {
          ++failures;
          continue;
        }
        ids[t].push_back(applied->record_ids[0]);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  GroupCommitter::Stats stats = committer.stats();
  EXPECT_EQ(stats.batches, kThreads * kPerThread);
  EXPECT_LT(stats.commits, kThreads * kPerThread);
  EXPECT_EQ(stats.commits, stats.groups);
  EXPECT_EQ(stats.retries, 0);
  Result<int64_t> count = sqlite_->CountSubjects("wig");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, kThreads * kPerThread);
  std::set<int64_t> unique;
  for (const auto& thread_ids : ids) unique.insert(thread_ids.begin(), thread_ids.end());
  EXPECT_EQ(unique.size(), size_t{kThreads * kPerThread});
  // Each caller got the id of its own record.
  Result<std::vector<RecordRow>> records = sqlite_->ListRecords("wig", "t3-17");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].record_id, ids[3][17]);
}

TEST_F(GroupCommitTest, BadBatchFailsAloneAndTheOthersCommit) {
  ASSERT_TRUE(sqlite_->Apply(NewSubject("taken")).ok());
  GatedStore gated(*sqlite_);
  GroupCommitter committer(gated);

  // The first batch holds the writer at the gate while three more queue behind it.
  Result<AppliedIds> first = Status(ErrorCode::kInternal, "not run");
  std::thread first_thread([&] { first = committer.Submit(NewSubject("first")); });
  EXPECT_TRUE(Eventually([&] { return gated.Waiting(); }));
  std::vector<Result<AppliedIds>> results(3, Status(ErrorCode::kInternal, "not run"));
  std::vector<std::string> ids = {"good1", "taken", "good2"};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] { results[i] = committer.Submit(NewSubject(ids[i])); });
  }
  EXPECT_TRUE(Eventually([&] { return committer.queued() == 3; }));
  gated.Open();
  first_thread.join();
  for (auto& thread : threads) thread.join();

  EXPECT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_EQ(results[1].status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(results[2].ok()) << results[2].status().ToString();
  EXPECT_EQ(gated.group_sizes, std::vector<size_t>{3});
  GroupCommitter::Stats stats = committer.stats();
  EXPECT_EQ(stats.batches, 4);
  EXPECT_EQ(stats.groups, 2);
  EXPECT_EQ(stats.retries, 3);
  EXPECT_EQ(stats.commits, 3);  // first alone, then good1 and good2 retried alone
  for (const char* id : {"first", "good1", "good2"}) {
    Result<std::optional<SubjectRow>> row = sqlite_->GetSubject("wig", id);
    ASSERT_TRUE(row.ok());
    EXPECT_TRUE(row->has_value()) << id;
  }
}

TEST_F(GroupCommitTest, DestructorCommitsEveryBatchAlreadySubmitted) {
  GatedStore gated(*sqlite_);
  std::vector<Result<AppliedIds>> results(4, Status(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  std::thread opener;
  {
    GroupCommitter committer(gated);
    threads.emplace_back([&] { results[0] = committer.Submit(NewSubject("s0")); });
    EXPECT_TRUE(Eventually([&] { return gated.Waiting(); }));
    for (int i = 1; i < 4; ++i) {
      threads.emplace_back(
          [&, i] { results[i] = committer.Submit(NewSubject("s" + std::to_string(i))); });
    }
    EXPECT_TRUE(Eventually([&] { return committer.queued() == 3; }));
    // Opened a little later, so the destructor below is usually already waiting; if it is not,
    // the batches are still all committed and the test still holds (it cannot fail falsely).
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gated.Open();
    });
  }  // ~GroupCommitter waits for the queued batches and their callers.
  opener.join();
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.status().ToString();
  Result<int64_t> count = sqlite_->CountSubjects("wig");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 4);
}

TEST_F(GroupCommitTest, ActsAsAStore) {
  GroupCommitter committer(*sqlite_);
  Store& store = committer;
  Result<AppliedIds> applied = store.Apply(NewSubject("s1"));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->record_ids.size(), 1u);
  Result<std::optional<SubjectRow>> subject = store.GetSubject("wig", "s1");
  ASSERT_TRUE(subject.ok());
  EXPECT_TRUE(subject->has_value());
  EXPECT_TRUE(committer.Submit(WriteBatch{}).ok());
  EXPECT_EQ(committer.stats().batches, 1);
}

}  // namespace
}  // namespace custos::store
