#include "store/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <string>
#include <utility>

namespace custos::store::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view where) {
  int primary = rc & 0xff;
  // Constraint failures are the caller's rows breaking a rule; everything else is storage.
  ErrorCode code = (primary == SQLITE_CONSTRAINT || primary == SQLITE_TOOBIG)
                       ? ErrorCode::kInvalidArgument
                       : ErrorCode::kIo;
  std::string message = "sqlite: ";
  message += where;
  message += ": ";
  // The connection's message names tables and columns only; bound values never appear in it.
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    message += sqlite3_errmsg(db);
    // Another process appended this audit seq first: the caller re-chains from the new head.
    if (primary == SQLITE_CONSTRAINT &&
        std::string_view(sqlite3_errmsg(db)).find("audit_log.seq") != std::string_view::npos) {
      code = ErrorCode::kConflict;
    }
  } else {
    message += sqlite3_errstr(rc);
  }
  return Status(code, std::move(message));
}

// --- Statement ------------------------------------------------------------------------------

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use)
    : db_(db), stmt_(stmt), in_use_(in_use) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      next_index_(other.next_index_),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ != nullptr) {
    // Resetting ends the statement's read transaction, so the next use sees new commits.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  ++next_index_;
}

void Statement::BindInt(int64_t value) { NoteBind(sqlite3_bind_int64(stmt_, next_index_, value)); }

void Statement::BindText(std::string_view value) {
  NoteBind(sqlite3_bind_text64(stmt_, next_index_, value.data(), value.size(), SQLITE_STATIC,
                               SQLITE_UTF8));
}

void Statement::BindBlob(const Bytes& value) {
  // A null pointer would bind NULL; an empty blob must stay an empty blob.
  static const uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  NoteBind(sqlite3_bind_blob64(stmt_, next_index_, data, value.size(), SQLITE_STATIC));
}

void Statement::BindNull() { NoteBind(sqlite3_bind_null(stmt_, next_index_)); }

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, Label());
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, Label());
}

Status Statement::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

Bytes Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return Bytes();
  const auto* begin = static_cast<const uint8_t*>(data);
  return Bytes(begin, begin + size);
}

std::optional<Timestamp> Statement::OptionalTime(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Time(column);
}

std::string Statement::Label() const {
  const char* sql = sqlite3_sql(stmt_);
  if (sql == nullptr) return "statement";
  std::string_view text(sql);
  // Up to the column list or WHERE clause: "INSERT INTO records", "SELECT ... FROM records".
  size_t end = text.find_first_of("(\n");
  if (end == std::string_view::npos) end = text.size();
  if (end > 60) end = 60;
  while (end > 0 && text[end - 1] == ' ') --end;
  return std::string(text.substr(0, end));
}

// --- Connection -----------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteError(db, rc, "open " + path);
    sqlite3_close(db);
    return Status(ErrorCode::kIo, status.message());
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<Connection> connection(new Connection(db));
  RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys = ON"));
  std::string pragmas = "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms) + ";";
  pragmas += options.durable ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  if (options.read_only) pragmas += "PRAGMA query_only = ON;";
  RETURN_IF_ERROR(connection->Exec(pragmas.c_str()));
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  sqlite3_close(db_);
}

Status Connection::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::string_view text(sql);
    return Error(rc, text.substr(0, text.find_first_of("(\n;")));
  }
  return Status::Ok();
}

Result<Statement> Connection::Prepare(const char* sql) {
  CachedStatement& entry = cache_[sql];
  if (entry.stmt != nullptr && !entry.in_use) {
    entry.in_use = true;
    return Statement(db_, entry.stmt, &entry.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  bool cache = entry.stmt == nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    if (cache) cache_.erase(sql);
    std::string_view text(sql);
    return Error(rc, "prepare " + std::string(text.substr(0, text.find_first_of("(\n"))));
  }
  if (!cache) {
    // The cached statement is already stepping further up the stack: use a private one.
    return Statement(db_, stmt, nullptr);
  }
  entry.stmt = stmt;
  entry.in_use = true;
  return Statement(db_, stmt, &entry.in_use);
}

Result<std::string> Connection::QueryText(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, "prepare query");
  }
  Statement statement(db_, stmt, nullptr);
  ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return Status(ErrorCode::kIo, "sqlite: no result from " + statement.Label());
  return statement.Text(0);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Connection::Error(int rc, std::string_view where) const {
  return SqliteError(db_, rc, where);
}

}  // namespace custos::store::sqlite
