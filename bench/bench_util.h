// Small helpers shared by the benchmarks: sizes from arguments or the environment, percentiles,
// and failing loudly (a benchmark that hides an error measures nothing).
#ifndef CUSTOS_BENCH_BENCH_UTIL_H_
#define CUSTOS_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/status.h"

namespace custos::bench {

using SteadyClock = std::chrono::steady_clock;

inline double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Positional argument `index` if given, else environment variable `env` if set, else `fallback`.
inline size_t SizeArg(int argc, char** argv, int index, const char* env, size_t fallback) {
  const char* text = index < argc ? argv[index] : std::getenv(env);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (*end != '\0' || value == 0) {
    std::fprintf(stderr, "not a positive number: %s\n", text);
    std::exit(2);
  }
  return static_cast<size_t>(value);
}

// The id of the i-th generated subject, zero-padded so ids sort in generation order.
inline std::string SubjectId(size_t i, int width = 7) {
  char id[32];
  std::snprintf(id, sizeof id, "s%0*zu", width, i);
  return id;
}

// The p-quantile (0..1) of `values`; reorders them.
inline double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

inline void Check(const Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Check(Result<T> result, const char* what) {
  Check(result.status(), what);
  return std::move(*result);
}

}  // namespace custos::bench

#endif  // CUSTOS_BENCH_BENCH_UTIL_H_
