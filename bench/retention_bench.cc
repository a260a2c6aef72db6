// Retention, two measurements, each against a baseline measured in the same run:
//
// 1. Sweep: Engine::RunRetention over SUBJECTS subjects with RECORDS records in all, of which
//    10 % have passed their deadline (Pluggin: "Messages are stored for up to three years"),
//    against one raw SQL `DELETE FROM records WHERE ... collected_at <= cutoff` of the same
//    rows on a byte-for-byte copy of the same database. The cutoff comes from the policy, as
//    the sweep's deadlines do: the rules covering the records (their subject type, category
//    and purpose), each `period` after `collected`, judged at the sweep's time. The sweep does
//    what the DELETE does not: reads every subject, plans every record against the policy,
//    audits every action (hash chain), checkpoints for crash-resume. Goal: sweep <= 2x the
//    DELETE. Before the verdict: both removed the same number of rows and left the same rows
//    (count and sum of record ids of the active records, read from each database after the
//    run), and that number is the number of expired records loaded.
// 2. Erasure of one person whose every record has expired (Pluggin staff, six years after
//    leaving): the person is erased by destroying their data key (crypto-shredding), so the
//    write that erases them should cost the same for 10 records as for 100 000. Reported: the
//    time of the erasing transaction (Store::Apply of the batch with EraseSubject, median of
//    REPEATS) and, for information, the whole sweep, which also reads the person's records.
//    Before the verdict: every run erased the person (their subject row, read back, is erased)
//    in one transaction the benchmark saw.
//
// Data is built directly as rows (sealed with per-subject keys as the engine does) on a
// non-durable store (synchronous=NORMAL); the baseline connection uses the same setting.
// Everything lives under /tmp/custos-retention-bench-*/ and is removed at the end.
//
// Usage: retention_bench [SUBJECTS=100000] [RECORDS=1000000] [REPEATS=5]
//        [--mismatch-for-testing]  (the DELETE's cutoff is the sweep's time, not the
//                                   policy's: it removes every record, and no verdict is given)
// (or RETENTION_SUBJECTS, RETENTION_RECORDS, RETENTION_REPEATS). The goal's size is
// 1000000 subjects and 10000000 records.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bench/bench_util.h"
#include "common/allocator.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kController[] = "bench";
constexpr size_t kSubjectsPerBatch = 5000;

// What the sweep's records are: the baseline's cutoff is derived from the rules covering them.
constexpr char kSweepType[] = "registered_user";
constexpr char kSweepCategory[] = "user.content.private.messages";
constexpr char kSweepPurpose[] = "messaging";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string SubjectId(size_t i) { return bench::SubjectId(i, 8); }

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "retention_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}

policy::Policy LoadPluggin() {
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/pluggin.yaml");
  if (!policy.ok()) Die("policy", policy.status());
  return std::move(*policy);
}

std::unique_ptr<store::Store> OpenStore(const fs::path& dir) {
  auto store = store::OpenSqliteStore({dir.string(), /*durable=*/false});
  if (!store.ok()) Die("open " + dir.string(), store.status());
  return std::move(*store);
}

// Adds subject `id` of `type` with `records` records of `category` collected for `purpose`;
// `collected(j)` gives record j's collection time.
// `key` is the subject's data key (a bench may share one between subjects: nothing here is
// unsealed, and a fresh guarded allocation per subject would dominate the load).
template <typename CollectedAt>
void AddSubjectRows(store::WriteBatch& batch, const crypto::MasterKey& master,
                    const crypto::SecretKey& key, const std::string& id, const std::string& type,
                    size_t records, const std::string& category, const std::string& purpose,
                    CollectedAt collected) {
  std::string context = std::string(kController) + "/" + id;
  store::SubjectRow subject;
  subject.controller = kController;
  subject.subject_id = id;
  subject.types = {type};
  subject.created_at = *Timestamp::Parse("2019-01-01");
  subject.wrapped_key = crypto::WrapDataKey(master, key, context);
  batch.Add(std::move(subject));
  for (size_t j = 0; j < records; ++j) {
    store::RecordRow row;
    row.controller = kController;
    row.subject_id = id;
    row.category = category;
    row.sealed_value =
        crypto::Seal(key, "value " + std::to_string(j), context + "/record/" + category);
    row.source = "direct";
    row.purpose = purpose;
    row.collected_at = collected(j);
    row.updated_at = row.collected_at;
    batch.Add(std::move(row));
  }
}

void MustApply(store::Store& store, const store::WriteBatch& batch) {
  auto applied = store.Apply(batch);
  if (!applied.ok()) Die("load", applied.status());
}

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, error ? error : "?");
    std::exit(1);
  }
}

// The latest collection time a record of `category`, collected for `purpose` from a subject of
// `type`, may have for the policy's retention rules to delete it at `as_of`: the sweep deletes
// a record once collected + period <= as_of for a delete rule counted from `collected` that
// covers it (engine/retention.h). Of the covering rules the one that comes first decides
// (AddPeriod is monotonic, so a binary search finds each rule's cutoff exactly). Dies if a
// covering rule is one a single DELETE cannot express (another trigger or action).
Timestamp PolicyCutoff(const policy::Policy& policy, std::string_view type,
                       std::string_view category, std::string_view purpose, Timestamp as_of,
                       std::string* rules) {
  std::optional<Timestamp> cutoff;
  for (const policy::RetentionRule& rule : policy.retention) {
    auto has = [](const std::vector<policy::Ref>& refs, std::string_view key) {
      return refs.empty() || std::any_of(refs.begin(), refs.end(),
                                         [&](const policy::Ref& ref) { return ref.key == key; });
    };
    bool covers = std::any_of(
        rule.categories.begin(), rule.categories.end(),
        [&](const policy::Ref& ref) { return policy::CategoryCovers(ref.key, category); });
    if (!covers || !has(rule.subjects, type) || !has(rule.purposes, purpose)) continue;
    if (!rule.period.value || rule.after.key != "collected" ||
        rule.action != policy::RetentionAction::kDelete) {
      std::fprintf(stderr, "retention_bench: rule %s is not a delete after `collected`\n",
                   rule.id.c_str());
      std::exit(1);
    }
    const IsoPeriod& period = *rule.period.value;
    if (AddPeriod(Timestamp{0}, period) > as_of) continue;  // nothing collected since 1970 is due
    int64_t lo = 0, hi = as_of.micros;  // AddPeriod(lo) <= as_of; find the largest such time
    while (lo < hi) {
      int64_t mid = lo + (hi - lo + 1) / 2;
      if (AddPeriod(Timestamp{mid}, period) <= as_of) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    if (!cutoff || lo > cutoff->micros) cutoff = Timestamp{lo};
    *rules += (rules->empty() ? "" : ", ") + rule.id + " (" + rule.period.text + ")";
  }
  if (!cutoff) {
    std::fprintf(stderr, "retention_bench: no rule of the policy deletes the sweep's records\n");
    std::exit(1);
  }
  return *cutoff;
}

// The count and the sum of the record ids of the active records in the database `file`.
std::pair<long long, long long> ActiveRecords(const fs::path& file) {
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  const char* sql = "SELECT COUNT(*), TOTAL(record_id) FROM records WHERE state = 'active'";
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK ||
      sqlite3_step(statement) != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "?");
    std::exit(1);
  }
  std::pair<long long, long long> result{
      sqlite3_column_int64(statement, 0),
      static_cast<long long>(sqlite3_column_double(statement, 1))};
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return result;
}

// Counts the rows of `table`: reads every page so both sides start with a warm cache.
void Warm(const fs::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) std::exit(1);
  for (const char* sql :
       {"SELECT COUNT(*), SUM(LENGTH(sealed_value)) FROM records", "SELECT COUNT(*) FROM subjects",
        "SELECT COUNT(*) FROM events", "SELECT COUNT(*) FROM identifiers"}) {
    Exec(db, sql);
  }
  sqlite3_close(db);
}

// Times the store calls of a sweep: reads of sweep pages, writes, and the writes that erase a
// subject.
class TimingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    auto started = Clock::now();
    auto applied = ForwardingStore::Apply(batch);
    Note({&batch}, Seconds(Clock::now() - started));
    return applied;
  }
  // The engine's audit log commits through ApplyGroup (one transaction for many batches).
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    auto started = Clock::now();
    auto applied = ForwardingStore::ApplyGroup(batches);
    Note(batches, Seconds(Clock::now() - started));
    return applied;
  }
  Result<std::vector<store::SweepSubject>> ListSweepPage(const std::string& controller,
                                                         const std::string& after,
                                                         size_t max_subjects) override {
    auto started = Clock::now();
    auto page = ForwardingStore::ListSweepPage(controller, after, max_subjects);
    read_seconds += Seconds(Clock::now() - started);
    return page;
  }
  double erase_seconds = 0, write_seconds = 0, read_seconds = 0;

 private:
  void Note(const std::vector<const store::WriteBatch*>& batches, double took) {
    write_seconds += took;
    for (const store::WriteBatch* batch : batches) {
      if (std::any_of(batch->ops.begin(), batch->ops.end(), [](const store::WriteOp& op) {
            return std::holds_alternative<store::EraseSubject>(op);
          })) {
        erase_seconds += took;
        return;
      }
    }
  }
};

// --- 1. Sweep against raw DELETE -----------------------------------------------------------

void SweepBench(size_t subjects, size_t records, bool mismatch) {
  const fs::path dir = fs::temp_directory_path() / "custos-retention-bench-sweep";
  const fs::path copy = fs::temp_directory_path() / "custos-retention-bench-sweep-raw";
  fs::remove_all(dir);
  fs::remove_all(copy);
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock(*Timestamp::Parse("2026-06-01"));
  const Timestamp old_time = *Timestamp::Parse("2022-01-01");  // past its three years
  const Timestamp new_time = *Timestamp::Parse("2025-06-01");
  size_t per_subject = std::max<size_t>(records / subjects, 1);
  size_t expiring = 0;
  {
    auto store = OpenStore(dir);
    engine::Engine engine(LoadPluggin(), kController, *store, master, clock);
    if (Status opened = engine.Open("bench"); !opened.ok()) Die("engine", opened);
    auto started = Clock::now();
    size_t record_index = 0;
    for (size_t from = 0; from < subjects; from += kSubjectsPerBatch) {
      store::WriteBatch batch;
      crypto::SecretKey key = crypto::SecretKey::Random();
      for (size_t i = from; i < std::min(subjects, from + kSubjectsPerBatch); ++i) {
        AddSubjectRows(batch, master, key, SubjectId(i), kSweepType, per_subject, kSweepCategory,
                       kSweepPurpose, [&](size_t) {
                         // Every tenth record, spread over the subjects, has expired.
                         bool old = record_index++ % 10 == 0;
                         expiring += old ? 1 : 0;
                         return old ? old_time : new_time;
                       });
      }
      MustApply(*store, batch);
    }
    std::printf("loaded %zu subjects, %zu records (%zu expiring) in %.1f s\n", subjects,
                subjects * per_subject, expiring, Seconds(Clock::now() - started));
  }
  fs::create_directories(copy);
  fs::copy_file(dir / store::SqliteStore::kFileName, copy / store::SqliteStore::kFileName);

  // Baseline: the same rows deleted by one SQL statement in one transaction, with the cutoff
  // the policy gives at the sweep's time.
  std::string rules;
  const Timestamp cutoff = mismatch ? clock.Now()
                                    : PolicyCutoff(LoadPluggin(), kSweepType, kSweepCategory,
                                                   kSweepPurpose, clock.Now(), &rules);
  Warm(copy / store::SqliteStore::kFileName);
  sqlite3* raw = nullptr;
  if (sqlite3_open((copy / store::SqliteStore::kFileName).c_str(), &raw) != SQLITE_OK) {
    std::exit(1);
  }
  Exec(raw, "PRAGMA synchronous = NORMAL");
  std::string sql = "DELETE FROM records WHERE controller = 'bench' AND collected_at <= " +
                    std::to_string(cutoff.micros);
  auto raw_started = Clock::now();
  Exec(raw, "BEGIN IMMEDIATE");
  Exec(raw, sql.c_str());
  int64_t raw_deleted = sqlite3_changes64(raw);
  Exec(raw, "COMMIT");
  double raw_seconds = Seconds(Clock::now() - raw_started);
  sqlite3_close(raw);

  // The sweep, on the original.
  Warm(dir / store::SqliteStore::kFileName);
  auto store = OpenStore(dir);
  TimingStore timing(*store);
  engine::Engine engine(LoadPluggin(), kController, timing, master, clock);
  if (Status opened = engine.Open("bench"); !opened.ok()) Die("engine", opened);
  timing.write_seconds = 0;
  engine::RetentionOptions options;
  options.page_size = 2048;
  auto sweep_started = Clock::now();
  auto report = engine.RunRetention(options);
  double sweep_seconds = Seconds(Clock::now() - sweep_started);
  if (!report.ok()) Die("sweep", report.status());

  std::printf("retention sweep over %zu subjects, %zu records, 10 %% expiring\n", subjects,
              subjects * per_subject);
  std::printf("  custos RunRetention: %.2f s (%lld deleted, %lld subjects, %.0f records/s)\n",
              sweep_seconds, static_cast<long long>(report->totals.deleted),
              static_cast<long long>(report->totals.subjects),
              static_cast<double>(subjects * per_subject) / sweep_seconds);
  std::printf(
      "    of which reading pages %.2f s, writing (actions, audit, checkpoints) %.2f s, "
      "planning and sealing the rest\n",
      timing.read_seconds, timing.write_seconds);
  std::printf(
      "  baseline raw SQL DELETE, collected_at <= %s (%s): %.2f s (%lld deleted)\n",
      cutoff.ToString().c_str(),
      mismatch ? "the sweep's time, deliberately not the policy's" : ("from " + rules).c_str(),
      raw_seconds, static_cast<long long>(raw_deleted));
  store.reset();
  auto [sweep_left, sweep_ids] = ActiveRecords(dir / store::SqliteStore::kFileName);
  auto [raw_left, raw_ids] = ActiveRecords(copy / store::SqliteStore::kFileName);
  fs::remove_all(dir);
  fs::remove_all(copy);
  SameWork work;
  work.Equal("records deleted (sweep; DELETE)", report->totals.deleted, raw_deleted);
  work.Holds("as many deleted as were loaded expired (" + std::to_string(expiring) + ")",
             report->totals.deleted == static_cast<int64_t>(expiring));
  work.Equal("active records left (sweep; DELETE)", sweep_left, raw_left);
  work.Equal("sum of the ids of the records left (sweep; DELETE)", sweep_ids, raw_ids);
  work.Require();
  double ratio = sweep_seconds / raw_seconds;
  std::printf("  ratio sweep/DELETE: %.2f\n", ratio);
  std::printf("  goal <= 2x: %s\n", ratio <= 2.0 ? "met" : "NOT met");
}

// --- 2. Erasure of a person with 10 vs 100 000 records --------------------------------------

struct ErasureTimes {
  double erase_write = 0;  // the erasing transaction
  double sweep = 0;        // the whole RunRetention
  size_t runs = 0, erased = 0, erasing_writes_seen = 0;
};

ErasureTimes EraseOnce(size_t records) {
  const fs::path dir = fs::temp_directory_path() / "custos-retention-bench-erase";
  fs::remove_all(dir);
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock(*Timestamp::Parse("2026-06-01"));
  auto store = OpenStore(dir);
  {
    store::WriteBatch batch;
    AddSubjectRows(batch, master, crypto::SecretKey::Random(), "staff1", "staff", records,
                   "user.name", "staff_administration",
                   [](size_t) { return *Timestamp::Parse("2018-01-01"); });
    batch.Add(store::EventRow{kController, "staff1", "employment_ended",
                              *Timestamp::Parse("2019-01-01")});
    MustApply(*store, batch);
  }
  TimingStore timing(*store);
  engine::Engine engine(LoadPluggin(), kController, timing, master, clock);
  if (Status opened = engine.Open("bench"); !opened.ok()) Die("engine", opened);
  auto started = Clock::now();
  auto report = engine.RunRetention({});
  ErasureTimes times;
  times.sweep = Seconds(Clock::now() - started);
  if (!report.ok()) Die("erase", report.status());
  times.runs = 1;
  auto subject = store->GetSubject(kController, "staff1");
  if (!subject.ok()) Die("read back", subject.status());
  times.erased = report->totals.erased == 1 && subject->has_value() &&
                 (*subject)->state == store::SubjectState::kErased &&
                 (*subject)->wrapped_key.empty();
  times.erasing_writes_seen = timing.erase_seconds > 0;
  times.erase_write = timing.erase_seconds;
  store.reset();
  fs::remove_all(dir);
  return times;
}

ErasureTimes Median(size_t records, size_t repeats) {
  std::vector<double> writes, sweeps;
  ErasureTimes all;
  for (size_t i = 0; i < repeats; ++i) {
    ErasureTimes t = EraseOnce(records);
    writes.push_back(t.erase_write);
    sweeps.push_back(t.sweep);
    all.runs += t.runs;
    all.erased += t.erased;
    all.erasing_writes_seen += t.erasing_writes_seen;
  }
  std::sort(writes.begin(), writes.end());
  std::sort(sweeps.begin(), sweeps.end());
  all.erase_write = writes[writes.size() / 2];
  all.sweep = sweeps[sweeps.size() / 2];
  return all;
}

void ErasureBench(size_t repeats, bool mismatch) {
  ErasureTimes small = Median(10, repeats);
  ErasureTimes large = Median(100000, mismatch ? repeats + 1 : repeats);
  std::printf("erasure of one person (all records expired), median of %zu\n", repeats);
  std::printf("  erasing transaction:  10 records %.3f ms, 100000 records %.3f ms\n",
              small.erase_write * 1e3, large.erase_write * 1e3);
  std::printf(
      "  whole sweep (reads every record, for information): 10 records %.3f ms, "
      "100000 records %.3f ms\n",
      small.sweep * 1e3, large.sweep * 1e3);
  SameWork work;
  work.Equal("runs (100000 records; 10 records)", static_cast<long long>(large.runs),
             static_cast<long long>(small.runs));
  work.Holds("every run erased the person (read back: erased, no key) in one write it saw (" +
                 std::to_string(small.erased + large.erased) + " and " +
                 std::to_string(small.erasing_writes_seen + large.erasing_writes_seen) + " of " +
                 std::to_string(small.runs + large.runs) + ")",
             small.erased == small.runs && large.erased == large.runs &&
                 small.erasing_writes_seen == small.runs &&
                 large.erasing_writes_seen == large.runs);
  work.Require();
  double ratio = large.erase_write / small.erase_write;
  std::printf("  ratio 100000 records / 10 records: %.2f\n", ratio);
  std::printf("  goal: the same time within noise (ratio <= 1.5): %s\n",
              ratio <= 1.5 ? "met" : "NOT met");
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) {
  custos::TuneAllocator();
  using custos::bench::SizeArg;
  const bool mismatch = custos::bench::TakeFlag(argc, argv, custos::bench::kMismatchFlag);
  size_t subjects = SizeArg(argc, argv, 1, "RETENTION_SUBJECTS", 100000);
  size_t records = SizeArg(argc, argv, 2, "RETENTION_RECORDS", 1000000);
  size_t repeats = std::max<size_t>(SizeArg(argc, argv, 3, "RETENTION_REPEATS", 5), 1);
  if (subjects == 0) return 2;
  const char* only = std::getenv("RETENTION_ONLY");  // "sweep" or "erasure"
  if (only == nullptr || std::string(only) == "sweep") {
    custos::bench::SweepBench(subjects, records, mismatch);
  }
  if (only == nullptr || std::string(only) == "erasure") {
    custos::bench::ErasureBench(repeats, mismatch);
  }
  return 0;
}
