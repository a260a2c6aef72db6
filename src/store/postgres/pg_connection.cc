#include "store/postgres/pg_connection.h"

#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cstring>

namespace custos::store::pg {

namespace {

// Only the primary message: PostgreSQL's DETAIL may quote the values of the offending row.
std::string PrimaryMessage(const PGresult* result, const PGconn* conn) {
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? primary : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

NoticeSink notice_sink = nullptr;

void ReceiveNotice(void*, const PGresult* result) {
  NoticeSink sink = notice_sink;
  if (sink == nullptr || result == nullptr) return;
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  sink(severity != nullptr ? severity : "NOTICE", primary != nullptr ? primary : "");
}

Failure Classify(const PGresult* result, const PGconn* conn) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr) {
    // No SQLSTATE: libpq's own failure, which is the connection's when it is gone.
    return PQstatus(conn) != CONNECTION_OK ? Failure::kUnavailable : Failure::kIo;
  }
  std::string_view code(state);
  if (code == "40001" || code == "40P01") return Failure::kRetry;
  // Class 08: connection exceptions; 57P01-03: the server is shutting down, crashed or starting;
  // 53300: too many connections.
  if (code.substr(0, 2) == "08" || code == "57P01" || code == "57P02" || code == "57P03" ||
      code == "53300" || PQstatus(conn) != CONNECTION_OK) {
    return Failure::kUnavailable;
  }
  // Unique violation on the audit log's seq: another process appended that seq first.
  if (code == "23505") {
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    if (constraint != nullptr && std::string_view(constraint) == "audit_log_pkey") {
      return Failure::kHeadTaken;
    }
  }
  // Class 23: integrity constraint violations; P0001: raised by a trigger (append-only tables);
  // 22xxx: data exceptions (a value out of range for its column).
  if (code.substr(0, 2) == "23" || code == "P0001" || code.substr(0, 2) == "22") {
    return Failure::kConstraint;
  }
  return Failure::kIo;
}

ErrorCode CodeFor(Failure failure) {
  switch (failure) {
    case Failure::kConstraint: return ErrorCode::kInvalidArgument;
    case Failure::kHeadTaken: return ErrorCode::kConflict;
    case Failure::kUnavailable: return ErrorCode::kUnavailable;
    default: return ErrorCode::kIo;
  }
}

}  // namespace

void SetNoticeSink(NoticeSink sink) { notice_sink = sink; }

// --- Params ---------------------------------------------------------------------------------

Params& Params::Append(unsigned int type, const void* data, size_t size) {
  auto buffer = std::make_unique<char[]>(size == 0 ? 1 : size);
  if (size > 0) std::memcpy(buffer.get(), data, size);
  types_.push_back(type);
  pointers_.push_back(buffer.get());
  lengths_.push_back(static_cast<int>(size));
  formats_.push_back(1);
  storage_.push_back(std::move(buffer));
  return *this;
}

Params& Params::AddNull(unsigned int type) {
  types_.push_back(type);
  pointers_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(1);
  return *this;
}

Params& Params::Add(int64_t value) {
  uint64_t big = htobe64(static_cast<uint64_t>(value));
  return Append(TypeOf<int64_t>(), &big, sizeof big);
}

Params& Params::Add(bool value) {
  char byte = value ? 1 : 0;
  return Append(TypeOf<bool>(), &byte, 1);
}

Params& Params::Add(const std::string& value) {
  return Append(TypeOf<std::string>(), value.data(), value.size());
}

Params& Params::Add(const Bytes& value) {
  return Append(TypeOf<Bytes>(), value.data(), value.size());
}

// --- Rows -----------------------------------------------------------------------------------

Rows::Rows(PGresult* result) : result_(result) {}
Rows::Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}
Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const { return result_ != nullptr ? PQntuples(result_) : 0; }

bool Rows::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

int64_t Rows::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const char* value = PQgetvalue(result_, row, column);
  int length = PQgetlength(result_, row, column);
  if (length == 8) {
    uint64_t big;
    std::memcpy(&big, value, 8);
    return static_cast<int64_t>(be64toh(big));
  }
  if (length == 4) {
    uint32_t big;
    std::memcpy(&big, value, 4);
    return static_cast<int32_t>(be32toh(big));
  }
  return 0;
}

bool Rows::Bool(int row, int column) const {
  return !IsNull(row, column) && PQgetlength(result_, row, column) == 1 &&
         PQgetvalue(result_, row, column)[0] != 0;
}

std::string Rows::Text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<size_t>(PQgetlength(result_, row, column)));
}

Bytes Rows::Blob(int row, int column) const {
  const auto* data = reinterpret_cast<const uint8_t*>(PQgetvalue(result_, row, column));
  return Bytes(data, data + PQgetlength(result_, row, column));
}

std::optional<Timestamp> Rows::OptionalTime(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Time(row, column);
}

int64_t Rows::Affected() const {
  const char* tuples = result_ != nullptr ? PQcmdTuples(result_) : nullptr;
  if (tuples == nullptr || *tuples == '\0') return 0;
  return std::strtoll(tuples, nullptr, 10);
}

// --- Connection -----------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  if (!IsValidSchemaName(options.schema)) {
    return Status(ErrorCode::kInvalidArgument, "postgresql: invalid schema name");
  }
  PGconn* conn = PQconnectdb(options.url.c_str());
  if (conn == nullptr) return Status(ErrorCode::kIo, "postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // The URL may carry a password; the message does not repeat it.
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    // libpq's message may run over several lines; the log and the CLI get one.
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    PQfinish(conn);
    return Status(ErrorCode::kUnavailable, "postgresql: cannot connect: " + message);
  }
  PQsetNoticeReceiver(conn, ReceiveNotice, nullptr);
  std::unique_ptr<Connection> connection(new Connection(conn));
  std::string set = "SET search_path TO " + options.schema + "; SET client_min_messages = warning";
  RETURN_IF_ERROR(connection->Exec(set.c_str()));
  return connection;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

bool Connection::LooksAlive() {
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  int socket = PQsocket(conn_);
  if (socket < 0) return false;
  pollfd waiting{socket, POLLIN, 0};
  int ready = poll(&waiting, 1, 0);
  if (ready == 0) return true;  // nothing waiting: as it was left
  // Something arrived on an idle connection: the server's goodbye (an error and EOF) or a
  // notice. Reading it settles which.
  if (PQconsumeInput(conn_) == 0) return false;
  return PQstatus(conn_) == CONNECTION_OK;
}

Status Connection::Check(PGresult* result, std::string_view what) {
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) {
    failure_ = Failure::kNone;
    return Status::Ok();
  }
  failure_ = Classify(result, conn_);
  // What reaches a caller (and so, for a refused write, an API client) is the kind of failure and
  // its SQLSTATE, not the database's words: they name constraints and tables.
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code_text = state != nullptr ? std::string(" (SQLSTATE ") + state + ")" : "";
  std::string message;
  switch (failure_) {
    case Failure::kConstraint:
      message = "the write breaks one of the store's rules" + code_text;
      break;
    case Failure::kHeadTaken: message = "another process appended to the audit chain first"; break;
    case Failure::kUnavailable: message = "the database cannot be reached" + code_text; break;
    default: message = PrimaryMessage(result, conn_) + code_text; break;
  }
  return Status(CodeFor(failure_), "postgresql: " + std::string(what) + ": " + message);
}

Status Connection::Exec(const char* sql) {
  PGresult* result = PQexec(conn_, sql);
  Status status = Check(result, "statement failed");
  if (result != nullptr) PQclear(result);
  return status;
}

Result<Rows> Connection::Query(const char* sql, const Params& params) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* prepared = PQprepare(conn_, name.c_str(), sql, params.size(), params.types());
    Status status = Check(prepared, "prepare failed");
    if (prepared != nullptr) PQclear(prepared);
    RETURN_IF_ERROR(status);
    found = prepared_.emplace(sql, std::move(name)).first;
  }
  PGresult* result = PQexecPrepared(conn_, found->second.c_str(), params.size(), params.values(),
                                    params.lengths(), params.formats(), /*resultFormat=*/1);
  Rows rows(result);
  RETURN_IF_ERROR(Check(result, "statement failed"));
  return rows;
}

Result<Rows> Connection::QueryOnce(const std::string& sql, const Params& params) {
  PGresult* result =
      PQexecParams(conn_, sql.c_str(), params.size(), params.types(), params.values(),
                   params.lengths(), params.formats(), /*resultFormat=*/1);
  Rows rows(result);
  RETURN_IF_ERROR(Check(result, "statement failed"));
  return rows;
}

Result<int64_t> Connection::Copy(const std::string& copy_sql, std::string_view data) {
  PGresult* start = PQexec(conn_, copy_sql.c_str());
  Status started = Check(start, "COPY failed");
  if (started.ok() && PQresultStatus(start) != PGRES_COPY_IN) {
    started = Status(ErrorCode::kIo, "postgresql: COPY did not start");
  }
  if (start != nullptr) PQclear(start);
  RETURN_IF_ERROR(started);
  // Sent in chunks so libpq's buffer stays small.
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    size_t size = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn_, data.data() + at, static_cast<int>(size)) != 1) {
      failure_ = broken() ? Failure::kUnavailable : Failure::kIo;
      return Status(CodeFor(failure_),
                    "postgresql: COPY send failed: " + PrimaryMessage(nullptr, conn_));
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    failure_ = broken() ? Failure::kUnavailable : Failure::kIo;
    return Status(CodeFor(failure_),
                  "postgresql: COPY end failed: " + PrimaryMessage(nullptr, conn_));
  }
  int64_t copied = 0;
  Status status;
  while (PGresult* result = PQgetResult(conn_)) {
    Status checked = Check(result, "COPY failed");
    if (checked.ok()) {
      copied += Rows(result).Affected();
    } else {
      PQclear(result);
      if (status.ok()) status = checked;
    }
  }
  RETURN_IF_ERROR(status);
  return copied;
}

bool IsValidSchemaName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

void AppendCopyBytea(std::string& out, const Bytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";  // COPY unescapes "\\" to "\", so bytea sees \x...
  for (uint8_t byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
}

void AppendCopyText(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
}

}  // namespace custos::store::pg
