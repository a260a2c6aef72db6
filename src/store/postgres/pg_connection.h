// A thin, private wrapper over one libpq connection for PostgresStore: prepared statements
// with binary parameters and binary results, COPY, and errors mapped to custos codes.
// The only header besides postgres_store.cc that sees libpq-fe.h is pg_connection.cc.
//
// Thread-safety: a Connection is used by one thread at a time (the store leases them).
// PII: parameters may be sealed values; they are sent as bound binary parameters, never
// spliced into SQL, and error messages keep only PostgreSQL's primary message (its DETAIL,
// which can quote row values, is dropped).
#ifndef CUSTOS_STORE_POSTGRES_PG_CONNECTION_H_
#define CUSTOS_STORE_POSTGRES_PG_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "store/rows.h"

struct pg_conn;
struct pg_result;

namespace custos::store::pg {

// What went wrong, as far as a caller must tell failures apart.
enum class Failure {
  kNone,
  kConstraint,   // a row broke a constraint or a trigger refused it: INVALID_ARGUMENT
  kRetry,        // deadlock or serialization failure: run the whole transaction again
  kHeadTaken,    // another process appended the audit seq first: CONFLICT, chain again
  kUnavailable,  // the server cannot be reached or is shutting down: STORE_UNAVAILABLE
  kIo,           // anything else (a server error)
};

// Where the server's notices and warnings go (libpq would print them raw on stderr). Set once
// by the server before connections are opened, to write them as JSON log lines; by default they
// are dropped. Receives the severity and the primary message only (never DETAIL, which may quote
// values). Thread-safety: set before any Connection is opened.
using NoticeSink = void (*)(std::string_view severity, std::string_view message);
void SetNoticeSink(NoticeSink sink);

// The parameters of one statement, bound in binary. Each Add() appends one ($1, $2, ...).
class Params {
 public:
  Params& Add(int64_t value);
  Params& Add(int value) { return Add(static_cast<int64_t>(value)); }
  Params& Add(bool value);
  Params& Add(const std::string& value);
  Params& Add(const char* value) { return Add(std::string(value)); }
  Params& Add(const Bytes& value);
  Params& Add(Timestamp value) { return Add(value.micros); }
  template <typename T>
  Params& Add(const std::optional<T>& value) {
    if (value.has_value()) return Add(*value);
    return AddNull(TypeOf<T>());
  }
  template <typename... Args>
  Params& AddAll(const Args&... args) {
    (Add(args), ...);
    return *this;
  }

  int size() const { return static_cast<int>(types_.size()); }
  const unsigned int* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  template <typename T>
  static unsigned int TypeOf() {
    if constexpr (std::is_same_v<T, bool>) {
      return 16;  // bool
    } else if constexpr (std::is_same_v<T, std::string>) {
      return 25;  // text
    } else if constexpr (std::is_same_v<T, Bytes>) {
      return 17;  // bytea
    } else {
      return 20;  // int8 (integers, Timestamp as micros)
    }
  }
  Params& Append(unsigned int type, const void* data, size_t size);
  Params& AddNull(unsigned int type);

  std::vector<unsigned int> types_;
  std::vector<std::unique_ptr<char[]>> storage_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of one statement's result, in binary format. Column getters REQUIRE the column to
// have the matching PostgreSQL type (bigint, text, bytea, boolean).
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* result);
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  ~Rows();

  int size() const;
  bool IsNull(int row, int column) const;
  int64_t Int(int row, int column) const;
  bool Bool(int row, int column) const;
  std::string Text(int row, int column) const;
  Bytes Blob(int row, int column) const;
  Timestamp Time(int row, int column) const { return Timestamp{Int(row, column)}; }
  std::optional<Timestamp> OptionalTime(int row, int column) const;
  // The number of rows an INSERT/UPDATE/DELETE changed.
  int64_t Affected() const;

 private:
  pg_result* result_ = nullptr;
};

struct ConnectionOptions {
  std::string url;     // a libpq connection string or postgresql:// URL
  std::string schema;  // set as search_path; REQUIRES: a valid identifier
};

class Connection {
 public:
  // Connects and sets the search path. STORE_UNAVAILABLE when the server cannot be reached.
  static Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text without parameters (may hold several statements).
  Status Exec(const char* sql);
  // Runs `sql` (a string constant: its address names the prepared statement, prepared on this
  // connection on first use) with `params`. The failure kind of the last error is in failure().
  Result<Rows> Query(const char* sql, const Params& params);
  // Runs `sql` once, unprepared (for statements built at run time, e.g. COPY targets).
  Result<Rows> QueryOnce(const std::string& sql, const Params& params);

  // COPY ... FROM STDIN: starts it, sends `data` in text format, ends it. Returns rows copied.
  Result<int64_t> Copy(const std::string& copy_sql, std::string_view data);

  Failure failure() const { return failure_; }
  bool broken() const;
  // For an idle connection: false when the server has closed it (restarted, or ended it), which
  // it learns without a round trip by reading what is waiting on the socket.
  bool LooksAlive();

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  Status Check(pg_result* result, std::string_view what);

  pg_conn* conn_;
  std::unordered_map<const char*, std::string> prepared_;
  Failure failure_ = Failure::kNone;
};

// True for a schema name custos accepts: [a-z_][a-z0-9_]{0,62}.
bool IsValidSchemaName(std::string_view name);

// Appends `bytes` to `out` as a bytea literal for COPY's text format (\\x hex).
void AppendCopyBytea(std::string& out, const Bytes& bytes);
// Appends `text` to `out` escaped for COPY's text format.
void AppendCopyText(std::string& out, std::string_view text);

}  // namespace custos::store::pg

#endif  // CUSTOS_STORE_POSTGRES_PG_CONNECTION_H_
