// `custos import` on PostgreSQL against raw COPY of the same rows in the same batches, measured
// in the same run. Goal: >= 50 % of raw COPY.
//
// Measured side: the CLI itself (RunCli "import" with --database), over the CSV of ROWS WIG
// members that import_bench uses (tests/fixtures/import/wig_crm.yaml's columns), BATCH people
// per transaction: each row parsed, mapped, checked, sealed with a fresh data key, blind-
// indexed, looked up (already imported? suppressed? one query per batch each), chained into the
// audit log and stored, with COPY for the batch's new rows.
// Baseline: libpq COPY of exactly the rows the import stored (read back from its schema and
// formatted for COPY beforehand, outside the timing: subjects, events, identifiers, records,
// consent events and the import's audit entries) into a second schema made the same way (custos
// init: same tables, keys, indexes and append-only triggers), one transaction per batch of the
// same people, one COPY per table: no parsing, crypto, look-ups or chaining.
//
// Before the ratio: each table of both schemas holds as many rows, and both committed as many
// transactions (bench_util.h, SameWork).
//
// Usage: CUSTOS_BENCH_DATABASE_URL=postgresql://... import_pg_bench [ROWS=20000] [BATCH=1000]
//        [--mismatch-for-testing]  (the baseline leaves out the last person: no verdict)
// (a throwaway server: scripts/pg-test-cluster.sh start DIR; its URL is in DIR/url).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "bench/import_export.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_store.h"

namespace custos::bench {
namespace {

namespace fs = std::filesystem;
using store::pg::Connection;

// A table as the import loads it: its columns in COPY order, each column's kind (t: text, i:
// bigint, b: bytea, f: boolean; results come back in binary), and which rows are the import's.
struct Table {
  const char* name;
  std::vector<const char*> columns;
  const char* kinds;
  const char* where;
};

const std::vector<Table>& Tables() {
  static const std::vector<Table> tables = {
      {"subjects",
       {"controller", "subject_id", "types", "created_at", "wrapped_key", "state", "erased_at"},
       "tttibti",
       ""},
      {"events", {"controller", "subject_id", "event", "at"}, "ttti", ""},
      {"identifiers",
       {"controller", "subject_id", "kind", "blind_index", "sealed_value", "verified", "added_at"},
       "tttbbfi",
       ""},
      {"records",
       {"controller", "subject_id", "category", "sealed_value", "source", "purpose", "collected_at",
        "state", "updated_at"},
       "tttbttiti",
       ""},
      {"consent_events",
       {"controller", "subject_id", "target_kind", "target", "action", "notice_version", "channel",
        "at", "sealed_evidence"},
       "tttttttib",
       ""},
      {"audit_log",
       {"seq", "controller", "at", "actor", "action", "purpose", "subject_id", "detail",
        "prev_hash", "hash"},
       "ititttttbb",
       " WHERE action = 'import'"},
  };
  return tables;
}

std::unique_ptr<Connection> Open(const std::string& url, const std::string& schema) {
  auto db = Connection::Open({url, schema});
  Check(db.status(), "connect");
  return std::move(*db);
}

long long Count(Connection& db, const std::string& table, const char* where = "") {
  auto rows = db.QueryOnce("SELECT COUNT(*) FROM " + table + where, {});
  Check(rows.status(), "count");
  return rows->Int(0, 0);
}

// Per batch, per table: the import's rows in COPY's text format.
using BatchData = std::vector<std::map<std::string, std::string>>;

BatchData ReadBack(Connection& db, size_t batch, bool mismatch) {
  // The people in the order the import stored them (its audit entries), and their batches.
  auto people =
      db.QueryOnce("SELECT subject_id FROM audit_log WHERE action = 'import' ORDER BY seq", {});
  Check(people.status(), "read the people");
  std::unordered_map<std::string, size_t> batch_of;
  int count = people->size() - (mismatch ? 1 : 0);
  for (int i = 0; i < count; ++i) batch_of[people->Text(i, 0)] = static_cast<size_t>(i) / batch;
  BatchData data((static_cast<size_t>(count) + batch - 1) / batch);
  for (const Table& table : Tables()) {
    std::string sql = "SELECT ";
    for (size_t c = 0; c < table.columns.size(); ++c) {
      sql += (c ? ", " : "") + std::string(table.columns[c]);
    }
    sql += std::string(" FROM ") + table.name + table.where;
    auto rows = db.QueryOnce(sql, {});
    Check(rows.status(), table.name);
    const int subject_column = std::string(table.name) == "audit_log" ? 6 : 1;
    for (int r = 0; r < rows->size(); ++r) {
      auto found = batch_of.find(rows->Text(r, subject_column));
      if (found == batch_of.end()) continue;  // init's own rows, or the left-out person
      std::string& out = data[found->second][table.name];
      for (size_t c = 0; c < table.columns.size(); ++c) {
        const int column = static_cast<int>(c);
        if (rows->IsNull(r, column)) {
          out += "\\N";
        } else if (table.kinds[c] == 'b') {
          store::pg::AppendCopyBytea(out, rows->Blob(r, column));
        } else if (table.kinds[c] == 'i') {
          out += std::to_string(rows->Int(r, column));
        } else if (table.kinds[c] == 'f') {
          out += rows->Bool(r, column) ? "t" : "f";
        } else {
          store::pg::AppendCopyText(out, rows->Text(r, column));
        }
        out += c + 1 < table.columns.size() ? '\t' : '\n';
      }
    }
  }
  return data;
}

int Main(int argc, char** argv) {
  bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const char* url = std::getenv("CUSTOS_BENCH_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr, "set CUSTOS_BENCH_DATABASE_URL (scripts/pg-test-cluster.sh start DIR)\n");
    return 2;
  }
  size_t rows = SizeArg(argc, argv, 1, "IMPORT_ROWS", 20000);
  size_t batch = SizeArg(argc, argv, 2, "IMPORT_BATCH", 1000);
  const std::string suffix = std::to_string(::getpid());
  const std::string measured_schema = "import_bench_" + suffix, raw_schema = "import_raw_" + suffix;
  fs::path root = fs::temp_directory_path() / ("custos-import-pg-bench-" + suffix);
  fs::remove_all(root);
  fs::create_directories(root);
  fs::path csv = root / "export.csv";
  WriteExport(csv, rows);
  const std::vector<std::string> measured_db = {
      "--data", (root / "measured").string(), "--database", url, "--schema", measured_schema};
  const std::vector<std::string> raw_db = {
      "--data", (root / "raw").string(), "--database", url, "--schema", raw_schema};
  InitData(measured_db);
  InitData(raw_db);

  auto start = SteadyClock::now();
  if (Cli(ImportArgs(measured_db, csv, batch)) != 0) return 1;
  double import_seconds = SecondsSince(start);

  auto measured = Open(url, measured_schema), raw = Open(url, raw_schema);
  long long raw_audit_left = Count(*raw, "audit_log");
  BatchData data = ReadBack(*measured, batch, mismatch);
  double raw_seconds = 0;
  size_t commits = 0;
  for (const auto& tables : data) {
    auto begin = SteadyClock::now();
    Check(raw->Exec("BEGIN"), "BEGIN");
    for (const Table& table : Tables()) {
      auto found = tables.find(table.name);
      if (found == tables.end()) continue;
      std::string sql = std::string("COPY ") + table.name + " (";
      for (size_t c = 0; c < table.columns.size(); ++c) {
        sql += (c ? ", " : "") + std::string(table.columns[c]);
      }
      Check(raw->Copy(sql + ") FROM STDIN", found->second).status(), table.name);
    }
    Check(raw->Exec("COMMIT"), "COMMIT");
    raw_seconds += SecondsSince(begin);
    ++commits;
  }

  SameWork work;
  work.Holds("the import stored one person per row (" + std::to_string(rows) + ")",
             Count(*measured, "subjects") == static_cast<long long>(rows));
  for (const Table& table : Tables()) {
    long long mine = Count(*measured, table.name, table.where);
    long long theirs = Count(*raw, table.name, table.where);
    if (std::string(table.name) == "audit_log") {
      theirs = Count(*raw, "audit_log") - raw_audit_left;
    }
    work.Equal(std::string("rows in ") + table.name + " (import; raw COPY)", mine, theirs);
  }
  work.Equal("transactions (import batches; raw COPY)",
             static_cast<long long>((rows + batch - 1) / batch), static_cast<long long>(commits));
  work.Require();

  double import_rate = static_cast<double>(rows) / import_seconds;
  double raw_rate = static_cast<double>(rows) / raw_seconds;
  double ratio = import_rate / raw_rate;
  std::printf(
      "import of %zu CRM rows into PostgreSQL (2 identifiers + external id, 2 records, 1 "
      "event, 1 consent each), batches of %zu\n",
      rows, batch);
  std::printf(
      "  custos import (CLI: parse, map, check, seal, index, look up, audit, COPY): "
      "%.0f rows/s (%.1f s)\n",
      import_rate, import_seconds);
  std::printf("  baseline raw COPY, the same rows, the same batches: %.0f people/s (%.1f s)\n",
              raw_rate, raw_seconds);
  std::printf("  ratio: %.2f (goal >= 0.50: %s)\n", ratio, ratio >= 0.5 ? "met" : "not met");
  measured.reset();
  raw.reset();
  for (const auto& schema : {measured_schema, raw_schema}) {
    (void)store::DropPostgresSchemaForTesting(url, schema);
  }
  fs::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
