#include "connectors/mysql_system.h"

#include <mysql.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "connectors/connection_text.h"
#include "connectors/sql_statements.h"

namespace custos::connectors {

namespace {

struct Options {
  std::string host = "127.0.0.1", user, password, database, socket;
  unsigned int port = 3306;
};

Result<Options> ParseConnection(const std::string& system, const std::string& text) {
  ASSIGN_OR_RETURN(auto pairs,
                   ReadConnectionText(system, "MySQL", text,
                                      {"host", "port", "user", "password", "database", "socket"}));
  Options options;
  if (pairs.count("host")) options.host = pairs["host"];
  if (pairs.count("port")) {
    options.port = static_cast<unsigned int>(std::strtoul(pairs["port"].c_str(), nullptr, 10));
  }
  options.user = pairs["user"];
  options.password = pairs["password"];
  options.database = pairs["database"];
  options.socket = pairs["socket"];
  if (options.database.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "system " + system + ": the MySQL connection names no database (database=...)");
  }
  return options;
}

MYSQL* Connect(const Options& o) {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
  MYSQL* conn = mysql_init(nullptr);
  if (conn == nullptr) return nullptr;
  unsigned int timeout = 5;
  mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (mysql_real_connect(conn, o.host.c_str(), o.user.empty() ? nullptr : o.user.c_str(),
                         o.password.empty() ? nullptr : o.password.c_str(), o.database.c_str(),
                         o.port, o.socket.empty() ? nullptr : o.socket.c_str(),
                         CLIENT_FOUND_ROWS) == nullptr) {
    mysql_close(conn);
    return nullptr;
  }
  return conn;
}

class MysqlSystem : public engine::SystemConnector {
 public:
  MysqlSystem(std::string system, Options options, MYSQL* conn)
      : system_(std::move(system)), options_(std::move(options)), conn_(conn) {}
  ~MysqlSystem() override {
    if (conn_ != nullptr) mysql_close(conn_);
  }

  Result<std::vector<std::string>> Columns(const std::string& table) override {
    std::optional<std::string> schema;
    std::string name = table;
    if (size_t dot = table.find('.'); dot != std::string::npos) {
      schema = table.substr(0, dot);
      name = table.substr(dot + 1);
    }
    ASSIGN_OR_RETURN(std::vector<engine::SystemRow> rows,
                     Run("SELECT column_name FROM information_schema.columns WHERE "
                         "table_schema = COALESCE(?, DATABASE()) AND table_name = ?",
                         {schema, name}, nullptr));
    std::vector<std::string> columns;
    for (const auto& row : rows) columns.push_back(row[0].value_or(""));
    if (columns.empty()) {
      return Status(ErrorCode::kNotFound, "system " + system_ + " has no table " + table);
    }
    return columns;
  }

  Result<int64_t> CountRows(const std::string& table) override {
    ASSIGN_OR_RETURN(std::vector<engine::SystemRow> rows,
                     Run("SELECT COUNT(*) FROM " + QuoteName(table, kMysqlSql), {}, nullptr));
    return std::stoll(rows.at(0).at(0).value_or("0"));
  }

  Result<std::vector<engine::SystemRow>> Select(const std::string& table,
                                                const std::vector<std::string>& columns,
                                                const std::string& column,
                                                const std::vector<std::string>& values) override {
    std::vector<engine::SystemRow> rows;
    for (const Statement& s : SelectIn(kMysqlSql, table, columns, column, values)) {
      ASSIGN_OR_RETURN(std::vector<engine::SystemRow> some, Run(s.sql, s.params, nullptr));
      rows.insert(rows.end(), some.begin(), some.end());
    }
    return rows;
  }

  Result<std::vector<engine::SystemRow>> SelectBefore(
      const std::string& table, const std::vector<std::string>& columns, const std::string& column,
      const std::string& cutoff, const std::string& primary_key, const std::string& after_key,
      int64_t limit) override {
    Statement s = connectors::SelectBefore(kMysqlSql, table, columns, column, cutoff, primary_key,
                                           after_key, limit);
    return Run(s.sql, s.params, nullptr);
  }

  Result<int64_t> Apply(const std::string& table, const std::string& primary_key,
                        const std::vector<engine::RowChange>& changes) override {
    RETURN_IF_ERROR(Run("START TRANSACTION", {}, nullptr).status());
    int64_t changed = 0;
    for (const auto& change : changes) {
      Statement s = ChangeRow(kMysqlSql, table, primary_key, change);
      int64_t affected = 0;
      Result<std::vector<engine::SystemRow>> done = Run(s.sql, s.params, &affected);
      if (!done.ok()) {
        (void)Run("ROLLBACK", {}, nullptr);
        return done.status();
      }
      changed += affected;
    }
    RETURN_IF_ERROR(Run("COMMIT", {}, nullptr).status());
    return changed;
  }

 private:
  // MySQL's error number, as a Status that names the system (and, for a missing table or
  // column, the server's words, which name it); never the server's other words, which may
  // quote a value.
  Status Error(unsigned int number, const char* words) {
    // CR_SERVER_GONE_ERROR, CR_SERVER_LOST: the connection is gone.
    if (number == 2006 || number == 2013) lost_ = true;
    if (number == 1146 || number == 1054) {  // no such table / column
      return Status(ErrorCode::kNotFound, "system " + system_ + ": " + words);
    }
    bool transient = (number >= 2000 && number < 3000) ||  // the client lost the server
                     number == 1040 || number == 1205 || number == 1213;  // busy, locks
    return Status(transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                  "system " + system_ + ": the database refused the statement (MySQL error " +
                      std::to_string(number) + ")");
  }

  // Prepares and runs `sql` with `params`; returns its rows (all as text), and the rows it
  // matched in *affected. A connection the server dropped is made again, and the statement run
  // again, once, unless a transaction was open on it (then the whole Apply fails and is retried
  // by its caller: its changes are idempotent).
  Result<std::vector<engine::SystemRow>> Run(const std::string& sql, const Params& params,
                                             int64_t* affected) {
    Result<std::vector<engine::SystemRow>> result = RunOnce(sql, params, affected);
    if (!result.ok() && lost_ && !in_transaction_) {
      mysql_close(conn_);
      conn_ = nullptr;
      result = RunOnce(sql, params, affected);
    }
    if (lost_) in_transaction_ = false;
    if (result.ok() && sql == "START TRANSACTION") in_transaction_ = true;
    if (sql == "COMMIT" || sql == "ROLLBACK") in_transaction_ = false;
    return result;
  }

  Result<std::vector<engine::SystemRow>> RunOnce(const std::string& sql, const Params& params,
                                                 int64_t* affected) {
    lost_ = false;
    if (conn_ == nullptr) {
      conn_ = Connect(options_);
      if (conn_ == nullptr) {
        return Status(ErrorCode::kUnavailable,
                      "system " + system_ + ": the database is unreachable");
      }
    }
    MYSQL_STMT* stmt = mysql_stmt_init(conn_);
    if (stmt == nullptr) return Error(mysql_errno(conn_), mysql_error(conn_));
    struct Closer {
      MYSQL_STMT* stmt;
      ~Closer() { mysql_stmt_close(stmt); }
    } closer{stmt};
    if (mysql_stmt_prepare(stmt, sql.c_str(), sql.size()) != 0) {
      return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    }
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<unsigned long> lengths(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      MYSQL_BIND& b = binds[i];
      b = MYSQL_BIND{};
      if (!params[i]) {
        b.buffer_type = MYSQL_TYPE_NULL;
        continue;
      }
      lengths[i] = params[i]->size();
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(params[i]->data());
      b.buffer_length = lengths[i];
      b.length = &lengths[i];
    }
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) {
      return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    }
    if (mysql_stmt_execute(stmt) != 0) {
      return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    }
    if (affected != nullptr) *affected = static_cast<int64_t>(mysql_stmt_affected_rows(stmt));
    std::vector<engine::SystemRow> rows;
    unsigned int columns = mysql_stmt_field_count(stmt);
    if (columns == 0) return rows;
    std::vector<MYSQL_BIND> out(columns);
    std::vector<unsigned long> out_lengths(columns);
    std::vector<my_bool> nulls(columns);
    for (unsigned int c = 0; c < columns; ++c) {
      out[c] = MYSQL_BIND{};
      out[c].buffer_type = MYSQL_TYPE_STRING;
      out[c].length = &out_lengths[c];
      out[c].is_null = &nulls[c];
    }
    if (mysql_stmt_bind_result(stmt, out.data()) != 0) {
      return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    }
    while (true) {
      int fetched = mysql_stmt_fetch(stmt);
      if (fetched == MYSQL_NO_DATA) break;
      if (fetched == 1) return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
      // Every column comes back truncated (no buffer was given): fetch each at its length.
      engine::SystemRow row;
      for (unsigned int c = 0; c < columns; ++c) {
        if (nulls[c]) {
          row.emplace_back(std::nullopt);
          continue;
        }
        std::string value(out_lengths[c], '\0');
        if (!value.empty()) {
          MYSQL_BIND column{};
          column.buffer_type = MYSQL_TYPE_STRING;
          column.buffer = value.data();
          column.buffer_length = value.size();
          if (mysql_stmt_fetch_column(stmt, &column, c, 0) != 0) {
            return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
          }
        }
        row.emplace_back(std::move(value));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string system_;
  Options options_;
  MYSQL* conn_;
  bool in_transaction_ = false;  // between START TRANSACTION and COMMIT or ROLLBACK
  bool lost_ = false;            // the last statement found the connection gone
};

}  // namespace

Result<std::unique_ptr<engine::SystemConnector>> OpenMysqlSystem(const std::string& system,
                                                                 const std::string& connection) {
  ASSIGN_OR_RETURN(Options options, ParseConnection(system, connection));
  MYSQL* conn = Connect(options);
  if (conn == nullptr) {
    return Status(ErrorCode::kUnavailable,
                  "system " + system + ": cannot connect to its MySQL database");
  }
  return std::unique_ptr<engine::SystemConnector>(
      new MysqlSystem(system, std::move(options), conn));
}

}  // namespace custos::connectors
