// Finding a person across the organisation's systems (docs/SYSTEMS.md) against the same
// SELECTs run directly, measured in the same run. Goal: within 2x of direct. Also an erasure
// across the three systems, reported with its direct counterpart.
//
// Three SQLite systems of ROWS rows each (a CRM's contacts, an events database's attendees, a
// mailing list's subscribers), each with an index on its email column; made once under /tmp
// and kept between runs (they take about ten seconds each to build at 1M rows).
// Measured side: engine::FindPersonIn over the real connectors (connectors/sqlite_system.h),
// LOOKUPS people, each in all three systems: the columns the policy declares, found by the
// e-mail address as given and in custos's canonical form (one IN list per system).
// Baseline: the sqlite3 C API running the same SELECT (same columns, same IN list of the same
// two values) against each system's database, through one prepared statement per system kept
// for the whole run: the fastest way the same question can be asked.
// Before the ratio: both sides found the same rows (bench_util.h, SameWork).
// Then erasure: ERASE further people erased in all three systems through engine::PlanErasureIn
// and ApplyErasureIn (name cleared, e-mail replaced by a keyed hash; one transaction per system
// per person), against direct UPDATEs of the same rows, one transaction per system per person.
//
// Usage: systems_reach_bench [ROWS=1000000] [LOOKUPS=2000] [ERASE=200] [--mismatch-for-testing]
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "connectors/sqlite_system.h"
#include "engine/systems_reach.h"

namespace custos::bench {
namespace {

namespace fs = std::filesystem;

struct Spec {
  const char* system;
  const char* table;
};
constexpr Spec kSystems[] = {
    {"crm", "contacts"}, {"events", "attendees"}, {"mailing", "subscribers"}};

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql.c_str(), error ? error : "?");
    std::exit(1);
  }
}

std::string Email(size_t i) { return "person" + std::to_string(i) + "@example.test"; }

// The database of one system, built once: ROWS rows, row i for person i.
fs::path Build(const Spec& spec, size_t rows) {
  fs::path dir = fs::temp_directory_path() / "custos-systems-bench";
  fs::create_directories(dir);
  fs::path path = dir / (std::string(spec.system) + "-" + std::to_string(rows) + ".sqlite");
  if (fs::exists(path)) return path;
  fs::path partial = path;
  partial += ".partial";
  fs::remove(partial);
  sqlite3* db = nullptr;
  sqlite3_open(partial.c_str(), &db);
  Exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF");
  Exec(db, std::string("CREATE TABLE ") + spec.table +
               " (id INTEGER PRIMARY KEY, email TEXT, name TEXT, joined_on TEXT)");
  Exec(db, "BEGIN");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(
      db, (std::string("INSERT INTO ") + spec.table + " VALUES (?, ?, ?, '2024-01-01')").c_str(),
      -1, &insert, nullptr);
  for (size_t i = 0; i < rows; ++i) {
    std::string email = Email(i), name = "Person " + std::to_string(i);
    sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(i + 1));
    sqlite3_bind_text(insert, 2, email.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  Exec(db, "COMMIT");
  Exec(db, std::string("CREATE INDEX ") + spec.table + "_email ON " + spec.table + " (email)");
  sqlite3_close(db);
  fs::rename(partial, path);
  return path;
}

policy::System SystemOf(const Spec& spec) {
  policy::System system;
  system.key = spec.system;
  system.name = spec.system;
  system.kind = policy::SystemKind::kSqlite;
  policy::Dataset dataset;
  dataset.key = spec.table;
  dataset.table = spec.table;
  dataset.primary_key = "id";
  dataset.find_by = {{"email", "email", {}}};
  dataset.fields = {{"email", {}, "user.contact.email", {}, policy::EraseAction::kHash, ""},
                    {"name", {}, "user.name", {}, policy::EraseAction::kClear, ""},
                    {"joined_on", {}, "", {}, policy::EraseAction::kKeep, ""}};
  system.datasets.push_back(dataset);
  return system;
}

int Main(int argc, char** argv) {
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const size_t rows = SizeArg(argc, argv, 1, "CUSTOS_BENCH_ROWS", 1000000);
  const size_t lookups = SizeArg(argc, argv, 2, "CUSTOS_BENCH_LOOKUPS", 2000);
  const size_t erase = SizeArg(argc, argv, 3, "CUSTOS_BENCH_ERASE", 200);
  if (lookups + erase > rows) {
    std::fprintf(stderr, "LOOKUPS + ERASE must not exceed ROWS\n");
    return 2;
  }
  std::printf("systems_reach_bench: 3 SQLite systems of %zu rows, %zu people found, %zu erased\n",
              rows, lookups, erase);
  std::vector<fs::path> paths;
  std::vector<policy::System> systems;
  std::vector<std::unique_ptr<engine::SystemConnector>> connectors;
  std::vector<sqlite3*> direct;
  for (const Spec& spec : kSystems) {
    SteadyClock::time_point start = SteadyClock::now();
    paths.push_back(Build(spec, rows));
    std::printf("  %s ready in %.1f s (%s)\n", spec.system, SecondsSince(start),
                paths.back().c_str());
    systems.push_back(SystemOf(spec));
    connectors.push_back(
        Check(connectors::OpenSqliteSystem(spec.system, paths.back().string()), "open connector"));
    sqlite3* db = nullptr;
    sqlite3_open_v2(paths.back().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    direct.push_back(db);
  }
  // The people: spread over the table, so the index, not the cache's first pages, finds them.
  const size_t stride = rows / (lookups + erase);
  auto person = [&](size_t k) { return k * stride + stride / 2; };

  // Measured: FindPersonIn in each system.
  long long found_reach = 0;
  SteadyClock::time_point start = SteadyClock::now();
  for (size_t k = 0; k < lookups; ++k) {
    engine::PersonIdentifiers who = {{"email", Email(person(k))}};
    for (size_t s = 0; s < systems.size(); ++s) {
      auto found = Check(engine::FindPersonIn(systems[s], *connectors[s], who), "find");
      for (const auto& dataset : found) found_reach += static_cast<long long>(dataset.rows.size());
    }
  }
  const double reach_seconds = SecondsSince(start);

  // Baseline: the same SELECT, one prepared statement per system.
  std::vector<sqlite3_stmt*> selects;
  for (size_t s = 0; s < systems.size(); ++s) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = std::string("SELECT \"id\", \"email\", \"name\", \"joined_on\" FROM \"") +
                      kSystems[s].table + "\" WHERE \"email\" IN (?, ?)";
    sqlite3_prepare_v2(direct[s], sql.c_str(), -1, &stmt, nullptr);
    selects.push_back(stmt);
  }
  long long found_direct = 0;
  start = SteadyClock::now();
  for (size_t k = 0; k < lookups; ++k) {
    // --mismatch-for-testing: the baseline looks for someone who is not there.
    std::string email = mismatch ? "nobody@example.test" : Email(person(k));
    for (sqlite3_stmt* stmt : selects) {
      sqlite3_bind_text(stmt, 1, email.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 2, email.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        for (int c = 0; c < 4; ++c) (void)sqlite3_column_text(stmt, c);
        ++found_direct;
      }
      sqlite3_reset(stmt);
    }
  }
  const double direct_seconds = SecondsSince(start);
  for (sqlite3_stmt* stmt : selects) sqlite3_finalize(stmt);

  // Erasure: custos's plan and changes against direct UPDATEs, on different people.
  long long erased_reach = 0;
  engine::KeepDecider keep_nothing = [](const std::string&) {
    return std::optional<engine::KeepReason>();
  };
  // A stand-in for the engine's keyed hash (the same on both sides): 64 hex digits.
  engine::ValueHasher hash = [](const std::string&, const std::string& value) {
    char text[65];
    std::snprintf(text, sizeof text, "%064zx", std::hash<std::string>{}(value));
    return std::string(text);
  };
  start = SteadyClock::now();
  for (size_t k = lookups; k < lookups + erase / 2; ++k) {
    engine::PersonIdentifiers who = {{"email", Email(person(k))}};
    for (size_t s = 0; s < systems.size(); ++s) {
      auto found = Check(engine::FindPersonIn(systems[s], *connectors[s], who), "find");
      auto plan = engine::PlanErasureIn(systems[s], found, keep_nothing);
      erased_reach +=
          Check(engine::ApplyErasureIn(systems[s], *connectors[s], plan, found, hash), "erase");
    }
  }
  const double erase_reach_seconds = SecondsSince(start);
  long long erased_direct = 0;
  std::vector<sqlite3_stmt*> updates;
  for (size_t s = 0; s < systems.size(); ++s) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = std::string("UPDATE \"") + kSystems[s].table +
                      "\" SET \"email\" = ?, \"name\" = NULL WHERE \"email\" = ?";
    sqlite3_prepare_v2(direct[s], sql.c_str(), -1, &stmt, nullptr);
    updates.push_back(stmt);
  }
  start = SteadyClock::now();
  for (size_t k = lookups + erase / 2; k < lookups + erase / 2 * 2; ++k) {
    std::string email = Email(person(k));
    for (size_t s = 0; s < systems.size(); ++s) {
      Exec(direct[s], "BEGIN IMMEDIATE");
      std::string hashed = hash("email", email);
      sqlite3_bind_text(updates[s], 1, hashed.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(updates[s], 2, email.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(updates[s]);
      erased_direct += sqlite3_changes(direct[s]);
      sqlite3_reset(updates[s]);
      Exec(direct[s], "COMMIT");
    }
  }
  const double erase_direct_seconds = SecondsSince(start);
  for (sqlite3_stmt* stmt : updates) sqlite3_finalize(stmt);
  for (sqlite3* db : direct) sqlite3_close(db);
  connectors.clear();

  SameWork same;
  same.Equal("rows found for " + std::to_string(lookups) + " people in 3 systems", found_reach,
             found_direct);
  same.Holds("every person was found in every system",
             found_reach == static_cast<long long>(lookups * systems.size()));
  same.Equal("rows erased (one per person per system)", erased_reach, erased_direct);
  same.Require();
  std::printf(
      "find:  custos %.1f us per person (3 systems), direct %.1f us: %.2fx of direct "
      "(goal: within 2x: %s)\n",
      reach_seconds / static_cast<double>(lookups) * 1e6,
      direct_seconds / static_cast<double>(lookups) * 1e6, reach_seconds / direct_seconds,
      reach_seconds <= 2 * direct_seconds ? "met" : "NOT met");
  std::printf(
      "erase: custos %.2f ms per person (3 systems, found, planned, one transaction "
      "each), direct UPDATEs %.2f ms: %.2fx\n",
      erase_reach_seconds / static_cast<double>(erase / 2) * 1e3,
      erase_direct_seconds / static_cast<double>(erase / 2) * 1e3,
      erase_reach_seconds / erase_direct_seconds);
  // The people erased are erased: rebuild the databases next time.
  for (const auto& path : paths) fs::remove(path);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
