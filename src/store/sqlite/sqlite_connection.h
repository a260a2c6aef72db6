// Internal to store/sqlite: Connection, one SQLite connection with its cache of prepared
// statements, and Statement, an RAII handle on one statement of that cache (bind, step, read
// columns; reset when the handle goes away, so no read transaction is ever left open).
//
// Errors: SQLite failures become IO_ERROR, except constraint violations (and values too big to
// store), which become INVALID_ARGUMENT. Messages name the statement ("INSERT INTO records") and
// SQLite's own message, which names tables and columns but never a bound value.
//
// Thread-safety: a Connection and its Statements are used by one thread at a time; the owner
// (SqliteStore) serialises access. Connections are opened in SQLite's multi-thread mode.
#ifndef CUSTOS_STORE_SQLITE_SQLITE_CONNECTION_H_
#define CUSTOS_STORE_SQLITE_SQLITE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "common/status.h"
#include "common/time.h"
#include "store/rows.h"

struct sqlite3;
struct sqlite3_stmt;

namespace custos::store::sqlite {

struct ConnectionOptions {
  bool read_only = false;  // readers: PRAGMA query_only
  bool create = false;     // create the file when missing
  bool durable = true;     // synchronous=FULL, else NORMAL (only matters for the writer)
  int busy_timeout_ms = 5000;
};

// One prepared statement borrowed from a Connection's cache (or owned, when the cached one is
// already in use further up the stack). Parameters are bound in order with Bind().
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds the next parameter (1, 2, ...). Strings and Bytes are not copied: they must outlive
  // the last Step(). bool and integers bind as INTEGER, Timestamp as its micros, nullopt and
  // nullptr as NULL, Bytes as a BLOB (an empty one stays an empty BLOB, not NULL).
  template <typename T>
  Statement& Bind(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      BindInt(value ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
      BindInt(static_cast<int64_t>(value));
    } else if constexpr (std::is_same_v<T, Timestamp>) {
      BindInt(value.micros);
    } else if constexpr (std::is_same_v<T, Bytes>) {
      BindBlob(value);
    } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
      BindNull();
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      BindText(value);
    } else {
      static_assert(IsOptional<T>::value, "unsupported parameter type");
      if (value.has_value()) {
        Bind(*value);
      } else {
        BindNull();
      }
    }
    return *this;
  }
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    (Bind(args), ...);
    return *this;
  }

  // Steps once. Returns true when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();

  // Column readers for the current row. REQUIRES: Step() returned true.
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;
  Bytes Blob(int column) const;
  Timestamp Time(int column) const { return Timestamp{Int(column)}; }
  std::optional<Timestamp> OptionalTime(int column) const;

  // The start of the SQL text ("INSERT INTO records"): names the statement in messages.
  std::string Label() const;

 private:
  friend class Connection;
  template <typename T>
  struct IsOptional : std::false_type {};
  template <typename T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use);
  void BindInt(int64_t value);
  void BindText(std::string_view value);
  void BindBlob(const Bytes& value);
  void BindNull();
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache entry's flag; nullptr when this handle owns the statement
  int next_index_ = 1;
  int bind_rc_ = 0;
};

class Connection {
 public:
  // Opens `path` and applies the per-connection pragmas (busy_timeout, foreign_keys,
  // synchronous; query_only for readers). Does not change the journal mode.
  // Returns IO_ERROR when the file cannot be opened.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const ConnectionOptions& options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalises every cached statement and closes the connection.
  // REQUIRES: no Statement of this connection is alive.
  ~Connection();

  // Runs one or more SQL statements without caching them (DDL, pragmas).
  Status Exec(const char* sql);
  // The cached prepared statement for `sql`, keyed by the pointer: pass string constants.
  // Returns IO_ERROR when the SQL does not prepare.
  Result<Statement> Prepare(const char* sql);

  // Runs a single-valued query (e.g. "PRAGMA journal_mode") and returns its text. The
  // statement is not cached, so `sql` may be a temporary.
  Result<std::string> QueryText(const char* sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // True when a transaction is open (SQLite rolls some failed transactions back itself).
  bool InTransaction() const;

  // A Status for SQLite result code `rc`, with the connection's message.
  Status Error(int rc, std::string_view where) const;

 private:
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<const char*, CachedStatement> cache_;
};

// Maps a SQLite result code to a custos Status (see the header comment).
Status SqliteError(sqlite3* db, int rc, std::string_view where);

}  // namespace custos::store::sqlite

#endif  // CUSTOS_STORE_SQLITE_SQLITE_CONNECTION_H_
