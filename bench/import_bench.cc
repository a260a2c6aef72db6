// `custos import` of a CRM export against raw SQLite inserting the same rows in the same
// batches, measured in the same run. Goal: >= 50 % of raw. Also peak memory (--memory).
//
// Measured side: the CLI itself (RunCli "import", the path an operator runs) over a CSV of ROWS
// WIG members (the columns of tests/fixtures/import/wig_crm.csv), in batches of BATCH people:
// each row is parsed, mapped, checked by the engine's rules, sealed with a fresh data key per
// person, blind-indexed, looked up (already imported? suppressed?) and stored with its audit
// entry, one transaction per batch. Durable store (WAL, synchronous=FULL).
// Baseline: the sqlite3 C API over a database with the identical schema (created by
// SqliteStore, then closed; same PRAGMAs), inserting exactly the rows the import stored (read
// back from its database beforehand, outside the timing: subjects, events, identifiers,
// records, consent events and audit entries), BATCH people per transaction, with one prepared
// INSERT per table. No crypto, no parsing, no look-ups: what the import adds is the difference.
//
// Before the ratio: each table of both databases holds as many rows, and the import stored
// ROWS people, each with its audit entry (bench_util.h, SameWork).
//
// Usage: import_bench [ROWS=100000] [BATCH=1000] [--mismatch-for-testing]
//        import_bench --memory ROWS [BATCH=1000]: the import only; prints its peak RSS.
// Data under /tmp, removed at the end.
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/import_export.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTables[] = {"subjects", "events",         "identifiers",
                                   "records",  "consent_events", "audit_log"};

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, error ? error : "?");
    std::exit(1);
  }
}

sqlite3* Open(const fs::path& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  return db;
}

long long Count(const fs::path& path, const std::string& table) {
  sqlite3* db = Open(path, SQLITE_OPEN_READONLY);
  sqlite3_stmt* statement = nullptr;
  std::string sql = "SELECT COUNT(*) FROM " + table;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK ||
      sqlite3_step(statement) != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql.c_str(), sqlite3_errmsg(db));
    std::exit(1);
  }
  long long count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// The rows of one batch of people, table by table, copied out of the import's database.
struct BatchRows {
  std::map<std::string, std::vector<std::vector<sqlite3_value*>>> tables;
  ~BatchRows() {
    for (auto& [table, rows] : tables) {
      for (auto& row : rows) {
        for (auto* value : row) sqlite3_value_free(value);
      }
    }
  }
};

struct RawRun {
  double seconds = 0;
  size_t commits = 0;
};

// Inserts into `raw` the rows the import stored in `source`, `batch` people per transaction.
RawRun RawInsert(const fs::path& source, const fs::path& raw, size_t batch, bool mismatch) {
  sqlite3* from = Open(source, SQLITE_OPEN_READONLY);
  sqlite3* to = Open(raw, SQLITE_OPEN_READWRITE);
  Exec(to, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  // People in the order the import stored them (its audit entries).
  std::vector<std::string> people;
  {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(from,
                       "SELECT subject_id FROM audit_log WHERE action = 'import' ORDER BY seq", -1,
                       &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      people.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    }
    sqlite3_finalize(s);
  }
  if (mismatch && !people.empty()) people.pop_back();
  std::map<std::string, sqlite3_stmt*> select, insert;
  for (const char* table : kTables) {
    std::string where = std::string(table) == "audit_log"
                            ? " WHERE subject_id = ? AND action = 'import'"
                            : " WHERE subject_id = ?";
    sqlite3_prepare_v2(from, (std::string("SELECT * FROM ") + table + where).c_str(), -1,
                       &select[table], nullptr);
    int columns = sqlite3_column_count(select[table]);
    std::string sql = std::string("INSERT INTO ") + table + " VALUES (";
    for (int c = 0; c < columns; ++c) sql += c == 0 ? "?" : ", ?";
    sql += ")";
    if (sqlite3_prepare_v2(to, sql.c_str(), -1, &insert[table], nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite: %s: %s\n", sql.c_str(), sqlite3_errmsg(to));
      std::exit(1);
    }
  }
  RawRun run;
  for (size_t first = 0; first < people.size(); first += batch) {
    BatchRows rows;
    size_t last = std::min(people.size(), first + batch);
    for (const char* table : kTables) {
      sqlite3_stmt* s = select[table];
      for (size_t p = first; p < last; ++p) {
        sqlite3_bind_text(s, 1, people[p].c_str(), -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
          std::vector<sqlite3_value*> row;
          for (int c = 0; c < sqlite3_column_count(s); ++c) {
            row.push_back(sqlite3_value_dup(sqlite3_column_value(s, c)));
          }
          rows.tables[table].push_back(std::move(row));
        }
        sqlite3_reset(s);
      }
    }
    auto start = SteadyClock::now();
    Exec(to, "BEGIN");
    for (const char* table : kTables) {
      sqlite3_stmt* s = insert[table];
      for (const auto& row : rows.tables[table]) {
        for (size_t c = 0; c < row.size(); ++c) {
          sqlite3_bind_value(s, static_cast<int>(c + 1), row[c]);
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
          std::fprintf(stderr, "sqlite: insert into %s: %s\n", table, sqlite3_errmsg(to));
          std::exit(1);
        }
        sqlite3_reset(s);
      }
    }
    Exec(to, "COMMIT");
    run.seconds += SecondsSince(start);
    ++run.commits;
  }
  for (auto& [table, s] : select) sqlite3_finalize(s);
  for (auto& [table, s] : insert) sqlite3_finalize(s);
  sqlite3_close(from);
  sqlite3_close(to);
  return run;
}

int Main(int argc, char** argv) {
  bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  bool memory = TakeFlag(argc, argv, "--memory");
  size_t rows = SizeArg(argc, argv, 1, "IMPORT_ROWS", 100000);
  size_t batch = SizeArg(argc, argv, 2, "IMPORT_BATCH", 1000);
  fs::path root = fs::temp_directory_path() / ("custos-import-bench-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  fs::path csv = root / "export.csv";
  WriteExport(csv, rows);
  fs::path data = root / "data";
  InitData({"--data", data.string()});

  if (memory) {
    long before = PeakRssKb();
    auto start = SteadyClock::now();
    int code = Cli(ImportArgs({"--data", data.string()}, csv, batch));
    double seconds = SecondsSince(start);
    long long stored = Count(data / store::SqliteStore::kFileName, "subjects");
    fs::remove_all(root);
    if (code != 0) return 1;
    std::printf("import of %zu rows (%lld people stored) in %.1f s (%.0f rows/s), batches of %zu\n",
                rows, stored, seconds, static_cast<double>(rows) / seconds, batch);
    std::printf("  peak RSS: %ld KiB before the import, %ld KiB after (the process's high mark)\n",
                before, PeakRssKb());
    return 0;
  }

  auto start = SteadyClock::now();
  if (Cli(ImportArgs({"--data", data.string()}, csv, batch)) != 0) return 1;
  double import_seconds = SecondsSince(start);
  fs::path db = data / store::SqliteStore::kFileName;

  // The baseline's database: the same schema, initialised the same way (no people yet; the
  // audit log holds init's entries, so the import's entries keep their sequence numbers).
  fs::path raw_dir = root / "raw";
  InitData({"--data", raw_dir.string()});
  fs::path raw_db = raw_dir / store::SqliteStore::kFileName;
  long long raw_audit_left = Count(raw_db, "audit_log");
  RawRun raw = RawInsert(db, raw_db, batch, mismatch);

  SameWork work;
  work.Holds("the import stored one person per row (" + std::to_string(rows) + ")",
             Count(db, "subjects") == static_cast<long long>(rows));
  work.Holds("one import audit entry per person",
             Count(db, "audit_log WHERE action = 'import'") == static_cast<long long>(rows));
  for (const char* table : kTables) {
    long long measured = Count(db, table);
    long long baseline = Count(raw_db, table);
    if (std::string(table) == "audit_log") {
      measured = Count(db, "audit_log WHERE action = 'import'");
      baseline -= raw_audit_left;
    }
    work.Equal(std::string("rows in ") + table + " (import; raw)", measured, baseline);
  }
  work.Equal("transactions (import batches; raw)",
             static_cast<long long>((rows + batch - 1) / batch),
             static_cast<long long>(raw.commits));
  work.Require();

  double import_rate = static_cast<double>(rows) / import_seconds;
  double raw_rate = static_cast<double>(rows) / raw.seconds;
  double ratio = import_rate / raw_rate;
  std::printf(
      "import of %zu CRM rows (2 identifiers + external id, 2 records, 1 event, 1 consent "
      "each), batches of %zu, WAL, synchronous=FULL\n",
      rows, batch);
  std::printf(
      "  custos import (CLI: parse, map, check, seal, index, audit): %.0f rows/s (%.1f s)\n",
      import_rate, import_seconds);
  std::printf("  baseline raw SQLite, the same rows, the same batches: %.0f people/s (%.1f s)\n",
              raw_rate, raw.seconds);
  std::printf("  ratio: %.2f (goal >= 0.50: %s)\n", ratio, ratio >= 0.5 ? "met" : "not met");
  fs::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
