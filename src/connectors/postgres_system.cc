#include "connectors/postgres_system.h"

#include <libpq-fe.h>

#include <algorithm>

#include "connectors/sql_statements.h"

namespace custos::connectors {

namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresSystem : public engine::SystemConnector {
 public:
  PostgresSystem(std::string system, PGconn* conn) : system_(std::move(system)), conn_(conn) {}
  ~PostgresSystem() override { PQfinish(conn_); }

  Result<std::vector<std::string>> Columns(const std::string& table) override {
    std::string schema, name = table;
    if (size_t dot = table.find('.'); dot != std::string::npos) {
      schema = table.substr(0, dot);
      name = table.substr(dot + 1);
    }
    ASSIGN_OR_RETURN(PgResult result,
                     Exec("SELECT column_name::text FROM information_schema.columns WHERE "
                          "table_name::text = $1::text AND "
                          "table_schema::text = coalesce($2::text, current_schema()::text)",
                          {name, schema.empty() ? std::nullopt : std::optional(schema)}));
    std::vector<std::string> columns;
    for (int i = 0; i < PQntuples(result.get()); ++i) {
      columns.emplace_back(PQgetvalue(result.get(), i, 0));
    }
    if (columns.empty()) {
      return Status(ErrorCode::kNotFound, "system " + system_ + " has no table " + table);
    }
    return columns;
  }

  Result<int64_t> CountRows(const std::string& table) override {
    ASSIGN_OR_RETURN(PgResult result,
                     Exec("SELECT count(*) FROM " + QuoteName(table, kPostgresSql), {}));
    return std::stoll(PQgetvalue(result.get(), 0, 0));
  }

  Result<std::vector<engine::SystemRow>> Select(const std::string& table,
                                                const std::vector<std::string>& columns,
                                                const std::string& column,
                                                const std::vector<std::string>& values) override {
    std::vector<engine::SystemRow> rows;
    for (const Statement& s : SelectIn(kPostgresSql, table, columns, column, values)) {
      ASSIGN_OR_RETURN(PgResult result, Exec(s.sql, s.params));
      ReadRows(result.get(), rows);
    }
    return rows;
  }

  Result<std::vector<engine::SystemRow>> SelectBefore(
      const std::string& table, const std::vector<std::string>& columns, const std::string& column,
      const std::string& cutoff, const std::string& primary_key, const std::string& after_key,
      int64_t limit) override {
    Statement s = connectors::SelectBefore(kPostgresSql, table, columns, column, cutoff,
                                           primary_key, after_key, limit);
    ASSIGN_OR_RETURN(PgResult result, Exec(s.sql, s.params));
    std::vector<engine::SystemRow> rows;
    ReadRows(result.get(), rows);
    return rows;
  }

  Result<int64_t> Apply(const std::string& table, const std::string& primary_key,
                        const std::vector<engine::RowChange>& changes) override {
    RETURN_IF_ERROR(Exec("BEGIN", {}).status());
    int64_t changed = 0;
    for (const auto& change : changes) {
      Statement s = ChangeRow(kPostgresSql, table, primary_key, change);
      Result<PgResult> result = Exec(s.sql, s.params);
      if (!result.ok()) {
        (void)Exec("ROLLBACK", {});
        return result.status();
      }
      changed += std::atoll(PQcmdTuples(result->get()));
    }
    RETURN_IF_ERROR(Exec("COMMIT", {}).status());
    return changed;
  }

 private:
  static void ReadRows(PGresult* result, std::vector<engine::SystemRow>& rows) {
    int columns = PQnfields(result);
    for (int i = 0; i < PQntuples(result); ++i) {
      engine::SystemRow row;
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, i, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(result, i, c),
                                       static_cast<size_t>(PQgetlength(result, i, c))));
        }
      }
      rows.push_back(std::move(row));
    }
  }

  // Runs `sql` with text parameters whose types the server infers. A lost connection is reset
  // once. The error carries the SQLSTATE and, for a missing table or column, the server's
  // words (which name it); never a value.
  // A connection lost inside a transaction is not reset: the statements after it would run
  // outside it, so the whole Apply fails and its caller retries it (its changes are idempotent).
  Result<PgResult> Exec(const std::string& sql, const Params& params) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      if (in_transaction_) {
        if (sql == "ROLLBACK") in_transaction_ = false;
        return Status(ErrorCode::kUnavailable,
                      "system " + system_ + ": the connection was lost during a transaction");
      }
      PQreset(conn_);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status(ErrorCode::kUnavailable, "system " + system_ + ": the database is unreachable");
    }
    if (sql == "COMMIT" || sql == "ROLLBACK") in_transaction_ = false;
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0));
    ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (sql == "BEGIN") in_transaction_ = true;
      return result;
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status(ErrorCode::kUnavailable, "system " + system_ + ": the connection was lost");
    }
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "?????";
    if (sqlstate == "42P01" || sqlstate == "42703") {  // undefined table / column
      const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
      return Status(ErrorCode::kNotFound,
                    "system " + system_ + ": " + std::string(primary ? primary : sqlstate));
    }
    bool transient = sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
                     sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03";
    return Status(
        transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
        "system " + system_ + ": the database refused the statement (SQLSTATE " + sqlstate + ")");
  }

  std::string system_;
  PGconn* conn_;
  bool in_transaction_ = false;  // between BEGIN and COMMIT or ROLLBACK
};

}  // namespace

Result<std::unique_ptr<engine::SystemConnector>> OpenPostgresSystem(const std::string& system,
                                                                    const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    if (conn != nullptr) PQfinish(conn);
    return Status(ErrorCode::kUnavailable,
                  "system " + system + ": cannot connect to its PostgreSQL database");
  }
  return std::unique_ptr<engine::SystemConnector>(new PostgresSystem(system, conn));
}

}  // namespace custos::connectors
