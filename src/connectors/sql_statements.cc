#include "connectors/sql_statements.h"

#include <algorithm>

namespace custos::connectors {

namespace {

// Adds `value` to `params` and returns how the statement names it.
std::string Param(const Dialect& dialect, Params& params, std::optional<std::string> value) {
  params.push_back(std::move(value));
  if (!dialect.numbered) return "?";
  std::string name(1, '$');
  name += std::to_string(params.size());
  return name;
}

std::string QuoteList(const std::vector<std::string>& names, const Dialect& dialect) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + QuoteName(name, dialect);
  return out;
}

std::string SelectFrom(const Dialect& dialect, const std::string& table,
                       const std::vector<std::string>& columns) {
  return "SELECT " + QuoteList(columns, dialect) + " FROM " + QuoteName(table, dialect);
}

}  // namespace

std::string QuoteName(std::string_view name, const Dialect& dialect) {
  const std::string quote(1, dialect.quote);
  std::string out = quote;
  for (char c : name) {
    if (c == '.') {
      out += quote;
      out += '.';
      out += quote;
    } else {
      out += c;
    }
  }
  return out + quote;
}

std::vector<Statement> SelectIn(const Dialect& dialect, const std::string& table,
                                const std::vector<std::string>& columns, const std::string& column,
                                const std::vector<std::string>& values) {
  std::vector<Statement> statements;
  for (size_t start = 0; start < values.size(); start += kValuesPerQuery) {
    size_t n = std::min(kValuesPerQuery, values.size() - start);
    Statement s;
    s.sql = SelectFrom(dialect, table, columns) + " WHERE " + QuoteName(column, dialect) + " IN (";
    for (size_t i = 0; i < n; ++i) {
      s.sql += (i ? ", " : "") + Param(dialect, s.params, values[start + i]);
    }
    s.sql += ")";
    statements.push_back(std::move(s));
  }
  return statements;
}

Statement SelectBefore(const Dialect& dialect, const std::string& table,
                       const std::vector<std::string>& columns, const std::string& column,
                       const std::string& cutoff, const std::string& primary_key,
                       const std::string& after_key, int64_t limit) {
  Statement s;
  s.sql = SelectFrom(dialect, table, columns) + " WHERE " + QuoteName(column, dialect) + " < " +
          Param(dialect, s.params, cutoff);
  if (!after_key.empty()) {
    s.sql +=
        " AND " + QuoteName(primary_key, dialect) + " > " + Param(dialect, s.params, after_key);
  }
  s.sql += " ORDER BY " + QuoteName(primary_key, dialect) + " LIMIT " + std::to_string(limit);
  return s;
}

Statement ChangeRow(const Dialect& dialect, const std::string& table,
                    const std::string& primary_key, const engine::RowChange& change) {
  Statement s;
  if (change.delete_row) {
    s.sql = "DELETE FROM " + QuoteName(table, dialect);
  } else {
    s.sql = "UPDATE " + QuoteName(table, dialect) + " SET ";
    for (size_t i = 0; i < change.set.size(); ++i) {
      s.sql += (i ? ", " : "") + QuoteName(change.set[i].first, dialect) + " = " +
               Param(dialect, s.params, change.set[i].second);
    }
  }
  s.sql +=
      " WHERE " + QuoteName(primary_key, dialect) + " = " + Param(dialect, s.params, change.key);
  return s;
}

}  // namespace custos::connectors
