// How the connectors write a validated table or column name into SQL: the standard's double
// quotes (SQLite, PostgreSQL) or MySQL's backticks. Names reach here only after
// policy::IsSqlName accepted them, so they hold no quote of either kind.
#ifndef CUSTOS_CONNECTORS_SQL_NAMES_H_
#define CUSTOS_CONNECTORS_SQL_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

namespace custos::connectors {

// "name", or "schema"."table" for a schema-qualified table (`quote` '`' for MySQL).
inline std::string QuoteName(std::string_view name, char quote = '"') {
  std::string out(1, quote);
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

inline std::string QuoteList(const std::vector<std::string>& names, char quote = '"') {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + QuoteName(name, quote);
  return out;
}

// How many values one IN (...) list carries at most (SQLite's default limit is 32766
// parameters, PostgreSQL's 65535).
inline constexpr size_t kValuesPerQuery = 500;

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_SQL_NAMES_H_
