#include "common/period.h"

#include <array>
#include <charconv>
#include <cstdio>

namespace custos {

namespace {

constexpr int32_t kMaxPeriodNumber = 100000;

// Reads an unsigned decimal number; advances pos. Caps at 100000 to keep arithmetic safe.
std::optional<int32_t> ReadNumber(std::string_view text, size_t& pos) {
  size_t start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos == start || pos - start > 6) return std::nullopt;
  int32_t value = 0;
  std::from_chars(text.data() + start, text.data() + pos, value);
  if (value > kMaxPeriodNumber) return std::nullopt;
  return value;
}

std::string Plural(int32_t n, const char* unit) {
  std::string out = std::to_string(n) + " " + unit;
  if (n != 1) out += "s";
  return out;
}

}  // namespace

std::optional<IsoPeriod> IsoPeriod::Parse(std::string_view text) {
  if (text.size() < 2 || text[0] != 'P') return std::nullopt;
  IsoPeriod period;
  size_t pos = 1;
  bool in_time = false;
  bool any = false;
  bool any_time = false;
  // Designators must appear in order; rank tracks the last one seen.
  int rank = 0;
  while (pos < text.size()) {
    if (text[pos] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++pos;
      continue;
    }
    auto number = ReadNumber(text, pos);
    if (!number || pos >= text.size()) return std::nullopt;
    char designator = text[pos++];
    int this_rank = 0;
    if (!in_time) {
      switch (designator) {
        case 'Y':
          this_rank = 1;
          period.years = *number;
          break;
        case 'M':
          this_rank = 2;
          period.months = *number;
          break;
        case 'W':
          this_rank = 3;
          period.days += *number * 7;
          break;
        case 'D':
          this_rank = 4;
          period.days += *number;
          break;
        default: return std::nullopt;
      }
    } else {
      switch (designator) {
        case 'H':
          this_rank = 5;
          period.hours = *number;
          break;
        case 'M':
          this_rank = 6;
          period.minutes = *number;
          break;
        case 'S':
          this_rank = 7;
          period.seconds = *number;
          break;
        default: return std::nullopt;
      }
      any_time = true;
    }
    if (this_rank <= rank) return std::nullopt;
    rank = this_rank;
    any = true;
  }
  if (!any || (in_time && !any_time)) return std::nullopt;
  // Weeks are folded into days: the sum keeps the same cap as any one number, so every period
  // that parses prints (ToString, in days) as text that parses again.
  if (period.days > kMaxPeriodNumber) return std::nullopt;
  return period;
}

std::string IsoPeriod::ToString() const {
  std::string out = "P";
  if (years) out += std::to_string(years) + "Y";
  if (months) out += std::to_string(months) + "M";
  if (days) out += std::to_string(days) + "D";
  if (hours || minutes || seconds) {
    out += "T";
    if (hours) out += std::to_string(hours) + "H";
    if (minutes) out += std::to_string(minutes) + "M";
    if (seconds) out += std::to_string(seconds) + "S";
  }
  if (out == "P") out = "P0D";
  return out;
}

std::string IsoPeriod::ToHuman() const {
  if (IsZero()) return "immediately";
  std::string out;
  auto add = [&out](int32_t n, const char* unit) {
    if (!n) return;
    if (!out.empty()) out += ", ";
    out += Plural(n, unit);
  };
  add(years, "year");
  add(months, "month");
  add(days, "day");
  add(hours, "hour");
  add(minutes, "minute");
  add(seconds, "second");
  return out;
}

bool IsoPeriod::IsZero() const {
  return years == 0 && months == 0 && days == 0 && hours == 0 && minutes == 0 && seconds == 0;
}

bool IsLeapYear(int32_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int32_t DaysInMonth(int32_t year, int32_t month) {
  static constexpr std::array<int32_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[static_cast<size_t>(month - 1)];
}

std::optional<CivilDate> CivilDate::Parse(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  CivilDate date;
  auto read = [&text](size_t from, size_t len, int32_t& out) {
    for (size_t i = from; i < from + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    std::from_chars(text.data() + from, text.data() + from + len, out);
    return true;
  };
  if (!read(0, 4, date.year) || !read(5, 2, date.month) || !read(8, 2, date.day)) {
    return std::nullopt;
  }
  if (date.month < 1 || date.month > 12) return std::nullopt;
  if (date.day < 1 || date.day > DaysInMonth(date.year, date.month)) return std::nullopt;
  return date;
}

std::string CivilDate::ToString() const {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", year, month, day);
  return buffer;
}

std::string CivilDate::ToHuman() const {
  static constexpr std::array<const char*, 12> kMonths = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  return std::to_string(day) + " " + kMonths[static_cast<size_t>(month - 1)] + " " +
         std::to_string(year);
}

}  // namespace custos
