// Everything about one subject, read and unsealed (Engine::ReadSubject), among SUBJECTS
// subjects and RECORDS records, against raw SQLite selecting the same rows without
// unsealing, measured in the same run. Goal: p99 <= 20 ms.
//
// Data: built here rather than through Engine::AddSubject/PutRecord (which commit and audit
// one write at a time): each subject gets a data key wrapped under the master key, an email
// identifier (blind-indexed and sealed), a subject_created event, one consent event, one
// channel preference and RECORDS/SUBJECTS records, every value sealed with the subject's key
// and the associated data the engine uses ("<controller>/<subject>", ".../id/<kind>",
// ".../record/<category>"), so ReadSubject opens them. Rows go through Store::Apply in batches
// of kSubjectsPerBatch subjects on a non-durable store while the next batch is sealed on a
// second thread. No audit entries are written for the load.
//
// The database and its master key are kept in /tmp/custos-read-bench-<SUBJECTS>x<RECORDS>/
// and reused by later runs with the same sizes (the file `complete` marks a finished load;
// delete the directory to rebuild). The full 1M/10M database is about 3 GB.
//
// Both readers run warm: a first untimed raw pass over the sampled subjects brings their pages
// into the OS cache, then raw and engine are timed over the same subjects.
//
// Before the ratio and the verdict: raw and engine read the same subjects and the same number
// of rows (counted from what each returned), and the engine stored one audit entry per read
// (bench_util.h, SameWork).
//
// Usage: subject_read_bench [SUBJECTS=1000000] [RECORDS=10000000] [READS=1000]
//        [--mismatch-for-testing]  (the raw reader skips the last subject: no verdict)
// (or READ_SUBJECTS, READ_RECORDS, READ_READS).
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bench/bench_util.h"
#include "common/allocator.h"
#include "crypto/blind_index.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

constexpr char kController[] = "bench";
constexpr size_t kSubjectsPerBatch = 5000;

// Categories of the WIG policy, all collected for `opportunities` from `direct`.
constexpr const char* kCategories[] = {"user.name",
                                       "user.job_title",
                                       "user.contact.email",
                                       "user.contact.phone_number",
                                       "user.contact.organization",
                                       "user.interests",
                                       "user.engagement.participation",
                                       "user.engagement.website",
                                       "user.communication_history",
                                       "user.engagement.feedback"};
constexpr size_t kCategoryCount = sizeof kCategories / sizeof kCategories[0];

// Records of subject `i`: RECORDS spread evenly over SUBJECTS.
size_t RecordsOf(size_t i, size_t subjects, size_t records) {
  return records / subjects + (i < records % subjects ? 1 : 0);
}

// Seals and builds every row of subjects [from, to).
// `wrap_key` is master.WrapKey(): crypto::WrapDataKey(master, key, ad) is Seal(master.WrapKey(),
// key bytes, ad), and deriving the wrap key once per batch instead of once per subject saves a
// guarded allocation (mmap, mprotect, mlock) per subject. Load() checks that WrapDataKey's
// output opens the same way, so a change of format fails the load instead of the reads.
store::WriteBatch BuildBatch(const crypto::SecretKey& wrap_key, const crypto::SecretKey& index_key,
                             size_t from, size_t to, size_t subjects, size_t records) {
  store::WriteBatch batch;
  Timestamp created = *Timestamp::Parse("2024-01-01");
  for (size_t i = from; i < to; ++i) {
    std::string id = SubjectId(i);
    std::string context = std::string(kController) + "/" + id;
    crypto::SecretKey data_key = crypto::SecretKey::Random();
    Timestamp at{created.micros + static_cast<int64_t>(i) * 1000000};

    store::SubjectRow subject;
    subject.controller = kController;
    subject.subject_id = id;
    subject.types = {i % 2 ? "member" : "non_member"};
    subject.created_at = at;
    std::span<const uint8_t> key_bytes = data_key.bytes();
    subject.wrapped_key = crypto::Seal(
        wrap_key,
        std::string_view(reinterpret_cast<const char*>(key_bytes.data()), key_bytes.size()),
        context);
    batch.Add(std::move(subject));
    batch.Add(store::EventRow{kController, id, "subject_created", at});

    std::string email = "person" + std::to_string(i) + "@example.org";
    store::IdentifierRow identifier;
    identifier.controller = kController;
    identifier.subject_id = id;
    identifier.kind = "email";
    identifier.blind_index =
        crypto::BlindIndex(index_key, "email", crypto::NormalizeIdentifier("email", email));
    identifier.sealed_value = crypto::Seal(data_key, email, context + "/id/email");
    identifier.verified = true;
    identifier.added_at = at;
    batch.Add(std::move(identifier));

    for (size_t r = 0, n = RecordsOf(i, subjects, records); r < n; ++r) {
      const char* category = kCategories[r % kCategoryCount];
      store::RecordRow record;
      record.controller = kController;
      record.subject_id = id;
      record.category = category;
      record.sealed_value =
          crypto::Seal(data_key, "value " + std::to_string(r) + " of " + id + ", some text",
                       context + "/record/" + category);
      record.source = "direct";
      record.purpose = "opportunities";
      record.collected_at = at;
      record.updated_at = at;
      batch.Add(std::move(record));
    }

    store::ConsentEventRow consent;
    consent.controller = kController;
    consent.subject_id = id;
    consent.target = "newsletter";
    consent.notice_version = "2024-05";
    consent.channel = "web";
    consent.at = at;
    batch.Add(std::move(consent));
    batch.Add(store::PreferenceRow{kController, id, "email", true, at});
  }
  return batch;
}

void Load(store::Store& store, const crypto::MasterKey& master, size_t subjects, size_t records) {
  crypto::SecretKey index_key = master.BlindIndexKey();
  crypto::SecretKey wrap_key = master.WrapKey();
  {
    store::WriteBatch probe = BuildBatch(wrap_key, index_key, 0, 1, subjects, records);
    const auto& subject = std::get<store::SubjectRow>(probe.ops.front());
    Check(
        crypto::UnwrapDataKey(master, subject.wrapped_key, "bench/" + subject.subject_id).status(),
        "a data key wrapped like WrapDataKey does not unwrap");
  }
  auto start = SteadyClock::now();
  auto build = [&](size_t from) {
    return BuildBatch(wrap_key, index_key, from, std::min(from + kSubjectsPerBatch, subjects),
                      subjects, records);
  };
  // One thread: building keys in guarded memory (mprotect, munmap) while another thread
  // applies costs a TLB-shootdown interrupt per call in a VM, which made the load 3x slower.
  for (size_t from = 0; from < subjects; from += kSubjectsPerBatch) {
    Check(store.Apply(build(from)).status(), "load batch");
    size_t done = std::min(from + kSubjectsPerBatch, subjects);
    if (done % (kSubjectsPerBatch * 20) == 0 || done == subjects) {
      std::fprintf(stderr, "  loaded %zu/%zu subjects (%.0f s)\n", done, subjects,
                   SecondsSince(start));
    }
  }
  std::fprintf(stderr, "  load: %.0f s\n", SecondsSince(start));
}

// The same SELECTs as SqliteStore (subject, events, identifiers, records, consent events,
// preferences, objections, restrictions), stepping every row and touching every column.
class RawReader {
 public:
  explicit RawReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite: cannot open %s\n", path.c_str());
      std::exit(1);
    }
    const char* queries[] = {
        "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at"
        " FROM subjects WHERE controller = ? AND subject_id = ?",
        "SELECT controller, subject_id, event, at FROM events"
        " WHERE controller = ? AND subject_id = ? ORDER BY seq",
        "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
        " FROM identifiers WHERE controller = ? AND subject_id = ? ORDER BY seq",
        "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
        " collected_at, state, updated_at FROM records"
        " WHERE controller = ? AND subject_id = ? ORDER BY record_id",
        "SELECT controller, subject_id, seq, target_kind, target, action, notice_version,"
        " channel, at, sealed_evidence FROM consent_events"
        " WHERE controller = ? AND subject_id = ? ORDER BY seq",
        "SELECT controller, subject_id, channel, allowed, at FROM preferences"
        " WHERE controller = ? AND subject_id = ? ORDER BY seq",
        "SELECT controller, subject_id, purpose, at, lifted_at FROM objections"
        " WHERE controller = ? AND subject_id = ? ORDER BY seq",
        "SELECT controller, subject_id, restriction_id, categories, reason, at, lifted_at"
        " FROM restrictions WHERE controller = ? AND subject_id = ? ORDER BY restriction_id",
    };
    for (const char* sql : queries) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db_));
        std::exit(1);
      }
      statements_.push_back(statement);
    }
  }
  ~RawReader() {
    for (sqlite3_stmt* statement : statements_) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }
  RawReader(const RawReader&) = delete;
  RawReader& operator=(const RawReader&) = delete;

  // Returns the number of rows read.
  size_t Read(const std::string& subject_id) {
    size_t rows = 0;
    for (sqlite3_stmt* statement : statements_) {
      sqlite3_bind_text(statement, 1, kController, -1, SQLITE_STATIC);
      sqlite3_bind_text(statement, 2, subject_id.data(), static_cast<int>(subject_id.size()),
                        SQLITE_STATIC);
      while (sqlite3_step(statement) == SQLITE_ROW) {
        ++rows;
        for (int c = 0, n = sqlite3_column_count(statement); c < n; ++c) {
          if (sqlite3_column_type(statement, c) == SQLITE_INTEGER) {
            bytes_ += static_cast<size_t>(sqlite3_column_int64(statement, c) & 1);
          } else {
            (void)sqlite3_column_blob(statement, c);
            bytes_ += static_cast<size_t>(sqlite3_column_bytes(statement, c));
          }
        }
      }
      sqlite3_reset(statement);
    }
    return rows;
  }
  size_t bytes() const { return bytes_; }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
  size_t bytes_ = 0;
};

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) {
  custos::TuneAllocator();
  using namespace custos;
  using namespace custos::bench;
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  size_t subjects = SizeArg(argc, argv, 1, "READ_SUBJECTS", 1000000);
  size_t records = SizeArg(argc, argv, 2, "READ_RECORDS", 10000000);
  size_t reads = SizeArg(argc, argv, 3, "READ_READS", 1000);
  Check(crypto::InitSodium(), "sodium");
  auto policy = Check(
      policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"), "policy");

  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() /
                  ("custos-read-bench-" + std::to_string(subjects) + "x" + std::to_string(records));
  bool reuse = fs::exists(root / "complete");
  if (!reuse) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  auto master = Check(crypto::MasterKey::LoadOrCreate((root / "master.key").string()), "key");
  fs::path data = root / "data";
  FixedClock clock(*Timestamp::Parse("2026-01-01"));
  {
    auto store = Check(store::OpenSqliteStore({data.string(), false}), "open store");
    engine::Engine engine(policy, kController, *store, master, clock);
    Check(engine.Open("bench"), "engine open");
    if (!reuse) {
      std::fprintf(stderr, "building %s: %zu subjects, %zu records\n", root.c_str(), subjects,
                   records);
      Load(*store, master, subjects, records);
      std::ofstream(root / "complete") << "ok\n";
    }
  }
  std::string db_path = (data / store::SqliteStore::kFileName).string();
  std::error_code error;
  double db_mb = static_cast<double>(fs::file_size(db_path, error)) / 1e6;

  std::mt19937_64 rng(7);
  std::vector<std::string> sample;
  for (size_t i = 0; i < reads; ++i) sample.push_back(SubjectId(rng() % subjects));

  // Raw SQLite: a warm-up pass, then the timed one.
  std::vector<double> raw_ms;
  size_t raw_rows = 0;
  {
    RawReader raw(db_path);
    for (const auto& id : sample) raw.Read(id);
    for (size_t i = 0; i < sample.size() - (mismatch ? 1 : 0); ++i) {
      const std::string& id = sample[i];
      auto start = SteadyClock::now();
      raw_rows += raw.Read(id);
      raw_ms.push_back(SecondsSince(start) * 1e3);
    }
  }

  // custos: Engine::ReadSubject over SqliteStore. Durable (synchronous=FULL, as a server runs
  // it) is the result; each read commits its audit entry, so a second pass over a non-durable
  // store (synchronous=NORMAL: no fsync per commit) shows what that fsync costs.
  struct EngineRun {
    std::vector<double> ms;
    size_t rows = 0;
    int64_t audit_stored = 0;
  };
  auto read_all = [&](bool durable) {
    EngineRun run;
    std::vector<double>& ms = run.ms;
    size_t& rows = run.rows;
    auto store = Check(store::OpenSqliteStore({data.string(), durable}), "open store");
    engine::Engine engine(policy, kController, *store, master, clock);
    Check(engine.Open("bench"), "engine open");
    const int64_t head_before = engine.audit().head_seq();
    for (const auto& id : sample) {
      auto start = SteadyClock::now();
      auto view = Check(engine.ReadSubject(id, "bench", "access_request"), "ReadSubject");
      ms.push_back(SecondsSince(start) * 1e3);
      rows += 1 + view.events.size() + view.identifiers.size() + view.records.size() +
              view.consents.size() + view.preferences.size() + view.objections.size() +
              view.restrictions.size();
      if (view.records.empty() || view.records.front().value.empty()) {
        std::fprintf(stderr, "ReadSubject(%s) returned no unsealed record\n", id.c_str());
        std::exit(1);
      }
    }
    Check(engine.Flush(), "flush");
    run.audit_stored = engine.audit().head_seq() - head_before;
    return run;
  };
  EngineRun durable = read_all(true);
  EngineRun fast = read_all(false);
  std::vector<double>& engine_ms = durable.ms;
  std::vector<double>& fast_ms = fast.ms;
  const size_t engine_rows = durable.rows;

  double engine_p50 = Percentile(engine_ms, 0.5), engine_p99 = Percentile(engine_ms, 0.99);
  double raw_p50 = Percentile(raw_ms, 0.5), raw_p99 = Percentile(raw_ms, 0.99);
  std::printf(
      "read one subject among %zu subjects / %zu records (%s, %.0f MB, %s), %zu reads, "
      "%.1f rows each\n",
      subjects, records, db_path.c_str(), db_mb, reuse ? "reused" : "built now", reads,
      static_cast<double>(engine_rows) / static_cast<double>(reads));
  std::printf("  custos Engine::ReadSubject (unseal + audit): p50 %.3f ms, p99 %.3f ms\n",
              engine_p50, engine_p99);
  std::printf("  of which the audit commit's fsync: non-durable store p50 %.3f ms, p99 %.3f ms\n",
              Percentile(fast_ms, 0.5), Percentile(fast_ms, 0.99));
  std::printf("  baseline raw SQLite, same SELECTs, no unsealing: p50 %.3f ms, p99 %.3f ms\n",
              raw_p50, raw_p99);
  SameWork work;
  work.Equal("subjects read (engine; raw)", static_cast<long long>(engine_ms.size()),
             static_cast<long long>(raw_ms.size()));
  work.Equal("rows read (engine; raw)", static_cast<long long>(engine_rows),
             static_cast<long long>(raw_rows));
  work.Equal("rows read (engine on a durable store; on a non-durable one)",
             static_cast<long long>(engine_rows), static_cast<long long>(fast.rows));
  work.Holds("one audit entry stored per engine read (" + std::to_string(durable.audit_stored) +
                 " and " + std::to_string(fast.audit_stored) + ")",
             durable.audit_stored == static_cast<int64_t>(reads) &&
                 fast.audit_stored == static_cast<int64_t>(reads));
  work.Require();
  std::printf("  ratio custos/raw: p50 %.1fx, p99 %.1fx\n", engine_p50 / raw_p50,
              engine_p99 / raw_p99);
  std::printf("  goal p99 <= 20 ms: %s\n", engine_p99 <= 20.0 ? "met" : "NOT met");
  return 0;
}
