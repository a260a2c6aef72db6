// Bulk ingest into PostgreSQL: PostgresStore::Import (COPY through the store) against a
// raw COPY of the same rows in the same run. Goal: >= 50 % of raw.
//
// The rows: SUBJECTS people, each with one identifier, two records and two consent events
// (6 rows a person), values sealed-sized random bytes (the store never sees plaintext, so the
// bytes' content does not matter).
//   custos import  PostgresStore::Import(WriteBatch) into a fresh custos schema: formats every
//                  row for COPY, one COPY per table, one transaction (keys, foreign keys,
//                  the blind-index index and the append-only triggers all in force).
//   raw, same      the same rows, formatted for COPY before the clock starts, COPY'd by libpq
//                  into an identical custos schema (same keys and triggers) in one transaction.
//   raw, bare      the same pre-formatted rows into tables with the same columns and no key,
//                  index or trigger: the floor.
//   custos apply   for information: Store::Apply with 1000-row batches (prepared INSERTs).
// Each is run REPEATS times on fresh schemas; medians are printed. One process, one load at a
// time: nothing runs beside the load being timed.
// Before the ratios: after every load its schema's four tables are counted, and each must
// hold the rows of the batch, table by table (bench_util.h, SameWork).
//
// Usage: CUSTOS_BENCH_DATABASE_URL=postgresql://... pg_ingest_bench [SUBJECTS=20000] [REPEATS=3]
//        [--mismatch-for-testing]  (the raw COPY into the same schema leaves out one consent
//                                   row: no verdict)
// (start a throwaway server with scripts/pg-test-cluster.sh start DIR; its URL is in DIR/url).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "bench/bench_util.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_store.h"

namespace custos::bench {
namespace {

constexpr char kController[] = "bench";

store::Bytes RandomBytes(std::mt19937_64& random, size_t size) {
  store::Bytes bytes(size);
  for (auto& byte : bytes) byte = static_cast<uint8_t>(random());
  return bytes;
}

store::WriteBatch MakeRows(size_t subjects) {
  std::mt19937_64 random(7);
  store::WriteBatch batch;
  const Timestamp at = Timestamp::FromUnixSeconds(1'760'000'000);
  for (size_t i = 0; i < subjects; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "s%08zu", i);
    store::SubjectRow subject;
    subject.controller = kController;
    subject.subject_id = id;
    subject.types = {"member"};
    subject.created_at = at;
    subject.wrapped_key = RandomBytes(random, 72);
    batch.Add(subject);
    store::IdentifierRow identifier;
    identifier.controller = kController;
    identifier.subject_id = id;
    identifier.kind = "email";
    identifier.blind_index = RandomBytes(random, 32);
    identifier.sealed_value = RandomBytes(random, 64);
    identifier.verified = true;
    identifier.added_at = at;
    batch.Add(identifier);
    for (const char* category : {"user.name", "user.contact.postal_code"}) {
      store::RecordRow record;
      record.controller = kController;
      record.subject_id = id;
      record.category = category;
      record.sealed_value = RandomBytes(random, 64);
      record.source = "direct";
      record.purpose = "membership_records";
      record.collected_at = at;
      record.updated_at = at;
      batch.Add(record);
    }
    for (const char* purpose : {"newsletter", "event_bookings"}) {
      store::ConsentEventRow consent;
      consent.controller = kController;
      consent.subject_id = id;
      consent.target = purpose;
      consent.notice_version = "2022-02-10";
      consent.channel = "web";
      consent.at = at;
      consent.sealed_evidence = RandomBytes(random, 56);
      batch.Add(consent);
    }
  }
  return batch;
}

// The rows of `batch` formatted for COPY, per table, in the column order of kRawCopies.
struct RawData {
  std::string subjects, identifiers, records, consents;
};

RawData Format(const store::WriteBatch& batch) {
  RawData raw;
  auto field = [](std::string& out, std::string_view text) {
    store::pg::AppendCopyText(out, text);
    out.push_back('\t');
  };
  auto bytes = [](std::string& out, const store::Bytes& value) {
    store::pg::AppendCopyBytea(out, value);
    out.push_back('\t');
  };
  auto end = [](std::string& out) { out.back() = '\n'; };
  for (const auto& op : batch.ops) {
    if (const auto* s = std::get_if<store::SubjectRow>(&op)) {
      field(raw.subjects, s->controller);
      field(raw.subjects, s->subject_id);
      field(raw.subjects, "member");
      field(raw.subjects, std::to_string(s->created_at.micros));
      bytes(raw.subjects, s->wrapped_key);
      field(raw.subjects, "active");
      raw.subjects += "\\N\t";  // erased_at: NULL
      end(raw.subjects);
    } else if (const auto* d = std::get_if<store::IdentifierRow>(&op)) {
      field(raw.identifiers, d->controller);
      field(raw.identifiers, d->subject_id);
      field(raw.identifiers, d->kind);
      bytes(raw.identifiers, d->blind_index);
      bytes(raw.identifiers, d->sealed_value);
      field(raw.identifiers, "t");
      field(raw.identifiers, std::to_string(d->added_at.micros));
      end(raw.identifiers);
    } else if (const auto* r = std::get_if<store::RecordRow>(&op)) {
      field(raw.records, r->controller);
      field(raw.records, r->subject_id);
      field(raw.records, r->category);
      bytes(raw.records, r->sealed_value);
      field(raw.records, r->source);
      field(raw.records, r->purpose);
      field(raw.records, std::to_string(r->collected_at.micros));
      field(raw.records, "active");
      field(raw.records, std::to_string(r->updated_at.micros));
      end(raw.records);
    } else if (const auto* c = std::get_if<store::ConsentEventRow>(&op)) {
      field(raw.consents, c->controller);
      field(raw.consents, c->subject_id);
      field(raw.consents, "purpose");
      field(raw.consents, c->target);
      field(raw.consents, "given");
      field(raw.consents, c->notice_version);
      field(raw.consents, c->channel);
      field(raw.consents, std::to_string(c->at.micros));
      bytes(raw.consents, c->sealed_evidence);
      end(raw.consents);
    }
  }
  return raw;
}

constexpr char kBareSchema[] = R"sql(
CREATE TABLE subjects (controller text, subject_id text, types text, created_at bigint,
  wrapped_key bytea, state text, erased_at bigint);
CREATE TABLE identifiers (controller text, subject_id text, seq bigserial, kind text,
  blind_index bytea, sealed_value bytea, verified boolean, added_at bigint);
CREATE TABLE records (controller text, subject_id text, record_id bigserial, category text,
  sealed_value bytea, source text, purpose text, collected_at bigint, state text,
  updated_at bigint);
CREATE TABLE consent_events (controller text, subject_id text, seq bigserial, target_kind text,
  target text, action text, notice_version text, channel text, at bigint, sealed_evidence bytea);
)sql";

double RawCopy(store::pg::Connection& db, const RawData& raw) {
  auto start = SteadyClock::now();
  Check(db.Exec("BEGIN"), "BEGIN");
  Check(db.Copy("COPY subjects (controller, subject_id, types, created_at, wrapped_key, state,"
                " erased_at) FROM STDIN",
                raw.subjects)
            .status(),
        "COPY subjects");
  Check(db.Copy("COPY identifiers (controller, subject_id, kind, blind_index, sealed_value,"
                " verified, added_at) FROM STDIN",
                raw.identifiers)
            .status(),
        "COPY identifiers");
  Check(db.Copy("COPY records (controller, subject_id, category, sealed_value, source, purpose,"
                " collected_at, state, updated_at) FROM STDIN",
                raw.records)
            .status(),
        "COPY records");
  Check(db.Copy("COPY consent_events (controller, subject_id, target_kind, target, action,"
                " notice_version, channel, at, sealed_evidence) FROM STDIN",
                raw.consents)
            .status(),
        "COPY consent_events");
  Check(db.Exec("COMMIT"), "COMMIT");
  return SecondsSince(start);
}

std::unique_ptr<store::PostgresStore> FreshStore(const std::string& url,
                                                 const std::string& schema) {
  Check(store::DropPostgresSchemaForTesting(url, schema), "drop schema");
  store::PostgresOptions options;
  options.url = url;
  options.schema = schema;
  return Check(store::PostgresStore::Open(options), "open store");
}

double Median(std::vector<double> values) { return Percentile(values, 0.5); }

constexpr const char* kTables[] = {"subjects", "identifiers", "records", "consent_events"};

// The rows of each of kTables in `schema`, in that order.
std::vector<int64_t> CountRows(const std::string& url, const std::string& schema) {
  auto db = Check(store::pg::Connection::Open({url, schema}), "connect");
  std::vector<int64_t> counts;
  for (const char* table : kTables) {
    auto rows = Check(db->QueryOnce(std::string("SELECT count(*) FROM ") + table, {}), "count");
    counts.push_back(rows.Int(0, 0));
  }
  return counts;
}

// The rows of each of kTables in `batch`.
std::vector<int64_t> ExpectedRows(const store::WriteBatch& batch) {
  std::vector<int64_t> counts(4, 0);
  for (const auto& op : batch.ops) {
    if (std::holds_alternative<store::SubjectRow>(op)) ++counts[0];
    if (std::holds_alternative<store::IdentifierRow>(op)) ++counts[1];
    if (std::holds_alternative<store::RecordRow>(op)) ++counts[2];
    if (std::holds_alternative<store::ConsentEventRow>(op)) ++counts[3];
  }
  return counts;
}

// Adds to `work` the check that `loaded` (what a side's schema holds) is `expected` (what the
// batch has), table by table.
void CheckLoaded(SameWork& work, const char* side, const std::vector<int64_t>& loaded,
                 const std::vector<int64_t>& expected) {
  auto list = [](const std::vector<int64_t>& counts) {
    std::string text;
    for (int64_t n : counts) text += (text.empty() ? "" : "/") + std::to_string(n);
    return text;
  };
  work.Holds(std::string(side) + ": rows stored in subjects/identifiers/records/consent_events " +
                 list(loaded) +
                 (loaded == expected ? ", as in the batch" : ", the batch has " + list(expected)),
             loaded == expected);
}

int Main(int argc, char** argv) {
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const char* url_env = std::getenv("CUSTOS_BENCH_DATABASE_URL");
  if (url_env == nullptr || *url_env == '\0') {
    std::fprintf(stderr,
                 "set CUSTOS_BENCH_DATABASE_URL (scripts/pg-test-cluster.sh start DIR writes "
                 "DIR/url)\n");
    return 2;
  }
  const std::string url = url_env;
  const size_t subjects = SizeArg(argc, argv, 1, "PG_BENCH_SUBJECTS", 20000);
  const size_t repeats = SizeArg(argc, argv, 2, "PG_BENCH_REPEATS", 3);
  const store::WriteBatch rows = MakeRows(subjects);
  const double row_count = static_cast<double>(rows.ops.size());
  const RawData raw = Format(rows);
  RawData raw_same = raw;
  if (mismatch) {  // drop the last consent line
    raw_same.consents.pop_back();
    raw_same.consents.resize(raw_same.consents.rfind('\n') + 1);
  }
  const std::vector<int64_t> expected = ExpectedRows(rows);
  // What each side stored, the last time it ran (every run loads the same rows).
  std::vector<int64_t> import_rows, same_rows, bare_rows, apply_rows;

  std::vector<double> custos, same, bare, apply;
  for (size_t r = 0; r < repeats; ++r) {
    {  // custos import
      auto store = FreshStore(url, "bench_import");
      auto start = SteadyClock::now();
      int64_t loaded = Check(store->Import(rows), "import");
      custos.push_back(SecondsSince(start));
      if (loaded != static_cast<int64_t>(rows.ops.size())) {
        std::fprintf(stderr, "imported %lld rows of %zu\n", static_cast<long long>(loaded),
                     rows.ops.size());
        return 1;
      }
    }
    import_rows = CountRows(url, "bench_import");
    {  // raw COPY into an identical custos schema
      auto store = FreshStore(url, "bench_raw_same");
      store.reset();
      auto db = Check(store::pg::Connection::Open({url, "bench_raw_same"}), "connect");
      same.push_back(RawCopy(*db, raw_same));
    }
    same_rows = CountRows(url, "bench_raw_same");
    {  // raw COPY into bare tables
      Check(store::DropPostgresSchemaForTesting(url, "bench_raw_bare"), "drop schema");
      auto db = Check(store::pg::Connection::Open({url, "bench_raw_bare"}), "connect");
      Check(db->Exec("CREATE SCHEMA bench_raw_bare"), "create schema");
      Check(db->Exec(kBareSchema), "create tables");
      bare.push_back(RawCopy(*db, raw));
    }
    bare_rows = CountRows(url, "bench_raw_bare");
    if (r == 0) {  // Apply, once (slow)
      auto store = FreshStore(url, "bench_apply");
      auto start = SteadyClock::now();
      for (size_t at = 0; at < rows.ops.size(); at += 1000) {
        store::WriteBatch part;
        for (size_t i = at; i < std::min(rows.ops.size(), at + 1000); ++i) {
          part.ops.push_back(rows.ops[i]);
        }
        Check(store->Apply(part).status(), "apply");
      }
      apply.push_back(SecondsSince(start));
      apply_rows = CountRows(url, "bench_apply");
    }
  }
  for (const char* schema : {"bench_import", "bench_raw_same", "bench_raw_bare", "bench_apply"}) {
    (void)store::DropPostgresSchemaForTesting(url, schema);
  }
  auto rate = [&](double seconds) { return row_count / seconds; };
  std::printf("PostgreSQL ingest, %zu people, %.0f rows (median of %zu runs)\n", subjects,
              row_count, repeats);
  std::printf("  custos Import (COPY via the store)   %9.0f rows/s\n", rate(Median(custos)));
  std::printf("  raw COPY, same schema                %9.0f rows/s\n", rate(Median(same)));
  std::printf("  raw COPY, bare tables                %9.0f rows/s\n", rate(Median(bare)));
  std::printf("  custos Apply, 1000-row batches       %9.0f rows/s (one run)\n",
              rate(Median(apply)));
  SameWork work;
  CheckLoaded(work, "custos Import", import_rows, expected);
  CheckLoaded(work, "raw COPY, same schema", same_rows, expected);
  CheckLoaded(work, "raw COPY, bare tables", bare_rows, expected);
  CheckLoaded(work, "custos Apply", apply_rows, expected);
  work.Require();
  std::printf("ratio custos Import / raw COPY same schema: %.0f %% (goal >= 50 %%)\n",
              100.0 * Median(same) / Median(custos));
  std::printf("ratio custos Import / raw COPY bare tables: %.0f %%\n",
              100.0 * Median(bare) / Median(custos));
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
