// Timestamp and Clock. Time is always injected: nothing in custos reads the wall clock except
// SystemClock, which only adapters construct. That is what makes "five years later" testable.
// Thread-safety: Timestamp is a value; SystemClock and FixedClock are safe to share
// (FixedClock::Set is atomic).
#ifndef CUSTOS_COMMON_TIME_H_
#define CUSTOS_COMMON_TIME_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/period.h"

namespace custos {

// Microseconds since 1970-01-01T00:00:00Z.
struct Timestamp {
  int64_t micros = 0;

  // Accepts "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with "Z" or
  // "+HH:MM"/"-HH:MM", or the same with a space instead of "T". nullopt when malformed.
  static std::optional<Timestamp> Parse(std::string_view text);
  static Timestamp FromDate(const CivilDate& date);
  static Timestamp FromUnixSeconds(int64_t seconds) { return Timestamp{seconds * 1000000}; }
  // "2026-01-01T00:00:00Z" (microseconds shown only when non-zero).
  std::string ToString() const;
  CivilDate Date() const;  // the UTC calendar date

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// `at` plus `period`, calendar-aware: months and years keep the day of month, clamped to the
// month's last day (31 Jan + P1M = 28/29 Feb); days and smaller are added exactly.
Timestamp AddPeriod(Timestamp at, const IsoPeriod& period);
// The moment `period` before `at` (months and years back on the calendar, the day clamped to
// the month's last as AddPeriod does).
Timestamp SubtractPeriod(Timestamp at, const IsoPeriod& period);

// Days since 1970-01-01 for a date, and back.
int64_t DaysFromCivil(const CivilDate& date);
CivilDate CivilFromDays(int64_t days);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The real time. Only adapters (cli/, api/) create one.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

// A clock that says what it is told: tests, scenarios, `--at`, the server's test clock.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp at) : micros_(at.micros) {}
  Timestamp Now() const override { return Timestamp{micros_.load(std::memory_order_relaxed)}; }
  void Set(Timestamp at) { micros_.store(at.micros, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace custos

#endif  // CUSTOS_COMMON_TIME_H_
