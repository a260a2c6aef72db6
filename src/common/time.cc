#include "common/time.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace custos {

namespace {

bool ReadDigits(std::string_view text, size_t from, size_t count, int32_t& out) {
  if (from + count > text.size()) return false;
  for (size_t i = from; i < from + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::from_chars(text.data() + from, text.data() + from + count, out);
  return true;
}

}  // namespace

// Howard Hinnant's days-from-civil algorithm (public-domain arithmetic).
int64_t DaysFromCivil(const CivilDate& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (date.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int32_t>(y + (m <= 2 ? 1 : 0)), static_cast<int32_t>(m),
                   static_cast<int32_t>(d)};
}

std::optional<Timestamp> Timestamp::Parse(std::string_view text) {
  if (text.size() < 10) return std::nullopt;
  auto date = CivilDate::Parse(text.substr(0, 10));
  if (!date) return std::nullopt;
  int64_t micros = DaysFromCivil(*date) * 86400LL * 1000000LL;
  if (text.size() == 10) return Timestamp{micros};
  if (text[10] != 'T' && text[10] != ' ') return std::nullopt;
  int32_t hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 11, 2, hour) || text.size() < 16 || text[13] != ':' ||
      !ReadDigits(text, 14, 2, minute)) {
    return std::nullopt;
  }
  size_t pos = 16;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!ReadDigits(text, pos + 1, 2, second)) return std::nullopt;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 6) {
          fraction = fraction * 10 + (text[pos] - '0');
          ++digits;
        }
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 6; ++digits) fraction *= 10;
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      // UTC
    } else if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 &&
               text[pos + 3] == ':') {
      int32_t oh = 0, om = 0;
      if (!ReadDigits(text, pos + 1, 2, oh) || !ReadDigits(text, pos + 4, 2, om)) {
        return std::nullopt;
      }
      offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  micros += ((hour * 60LL + minute - offset_minutes) * 60LL + second) * 1000000LL + fraction;
  // A leap second or an offset can carry the instant past the years a four-digit date holds
  // (9999-12-31T23:59:60Z is 10000-01-01 in UTC); such a time could not be written back.
  constexpr int64_t kFirst = -62167219200LL * 1000000LL;      // 0000-01-01T00:00:00Z
  constexpr int64_t kAfterLast = 253402300800LL * 1000000LL;  // 10000-01-01T00:00:00Z
  if (micros < kFirst || micros >= kAfterLast) return std::nullopt;
  return Timestamp{micros};
}

Timestamp Timestamp::FromDate(const CivilDate& date) {
  return Timestamp{DaysFromCivil(date) * 86400LL * 1000000LL};
}

CivilDate Timestamp::Date() const {
  int64_t days = micros / (86400LL * 1000000LL);
  if (micros < 0 && micros % (86400LL * 1000000LL) != 0) --days;
  return CivilFromDays(days);
}

std::string Timestamp::ToString() const {
  constexpr int64_t kDay = 86400LL * 1000000LL;
  int64_t days = micros / kDay;
  int64_t rest = micros % kDay;
  if (rest < 0) {
    rest += kDay;
    --days;
  }
  CivilDate date = CivilFromDays(days);
  int64_t seconds = rest / 1000000;
  int64_t fraction = rest % 1000000;
  if (date.year < 0 || date.year > 9999) {  // rare: leave the odd widths to snprintf
    char buffer[64];
    int size = std::snprintf(
        buffer, sizeof buffer, "%04d-%02d-%02dT%02lld:%02lld:%02lld.%06lldZ", date.year, date.month,
        date.day, static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
        static_cast<long long>(seconds % 60), static_cast<long long>(fraction));
    std::string text(buffer, static_cast<size_t>(size));
    if (fraction == 0) text.erase(text.size() - 8, 7);  // ".000000"
    return text;
  }
  // Written digit by digit: every decision's answer carries a time, and snprintf was a visible
  // share of a decision's cost (docs/PERFORMANCE.md).
  char buffer[28];
  auto put = [&buffer](int at, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buffer[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, date.year, 4);
  buffer[4] = '-';
  put(5, date.month, 2);
  buffer[7] = '-';
  put(8, date.day, 2);
  buffer[10] = 'T';
  put(11, seconds / 3600, 2);
  buffer[13] = ':';
  put(14, seconds / 60 % 60, 2);
  buffer[16] = ':';
  put(17, seconds % 60, 2);
  size_t size = 19;
  if (fraction != 0) {
    buffer[19] = '.';
    put(20, fraction, 6);
    size = 26;
  }
  buffer[size++] = 'Z';
  return std::string(buffer, size);
}

Timestamp AddPeriod(Timestamp at, const IsoPeriod& period) {
  constexpr int64_t kDay = 86400LL * 1000000LL;
  int64_t days = at.micros / kDay;
  int64_t rest = at.micros % kDay;
  if (rest < 0) {
    rest += kDay;
    --days;
  }
  CivilDate date = CivilFromDays(days);
  int64_t months = static_cast<int64_t>(date.month - 1) + period.months + period.years * 12LL;
  // Floor division, so a negative period (SubtractPeriod) moves back across years too.
  int64_t years = months >= 0 ? months / 12 : -((-months + 11) / 12);
  date.year += static_cast<int32_t>(years);
  date.month = static_cast<int32_t>(months - years * 12) + 1;
  date.day = std::min(date.day, DaysInMonth(date.year, date.month));
  int64_t micros = (DaysFromCivil(date) + period.days) * kDay + rest;
  micros += ((period.hours * 60LL + period.minutes) * 60LL + period.seconds) * 1000000LL;
  return Timestamp{micros};
}

Timestamp SubtractPeriod(Timestamp at, const IsoPeriod& period) {
  IsoPeriod back{-period.years, -period.months,  -period.days,
                 -period.hours, -period.minutes, -period.seconds};
  return AddPeriod(at, back);
}

Timestamp SystemClock::Now() const {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
}

}  // namespace custos
