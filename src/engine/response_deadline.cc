#include "engine/response_deadline.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "common/time.h"

namespace custos::engine {
namespace {

// Nation bits of a table row (uk_bank_holidays.inc names them kEW, kSC, kNI).
constexpr uint8_t kEW = 1 << 0;
constexpr uint8_t kSC = 1 << 1;
constexpr uint8_t kNI = 1 << 2;

// The years uk_bank_holidays.inc covers, every one of them in full.
constexpr int kFirstYear = 2024;
constexpr int kLastYear = 2030;

struct Row {
  CivilDate date;
  uint8_t nations;
  std::string_view name;
};

constexpr std::array kRows = {
#define BANK_HOLIDAY(year, month, day, nations, name) \
  Row{CivilDate{year, month, day}, static_cast<uint8_t>(nations), name},
#include "engine/uk_bank_holidays.inc"
#undef BANK_HOLIDAY
};

// Lookups binary-search the table, and a date appears once (its line lists every nation).
constexpr bool StrictlyInDateOrder() {
  for (size_t i = 1; i < kRows.size(); ++i) {
    if (!(kRows[i - 1].date < kRows[i].date)) return false;
  }
  return true;
}
static_assert(StrictlyInDateOrder(), "uk_bank_holidays.inc: one line per date, in date order");
static_assert(kRows.front().date.year == kFirstYear && kRows.back().date.year == kLastYear,
              "kFirstYear/kLastYear must match the years uk_bank_holidays.inc covers");

uint8_t Bit(UkNation nation) {
  switch (nation) {
    case UkNation::kEnglandAndWales: return kEW;
    case UkNation::kScotland: return kSC;
    case UkNation::kNorthernIreland: return kNI;
  }
  return 0;
}

bool IsWeekend(const CivilDate& date) {
  // 1970-01-01 (day 0) was a Thursday; 0 is Monday here.
  int64_t monday_based = (DaysFromCivil(date) + 3) % 7;
  if (monday_based < 0) monday_based += 7;
  return monday_based >= 5;
}

}  // namespace

std::string_view UkNationKey(UkNation nation) {
  switch (nation) {
    case UkNation::kEnglandAndWales: return "england_and_wales";
    case UkNation::kScotland: return "scotland";
    case UkNation::kNorthernIreland: return "northern_ireland";
  }
  return "england_and_wales";
}

std::optional<UkNation> UkNationFromKey(std::string_view key) {
  for (UkNation nation :
       {UkNation::kEnglandAndWales, UkNation::kScotland, UkNation::kNorthernIreland}) {
    if (UkNationKey(nation) == key) return nation;
  }
  return std::nullopt;
}

bool IsBankHoliday(const CivilDate& date, UkNation nation) {
  auto it = std::lower_bound(kRows.begin(), kRows.end(), date,
                             [](const Row& row, const CivilDate& d) { return row.date < d; });
  return it != kRows.end() && it->date == date && (it->nations & Bit(nation)) != 0;
}

bool IsWorkingDay(const CivilDate& date, UkNation nation) {
  return !IsWeekend(date) && !IsBankHoliday(date, nation);
}

CivilDate NextWorkingDay(const CivilDate& date, UkNation nation) {
  // Ends within a week: the longest run of non-working days (Christmas on a Saturday) is four.
  int64_t days = DaysFromCivil(date);
  CivilDate day = date;
  while (!IsWorkingDay(day, nation)) day = CivilFromDays(++days);
  return day;
}

CivilDate ResponseDueDate(const CivilDate& clock_start, const IsoPeriod& period, UkNation nation) {
  // Day one is the clock start itself, so the corresponding date a period later is what
  // AddPeriod gives (3 Sep + P1M = 3 Oct; 31 Jan + P1M = 28/29 Feb).
  CivilDate due = AddPeriod(Timestamp::FromDate(clock_start), period).Date();
  return NextWorkingDay(due, nation);
}

bool BankHolidaysKnown(int year) { return year >= kFirstYear && year <= kLastYear; }

std::vector<BankHoliday> BankHolidaysIn(int year, UkNation nation) {
  std::vector<BankHoliday> out;
  for (const Row& row : kRows) {
    if (row.date.year == year && (row.nations & Bit(nation)) != 0) {
      out.push_back({row.date, row.name});
    }
  }
  return out;
}

}  // namespace custos::engine
