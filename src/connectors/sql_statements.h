// The SQL every connector sends, written once for the three dialects: which quote a name takes
// (double quotes, MySQL's backticks) and how a parameter is written (?, or PostgreSQL's $1, $2).
// Names reach here only after policy::IsSqlName accepted them, so they hold no quote; values are
// always parameters. Thread-safety: pure functions.
#ifndef CUSTOS_CONNECTORS_SQL_STATEMENTS_H_
#define CUSTOS_CONNECTORS_SQL_STATEMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/system_connector.h"

namespace custos::connectors {

struct Dialect {
  char quote = '"';       // '`' for MySQL
  bool numbered = false;  // parameters written $1, $2, ... (PostgreSQL) rather than ?
};
inline constexpr Dialect kStandardSql{'"', false};  // SQLite
inline constexpr Dialect kPostgresSql{'"', true};
inline constexpr Dialect kMysqlSql{'`', false};

using Params = std::vector<std::optional<std::string>>;

struct Statement {
  std::string sql;
  Params params;
};

// "name", or "schema"."table" for a schema-qualified table.
std::string QuoteName(std::string_view name, const Dialect& dialect);

// How many values one IN (...) list carries at most (SQLite's default limit is 32766
// parameters, PostgreSQL's 65535).
inline constexpr size_t kValuesPerQuery = 500;

// The rows of `table` whose `column` is one of `values`, with `columns` read: one statement
// per kValuesPerQuery values.
std::vector<Statement> SelectIn(const Dialect& dialect, const std::string& table,
                                const std::vector<std::string>& columns, const std::string& column,
                                const std::vector<std::string>& values);
// At most `limit` rows whose `column` is before `cutoff`, in `primary_key` order after
// `after_key` (empty: from the first).
Statement SelectBefore(const Dialect& dialect, const std::string& table,
                       const std::vector<std::string>& columns, const std::string& column,
                       const std::string& cutoff, const std::string& primary_key,
                       const std::string& after_key, int64_t limit);
// The DELETE or UPDATE of one row named by its primary key.
Statement ChangeRow(const Dialect& dialect, const std::string& table,
                    const std::string& primary_key, const engine::RowChange& change);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_SQL_STATEMENTS_H_
