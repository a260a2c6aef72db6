// IsoPeriod: an ISO-8601 duration such as P5Y, P6M, P12M, P0D or PT72H, and CivilDate, a
// calendar date. Retention rules, response periods and breach deadlines are written in these.
// Thread-safety: value types.
#ifndef CUSTOS_COMMON_PERIOD_H_
#define CUSTOS_COMMON_PERIOD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace custos {

struct IsoPeriod {
  int32_t years = 0;
  int32_t months = 0;
  int32_t days = 0;  // weeks are folded into days
  int32_t hours = 0;
  int32_t minutes = 0;
  int32_t seconds = 0;

  // Parses "PnYnMnWnDTnHnMnS" (each part optional, at least one present, integers only, each
  // at most 100000, and the days with the weeks folded in too, so that ToString's text parses).
  // Returns nullopt for anything else (negative, fractional, empty "P", trailing "T").
  static std::optional<IsoPeriod> Parse(std::string_view text);
  // Canonical ISO form, e.g. "P1Y6M", "PT72H", "P0D".
  std::string ToString() const;
  // Plain English for notices: "5 years", "6 months", "72 hours", "immediately".
  std::string ToHuman() const;
  bool IsZero() const;

  friend bool operator==(const IsoPeriod&, const IsoPeriod&) = default;
};

struct CivilDate {
  int32_t year = 1970;
  int32_t month = 1;
  int32_t day = 1;

  // Parses "YYYY-MM-DD"; nullopt when malformed or not a real date (2023-02-29).
  static std::optional<CivilDate> Parse(std::string_view text);
  std::string ToString() const;
  // "23 November 2022"
  std::string ToHuman() const;

  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

bool IsLeapYear(int32_t year);
int32_t DaysInMonth(int32_t year, int32_t month);

}  // namespace custos

#endif  // CUSTOS_COMMON_PERIOD_H_
