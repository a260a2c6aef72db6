// Response deadlines of rights requests: the ICO's calendar rule over UK working days.
//
// A rights request (access, erasure, ...) must be answered within the policy's response period
// (`rights.response_period`, P1M under UK GDPR), counted the ICO's way: the day the clock starts
// (the day of receipt, or the day identity proof, a clarification or a fee arrives) is day one,
// and the answer is due on the corresponding calendar date of the month the period later
// (received 3 September, due 3 October), or on the last day of that month when it has no such
// date (received 31 January, due 28 February, 29 in a leap year). A due date on a Saturday, a
// Sunday or a bank holiday of the controller's UK nation moves to the next working day.
//
// Bank holidays are data (uk_bank_holidays.inc): the published dates for England and Wales,
// Scotland and Northern Ireland, 2024 through 2030. A date outside the covered years is treated
// as having no bank holidays (only weekends are skipped); BankHolidaysKnown() tells a caller
// when that is the case, so it can warn.
//
// Pure functions: no I/O, no clock. Thread-safety: reentrant; the table is immutable static data.
#ifndef CUSTOS_ENGINE_RESPONSE_DEADLINE_H_
#define CUSTOS_ENGINE_RESPONSE_DEADLINE_H_

#include <optional>
#include <string_view>
#include <vector>

#include "common/period.h"

namespace custos::engine {

// The bank holiday calendars of the UK: Wales shares England's, Scotland and Northern Ireland
// have their own. The policy names one in `rights.bank_holidays` (by UkNationKey).
enum class UkNation { kEnglandAndWales, kScotland, kNorthernIreland };

// "england_and_wales", "scotland" or "northern_ireland": the policy's spelling.
std::string_view UkNationKey(UkNation nation);
// The nation whose UkNationKey is `key`; nullopt for anything else (matching is exact).
std::optional<UkNation> UkNationFromKey(std::string_view key);

// True when `date` is a bank holiday (a substitute day included) in `nation`. False for every
// date of a year outside the table (see BankHolidaysKnown).
bool IsBankHoliday(const CivilDate& date, UkNation nation);

// True when `date` is neither a Saturday, nor a Sunday, nor a bank holiday of `nation`.
bool IsWorkingDay(const CivilDate& date, UkNation nation);

// `date` itself when it is a working day in `nation`, else the first working day after it.
CivilDate NextWorkingDay(const CivilDate& date, UkNation nation);

// The day a response to a request whose clock started on `clock_start` is due, under `period`:
// AddPeriod(clock_start, period) (months and years keep the day of month, clamped to the
// month's last day; days are added exactly), moved to NextWorkingDay in `nation`. An extension
// ("up to two further months") is the same call with P3M from the same clock start. Parts of
// `period` below a day (hours, ...) count only as far as they carry the date forward.
// REQUIRES: `period` is not negative (IsoPeriod::Parse never yields a negative one).
CivilDate ResponseDueDate(const CivilDate& clock_start, const IsoPeriod& period, UkNation nation);

// True when the table covers `year` (2024 through 2030). For other years IsBankHoliday is
// always false, so deadlines there skip weekends only: extend uk_bank_holidays.inc before 2031.
bool BankHolidaysKnown(int year);

// One bank holiday of one nation, as the table names it ("Boxing Day (substitute day)").
struct BankHoliday {
  CivilDate date;
  std::string_view name;  // static storage
};

// The bank holidays of `nation` in `year`, in date order; empty when !BankHolidaysKnown(year).
std::vector<BankHoliday> BankHolidaysIn(int year, UkNation nation);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_RESPONSE_DEADLINE_H_
