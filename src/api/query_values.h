// Reading the values of query parameters and path ids: the few rules every route shares, kept
// free of the server so that the query fuzzer (fuzz/query_params_fuzzer.cc) drives the same code.
// Thread-safety: pure functions.
#ifndef CUSTOS_API_QUERY_VALUES_H_
#define CUSTOS_API_QUERY_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>

namespace custos::api::internal {

// A non-negative decimal id of at most 18 digits, or nullopt.
inline std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace custos::api::internal

#endif  // CUSTOS_API_QUERY_VALUES_H_
