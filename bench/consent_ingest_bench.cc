// Durable consent-event ingest with group commit, against raw SQLite doing the same
// rows in the same commit groups, measured in the same run. Goal: >= 50 % of raw.
//
// Two paths are measured, each against its own baseline in the same run:
// 1. the engine path, what a caller gets: T threads call Engine::ChangeConsent, which writes
//    the consent event (evidence sealed with the person's key) and its chained audit entry;
//    AuditLog::Commit groups concurrent calls into one transaction (leader-based group
//    commit, see audit_log.h). This is the path the goal is judged on.
// 2. the store path: T threads each Submit() a batch of one ConsentEventRow to a
//    GroupCommitter over a durable SqliteStore, for comparison.
// Both stores are durable (WAL, synchronous=FULL).
//
// Baselines: one thread with the sqlite3 C API over a database with the identical schema
// (created by SqliteStore, then closed), WAL, synchronous=FULL, foreign_keys=ON, one prepared
// INSERT of the consent rows only (no audit rows), committing exactly the group sizes the
// measured path committed (recorded in order).
//
// Before the ratios: each side's database holds as many consent rows as changes were made
// (counted after the run), the baseline committed as many transactions as the measured path,
// and the engine stored one audit entry per change (bench_util.h, SameWork).
//
// Usage: consent_ingest_bench [THREADS=64] [ROWS_PER_THREAD=200] [ENGINE_ROWS_PER_THREAD=50]
//        [--mismatch-for-testing]  (the engine path's baseline leaves out one row: no verdict)
// (or CONSENT_THREADS, CONSENT_ROWS, CONSENT_ENGINE_ROWS). Data under /tmp, removed at the end.
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "common/allocator.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/group_commit.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

constexpr char kController[] = "bench";
constexpr size_t kSubjects = 10000;

// Records how many batches each commit held, in commit order, for the baseline to replay.
class RecordingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    Note(1);
    return ForwardingStore::Apply(batch);
  }
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    Note(batches.size());
    return ForwardingStore::ApplyGroup(batches);
  }
  std::vector<size_t> groups() const {
    std::lock_guard lock(mutex_);
    return groups_;
  }

 private:
  void Note(size_t size) {
    std::lock_guard lock(mutex_);
    groups_.push_back(size);
  }
  mutable std::mutex mutex_;
  std::vector<size_t> groups_;
};

// A store at `dir` (removed first) holding kSubjects subjects, so consent rows meet their
// foreign key.
std::unique_ptr<store::Store> FreshStore(const std::filesystem::path& dir,
                                         const crypto::MasterKey& master) {
  std::filesystem::remove_all(dir);
  auto opened = Check(store::OpenSqliteStore({dir.string(), true}), "open store");
  store::WriteBatch batch;
  for (size_t i = 0; i < kSubjects; ++i) {
    store::SubjectRow subject;
    subject.controller = kController;
    subject.subject_id = SubjectId(i);
    subject.types = {"member"};
    subject.created_at = *Timestamp::Parse("2024-01-01");
    subject.wrapped_key = crypto::WrapDataKey(master, crypto::SecretKey::Random(),
                                              std::string(kController) + "/" + SubjectId(i));
    batch.Add(std::move(subject));
  }
  Check(opened->Apply(batch).status(), "add subjects");
  return opened;
}

// The rows a consent change writes: one ConsentEventRow with sealed evidence.
std::vector<store::ConsentEventRow> MakeRows(size_t count) {
  crypto::SecretKey key = crypto::SecretKey::Random();
  std::vector<store::ConsentEventRow> rows;
  rows.reserve(count);
  Timestamp at = *Timestamp::Parse("2026-01-01");
  for (size_t i = 0; i < count; ++i) {
    store::ConsentEventRow row;
    row.controller = kController;
    row.subject_id = SubjectId(i % kSubjects);
    row.target = i % 2 ? "newsletter" : "event_bookings";
    row.action = i % 5 == 4 ? store::ConsentAction::kWithdrawn : store::ConsentAction::kGiven;
    row.notice_version = "2024-05";
    row.channel = "web";
    row.at = Timestamp{at.micros + static_cast<int64_t>(i)};
    row.sealed_evidence =
        crypto::Seal(key, "form:signup-footer ip:203.0.113.7",
                     std::string(kController) + "/" + row.subject_id + "/consent");
    rows.push_back(std::move(row));
  }
  return rows;
}

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, error ? error : "?");
    std::exit(1);
  }
}

// Counts what `sql` (one SELECT COUNT(*)) finds in the database at `path`.
long long Count(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK ||
      sqlite3_step(statement) != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "?");
    std::exit(1);
  }
  long long count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

long long ConsentRows(const std::filesystem::path& dir) {
  return Count(dir / store::SqliteStore::kFileName, "SELECT COUNT(*) FROM consent_events");
}

struct RawRun {
  double seconds = 0;
  size_t commits = 0;
};

// Inserts `rows` with the sqlite3 C API, committing groups of the sizes in `groups` (stopping
// at the last row, should the groups ask for more).
RawRun RawInsert(const std::string& path, const std::vector<store::ConsentEventRow>& rows,
                 const std::vector<size_t>& groups) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  Exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  sqlite3_stmt* insert = nullptr;
  const char* sql =
      "INSERT INTO consent_events (controller, subject_id, seq, target_kind, target, action,"
      " notice_version, channel, at, sealed_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  if (sqlite3_prepare_v2(db, sql, -1, &insert, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  RawRun run;
  auto start = SteadyClock::now();
  size_t next = 0;
  for (size_t group : groups) {
    Exec(db, "BEGIN IMMEDIATE");
    for (size_t i = 0; i < group && next < rows.size(); ++i, ++next) {
      const store::ConsentEventRow& row = rows[next];
      sqlite3_bind_text(insert, 1, row.controller.data(), static_cast<int>(row.controller.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 2, row.subject_id.data(), static_cast<int>(row.subject_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, static_cast<sqlite3_int64>(next + 1));
      sqlite3_bind_text(insert, 4, "purpose", -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 5, row.target.data(), static_cast<int>(row.target.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 6,
                        row.action == store::ConsentAction::kGiven ? "given" : "withdrawn", -1,
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 7, row.notice_version.data(),
                        static_cast<int>(row.notice_version.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, 8, row.channel.data(), static_cast<int>(row.channel.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert, 9, row.at.micros);
      sqlite3_bind_blob(insert, 10, row.sealed_evidence.data(),
                        static_cast<int>(row.sealed_evidence.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        std::fprintf(stderr, "sqlite: insert: %s\n", sqlite3_errmsg(db));
        std::exit(1);
      }
      sqlite3_reset(insert);
    }
    Exec(db, "COMMIT");
    ++run.commits;
  }
  run.seconds = SecondsSince(start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return run;
}

// Runs `threads` threads, each calling `work(thread)`, released together; returns seconds.
template <typename Work>
double RunThreads(size_t threads, const Work& work) {
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      work(t);
    });
  }
  auto start = SteadyClock::now();
  go.store(true, std::memory_order_release);
  for (auto& thread : pool) thread.join();
  return SecondsSince(start);
}

size_t Sum(const std::vector<size_t>& groups) {
  size_t total = 0;
  for (size_t g : groups) total += g;
  return total;
}

double Mean(const std::vector<size_t>& groups) {
  return groups.empty() ? 0 : static_cast<double>(Sum(groups)) / static_cast<double>(groups.size());
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) {
  custos::TuneAllocator();
  using namespace custos;
  using namespace custos::bench;
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  size_t threads = SizeArg(argc, argv, 1, "CONSENT_THREADS", 64);
  size_t per_thread = SizeArg(argc, argv, 2, "CONSENT_ROWS", 200);
  size_t engine_per_thread = SizeArg(argc, argv, 3, "CONSENT_ENGINE_ROWS", 50);
  Check(crypto::InitSodium(), "sodium");
  auto master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  auto root = std::filesystem::temp_directory_path() / "custos-consent-bench";
  std::filesystem::remove_all(root);

  const size_t total = threads * per_thread;
  std::vector<store::ConsentEventRow> rows = MakeRows(total);

  // 1. custos: T threads submitting one-row batches to a GroupCommitter over SqliteStore.
  double custos_seconds = 0;
  std::vector<size_t> groups;
  {
    auto sqlite = FreshStore(root / "custos", master);
    RecordingStore recording(*sqlite);
    store::GroupCommitter committer(recording);
    std::atomic<int> failures{0};
    custos_seconds = RunThreads(threads, [&](size_t t) {
      for (size_t i = 0; i < per_thread; ++i) {
        store::WriteBatch batch;
        batch.Add(rows[t * per_thread + i]);
        if (!committer.Submit(std::move(batch)).ok()) ++failures;
      }
    });
    if (failures > 0) {
      std::fprintf(stderr, "%d submits failed\n", failures.load());
      return 1;
    }
    groups = recording.groups();
  }
  // The rows in commit order are not the order of `rows`, but every row is alike; the
  // baseline commits the same number of rows in the same group sizes.

  // 2. raw SQLite, same schema, same rows, same groups, one thread.
  std::string raw_path;
  {
    auto raw_store = FreshStore(root / "raw", master);
    raw_path = (root / "raw" / store::SqliteStore::kFileName).string();
  }
  RawRun raw = RawInsert(raw_path, rows, groups);

  // 3. The engine path: ChangeConsent from T threads; AuditLog groups the commits.
  double engine_seconds = 0;
  std::vector<size_t> engine_groups;
  long long engine_audit_entries = 0;
  size_t engine_total = threads * engine_per_thread;
  {
    auto policy = Check(
        policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"), "policy");
    auto sqlite = FreshStore(root / "engine", master);
    RecordingStore recording(*sqlite);
    FixedClock clock(*Timestamp::Parse("2026-01-01"));
    engine::Engine engine(policy, kController, recording, master, clock);
    Check(engine.Open("bench"), "engine open");
    size_t before = recording.groups().size();
    const int64_t head_before = engine.audit().head_seq();
    std::atomic<int> failures{0};
    engine_seconds = RunThreads(threads, [&](size_t t) {
      for (size_t i = 0; i < engine_per_thread; ++i) {
        engine::ConsentChangeRequest request;
        request.subject_id = SubjectId((t * engine_per_thread + i) % kSubjects);
        request.target = i % 2 ? "newsletter" : "event_bookings";
        request.given = i % 5 != 4;
        request.channel = "web";
        request.evidence = "form:signup-footer ip:203.0.113.7";
        if (!engine.ChangeConsent(request).ok()) ++failures;
      }
    });
    if (failures > 0) {
      std::fprintf(stderr, "%d consent changes failed\n", failures.load());
      return 1;
    }
    std::vector<size_t> all = recording.groups();
    engine_groups.assign(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    engine_audit_entries = engine.audit().head_seq() - head_before;
  }
  // 4. Its baseline: raw SQLite inserting as many consent rows in the same group sizes.
  std::vector<size_t> baseline_groups = engine_groups;
  if (mismatch && !baseline_groups.empty() && --baseline_groups.back() == 0) {
    baseline_groups.pop_back();
  }
  {
    auto raw_store = FreshStore(root / "engine-raw", master);
    raw_path = (root / "engine-raw" / store::SqliteStore::kFileName).string();
  }
  std::vector<store::ConsentEventRow> engine_rows(
      rows.begin(),
      rows.begin() + static_cast<std::ptrdiff_t>(std::min(engine_total, rows.size())));
  if (engine_rows.size() < engine_total) engine_rows = MakeRows(engine_total);
  RawRun engine_raw = RawInsert(raw_path, engine_rows, baseline_groups);

  // What each side stored, counted in its database after the run.
  SameWork work;
  work.Equal("engine path: consent rows stored (engine; raw)", ConsentRows(root / "engine"),
             ConsentRows(root / "engine-raw"));
  work.Holds("engine path: one consent row per change (" + std::to_string(engine_total) +
                 " changes, " + std::to_string(Sum(engine_groups)) + " batches committed)",
             ConsentRows(root / "engine") == static_cast<long long>(engine_total) &&
                 Sum(engine_groups) == engine_total);
  work.Holds("engine path: one audit entry stored per change (" +
                 std::to_string(engine_audit_entries) + ")",
             engine_audit_entries == static_cast<long long>(engine_total));
  work.Equal("engine path: transactions committed (engine; raw)",
             static_cast<long long>(engine_groups.size()),
             static_cast<long long>(engine_raw.commits));
  work.Equal("store path: consent rows stored (GroupCommitter; raw)", ConsentRows(root / "custos"),
             ConsentRows(root / "raw"));
  work.Holds("store path: one consent row per submitted batch (" + std::to_string(total) + ")",
             ConsentRows(root / "custos") == static_cast<long long>(total) && Sum(groups) == total);
  work.Equal("store path: transactions committed (GroupCommitter; raw)",
             static_cast<long long>(groups.size()), static_cast<long long>(raw.commits));
  std::filesystem::remove_all(root);

  double engine_rate = static_cast<double>(engine_total) / engine_seconds;
  double engine_raw_rate = static_cast<double>(engine_total) / engine_raw.seconds;
  double engine_ratio = engine_rate / engine_raw_rate;
  double custos_rate = static_cast<double>(total) / custos_seconds;
  double raw_rate = static_cast<double>(total) / raw.seconds;
  double ratio = custos_rate / raw_rate;
  std::printf("durable consent ingest, %zu threads, WAL, synchronous=FULL\n", threads);
  std::printf(
      "  engine (Engine::ChangeConsent: consent event + chained audit entry, %zu changes): "
      "%.0f changes/s, %zu commits, %.1f changes/commit\n",
      engine_total, engine_rate, engine_groups.size(), Mean(engine_groups));
  std::printf("  baseline raw SQLite, same consent rows, same commit groups: %.0f rows/s\n",
              engine_raw_rate);
  std::printf(
      "  store path (GroupCommitter over SqliteStore, %zu one-row batches): %.0f rows/s, "
      "%zu commits, %.1f rows/commit; raw SQLite in the same groups %.0f rows/s\n",
      total, custos_rate, groups.size(), Mean(groups), raw_rate);
  work.Require();
  std::printf("  ratio engine/raw: %.2f; store path ratio %.2f\n", engine_ratio, ratio);
  std::printf("  goal engine >= 50 %% of raw: %s\n", engine_ratio >= 0.5 ? "met" : "NOT met");
  return 0;
}
