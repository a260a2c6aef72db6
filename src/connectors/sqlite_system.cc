#include "connectors/sqlite_system.h"

#include <sqlite3.h>

#include <algorithm>
#include <type_traits>

#include "connectors/sql_statements.h"

namespace custos::connectors {

namespace {

class SqliteSystem : public engine::SystemConnector {
 public:
  SqliteSystem(std::string system, sqlite3* db) : system_(std::move(system)), db_(db) {}
  ~SqliteSystem() override { sqlite3_close_v2(db_); }

  Result<std::vector<std::string>> Columns(const std::string& table) override {
    std::string schema = "main", name = table;
    if (size_t dot = table.find('.'); dot != std::string::npos) {
      schema = table.substr(0, dot);
      name = table.substr(dot + 1);
    }
    std::vector<std::string> columns;
    RETURN_IF_ERROR(Query("PRAGMA " + QuoteName(schema, kStandardSql) + ".table_info(" +
                              QuoteName(name, kStandardSql) + ")",
                          {}, [&](sqlite3_stmt* stmt) {
                            columns.emplace_back(
                                reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
                          }));
    if (columns.empty()) {
      return Status(ErrorCode::kNotFound, "system " + system_ + " has no table " + table);
    }
    return columns;
  }

  Result<int64_t> CountRows(const std::string& table) override {
    int64_t count = 0;
    RETURN_IF_ERROR(Query("SELECT count(*) FROM " + QuoteName(table, kStandardSql), {},
                          [&](sqlite3_stmt* stmt) { count = sqlite3_column_int64(stmt, 0); }));
    return count;
  }

  Result<std::vector<engine::SystemRow>> Select(const std::string& table,
                                                const std::vector<std::string>& columns,
                                                const std::string& column,
                                                const std::vector<std::string>& values) override {
    std::vector<engine::SystemRow> rows;
    for (const Statement& s : SelectIn(kStandardSql, table, columns, column, values)) {
      RETURN_IF_ERROR(Query(s.sql, s.params, [&](sqlite3_stmt* stmt) {
        rows.push_back(ReadRow(stmt, columns.size()));
      }));
    }
    return rows;
  }

  Result<std::vector<engine::SystemRow>> SelectBefore(
      const std::string& table, const std::vector<std::string>& columns, const std::string& column,
      const std::string& cutoff, const std::string& primary_key, const std::string& after_key,
      int64_t limit) override {
    Statement s = connectors::SelectBefore(kStandardSql, table, columns, column, cutoff,
                                           primary_key, after_key, limit);
    std::vector<engine::SystemRow> rows;
    RETURN_IF_ERROR(Query(s.sql, s.params, [&](sqlite3_stmt* stmt) {
      rows.push_back(ReadRow(stmt, columns.size()));
    }));
    return rows;
  }

  Result<int64_t> Apply(const std::string& table, const std::string& primary_key,
                        const std::vector<engine::RowChange>& changes) override {
    RETURN_IF_ERROR(Query("BEGIN IMMEDIATE", {}, nullptr));
    int64_t changed = 0;
    for (const auto& change : changes) {
      Statement s = ChangeRow(kStandardSql, table, primary_key, change);
      Status status = Query(s.sql, s.params, nullptr);
      if (!status.ok()) {
        (void)Query("ROLLBACK", {}, nullptr);
        return status;
      }
      changed += sqlite3_changes(db_);
    }
    RETURN_IF_ERROR(Query("COMMIT", {}, nullptr));
    return changed;
  }

 private:
  static engine::SystemRow ReadRow(sqlite3_stmt* stmt, size_t n) {
    engine::SystemRow row;
    for (size_t i = 0; i < n; ++i) {
      int c = static_cast<int>(i);
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
      } else {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
      }
    }
    return row;
  }

  // Runs `sql` with `params` bound in order, calling `each` for every row. The error names the
  // system and SQLite's generic words for the code, never a value.
  template <typename Each>
  Status Query(const std::string& sql, const std::vector<std::optional<std::string>>& params,
               Each each) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return Failed(rc, sqlite3_extended_errcode(db_), stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      int at = static_cast<int>(i) + 1;
      if (params[i]) {
        sqlite3_bind_text(stmt, at, params[i]->data(), static_cast<int>(params[i]->size()),
                          SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, at);
      }
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if constexpr (!std::is_same_v<Each, std::nullptr_t>) each(stmt);
    }
    if (rc != SQLITE_DONE) return Failed(rc, sqlite3_extended_errcode(db_), stmt);
    sqlite3_finalize(stmt);
    return Status::Ok();
  }

  Status Failed(int rc, int extended, sqlite3_stmt* stmt) {
    // "no such table/column" comes back from prepare as SQLITE_ERROR: a schema mismatch.
    std::string detail = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    bool missing = rc == SQLITE_ERROR && (detail.rfind("no such table", 0) == 0 ||
                                          detail.rfind("no such column", 0) == 0);
    ErrorCode code =
        missing ? ErrorCode::kNotFound
        : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR)
            ? ErrorCode::kUnavailable
            : ErrorCode::kInternal;
    // SQLite's schema messages name a table or column, never a value; other codes get the
    // generic words.
    std::string words = missing ? detail : sqlite3_errstr(extended);
    return Status(code, "system " + system_ + ": " + words);
  }

  std::string system_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<engine::SystemConnector>> OpenSqliteSystem(const std::string& system,
                                                                  const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close_v2(db);
    return Status(ErrorCode::kUnavailable, "system " + system +
                                               ": cannot open its SQLite database (" +
                                               std::string(sqlite3_errstr(rc)) + ")");
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<engine::SystemConnector>(new SqliteSystem(system, db));
}

}  // namespace custos::connectors
