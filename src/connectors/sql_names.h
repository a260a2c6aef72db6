// How the connectors write a validated table or column name into SQL (both speak the standard's
// double-quoted identifiers). Names reach here only after policy::IsSqlName accepted them, so
// they hold no quote.
#ifndef CUSTOS_CONNECTORS_SQL_NAMES_H_
#define CUSTOS_CONNECTORS_SQL_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

namespace custos::connectors {

// "name", or "schema"."table" for a schema-qualified table.
inline std::string QuoteName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '.' ? std::string("\".\"") : std::string(1, c);
  return out + "\"";
}

inline std::string QuoteList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + QuoteName(name);
  return out;
}

// How many values one IN (...) list carries at most (SQLite's default limit is 32766
// parameters, PostgreSQL's 65535).
inline constexpr size_t kValuesPerQuery = 500;

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_SQL_NAMES_H_
