// Small helpers shared by the benchmarks: sizes from arguments or the environment, percentiles,
// failing loudly (a benchmark that hides an error measures nothing), and SameWork: no verdict
// unless both sides of a comparison did the same work.
#ifndef CUSTOS_BENCH_BENCH_UTIL_H_
#define CUSTOS_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
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

// Removes `flag` from argv wherever it is (so positional sizes keep their places); returns
// whether it was there.
inline bool TakeFlag(int& argc, char** argv, const char* flag) {
  bool found = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) {
      found = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return found;
}

// Every benchmark takes this flag: its baseline then deliberately does different work (a
// benchmark says how), to show that the SameWork check below refuses the verdict.
constexpr char kMismatchFlag[] = "--mismatch-for-testing";

// Exit status of a benchmark whose two sides did not do the same work: it gives no verdict.
constexpr int kNotSameWorkExit = 3;

// The guard every verdict passes through. A ratio or a "goal met" compares the measured side
// with its baseline only if both did the same work, so a benchmark states here what each side
// did, counted after the run from what it stored or answered (not from what it was asked to
// do), and what the comparison relies on. Require() prints every check; if one fails it says
// which, prints no verdict and exits with kNotSameWorkExit. Ratios and verdicts are printed
// only after Require() returns.
class SameWork {
 public:
  // `what` as done by the measured side and by the baseline.
  void Equal(std::string what, long long measured, long long baseline) {
    bool holds = measured == baseline;
    checks_.push_back({std::move(what) + ": " + std::to_string(measured) +
                           (holds ? " on both sides" : " against " + std::to_string(baseline)),
                       holds});
  }
  // A condition the comparison relies on, e.g. "every decision was audited".
  void Holds(std::string what, bool holds) { checks_.push_back({std::move(what), holds}); }

  void Require() const {
    bool ok = true;
    for (const auto& [what, holds] : checks_) {
      std::printf("  %s %s\n", holds ? "same work:" : "MISMATCH: ", what.c_str());
      ok = ok && holds;
    }
    if (ok) return;
    std::printf("  no verdict: the two sides did not do the same work\n");
    std::fflush(stdout);
    std::fprintf(stderr, "no verdict: the two sides did not do the same work (see MISMATCH)\n");
    std::exit(kNotSameWorkExit);
  }

 private:
  std::vector<std::pair<std::string, bool>> checks_;
};

}  // namespace custos::bench

#endif  // CUSTOS_BENCH_BENCH_UTIL_H_
