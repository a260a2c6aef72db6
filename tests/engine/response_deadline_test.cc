// The response deadline of a rights request (engine/response_deadline.h) and the bank holiday
// table behind it (engine/uk_bank_holidays.inc).
//
// The rule, after the ICO's guidance on the time limit for responding to a request
// (paraphrased): count from the day the request is received (a working day or not; that day is
// day one) to the corresponding calendar date in the next month (received 3 September, due 3
// October); when the next month is shorter and has no such date, the last day of that month;
// when that date is a weekend or a bank holiday, the next working day. The clock starts again on
// the day identity proof, a clarification or a fee arrives. An extension by up to two further
// months runs from the same clock start (P3M in all).
#include "engine/response_deadline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/period.h"
#include "common/time.h"
#include "policy/loader.h"

namespace custos::engine {
namespace {

constexpr UkNation kEnglandAndWales = UkNation::kEnglandAndWales;
constexpr UkNation kScotland = UkNation::kScotland;
constexpr UkNation kNorthernIreland = UkNation::kNorthernIreland;
constexpr UkNation kNations[] = {kEnglandAndWales, kScotland, kNorthernIreland};

CivilDate D(const char* text) {
  auto date = CivilDate::Parse(text);
  EXPECT_TRUE(date.has_value()) << text;
  return date.value_or(CivilDate{});
}

IsoPeriod P(const char* text) {
  auto period = IsoPeriod::Parse(text);
  EXPECT_TRUE(period.has_value()) << text;
  return period.value_or(IsoPeriod{});
}

std::string Due(const char* received, const char* period, UkNation nation) {
  return ResponseDueDate(D(received), P(period), nation).ToString();
}

// 0 = Monday ... 6 = Sunday, from days since 1970-01-01 (a Thursday).
int Weekday(const CivilDate& date) {
  int64_t days = DaysFromCivil(date);
  return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

// Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher), independent of the
// table, which was written by hand.
CivilDate EasterSunday(int year) {
  int a = year % 19;
  int b = year / 100;
  int c = year % 100;
  int d = b / 4;
  int e = b % 4;
  int f = (b + 8) / 25;
  int g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4;
  int k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = (h + l - 7 * m + 114) % 31 + 1;
  return CivilDate{year, month, day};
}

CivilDate AddDays(const CivilDate& date, int64_t days) {
  return CivilFromDays(DaysFromCivil(date) + days);
}

// --- The ICO's rule ---------------------------------------------------------------------------

// Received Thursday 3 September 2026: the corresponding date, 3 October 2026, is a Saturday, so
// the answer is due on Monday 5 October.
TEST(ResponseDeadline, CorrespondingDateOnASaturdayMovesToMonday) {
  EXPECT_EQ(Due("2026-09-03", "P1M", kEnglandAndWales), "2026-10-05");
}

// The day of receipt is day one: a request received on Tuesday 3 February 2026 is due on the
// corresponding date, Tuesday 3 March 2026, not a day later.
TEST(ResponseDeadline, DayOfReceiptIsDayOneSoTheCorrespondingDateIsDue) {
  EXPECT_EQ(Due("2026-02-03", "P1M", kEnglandAndWales), "2026-03-03");
}

// Received 31 January 2027: February has no 31st, so the last day of February is due, 28
// February 2027, which is a Sunday: due Monday 1 March.
TEST(ResponseDeadline, NoCorrespondingDateGivesTheMonthsLastDayThenTheNextWorkingDay) {
  EXPECT_EQ(Due("2027-01-31", "P1M", kEnglandAndWales), "2027-03-01");
}

// Received 31 January 2028, a leap year: due Tuesday 29 February 2028.
TEST(ResponseDeadline, LeapYearGivesTwentyNinthOfFebruary) {
  EXPECT_EQ(Due("2028-01-31", "P1M", kEnglandAndWales), "2028-02-29");
}

// Received Thursday 25 November 2027: 25 December 2027 is a Saturday, Boxing Day a Sunday, and
// both are made up on Monday 27 and Tuesday 28 December: due Wednesday 29 December.
TEST(ResponseDeadline, ChristmasOnAWeekendMovesPastBothSubstituteDays) {
  for (UkNation nation : kNations) {
    EXPECT_EQ(Due("2027-11-25", "P1M", nation), "2027-12-29") << UkNationKey(nation);
  }
}

// Received Thursday 26 November 2026: Boxing Day 2026 is a Saturday, its substitute Monday 28
// December: due Tuesday 29 December.
TEST(ResponseDeadline, BoxingDayOnASaturdayMovesPastItsSubstituteMonday) {
  EXPECT_EQ(Due("2026-11-26", "P1M", kEnglandAndWales), "2026-12-29");
}

// Received Tuesday 3 March 2026: 3 April 2026 is Good Friday, then a weekend, then Easter
// Monday, which is a bank holiday in England and Wales but not in Scotland.
TEST(ResponseDeadline, EasterMondayCountsInEnglandButNotInScotland) {
  EXPECT_EQ(Due("2026-03-03", "P1M", kEnglandAndWales), "2026-04-07");
  EXPECT_EQ(Due("2026-03-03", "P1M", kScotland), "2026-04-06");
  EXPECT_EQ(Due("2026-03-03", "P1M", kNorthernIreland), "2026-04-07");
}

// Scotland's summer bank holiday is the first Monday of August (4 August 2025), England's the
// last (25 August 2025).
TEST(ResponseDeadline, ScotlandAndEnglandDifferInAugust) {
  EXPECT_EQ(Due("2025-07-04", "P1M", kScotland), "2025-08-05");
  EXPECT_EQ(Due("2025-07-04", "P1M", kEnglandAndWales), "2025-08-04");
  EXPECT_EQ(Due("2025-07-25", "P1M", kEnglandAndWales), "2025-08-26");
  EXPECT_EQ(Due("2025-07-25", "P1M", kScotland), "2025-08-25");
}

// St Andrew's Day, Monday 30 November 2026, is a bank holiday in Scotland only.
TEST(ResponseDeadline, StAndrewsDayMovesTheDeadlineInScotlandOnly) {
  EXPECT_EQ(Due("2026-10-30", "P1M", kScotland), "2026-12-01");
  EXPECT_EQ(Due("2026-10-30", "P1M", kEnglandAndWales), "2026-11-30");
  EXPECT_EQ(Due("2026-10-30", "P1M", kNorthernIreland), "2026-11-30");
}

// St Patrick's Day, Wednesday 17 March 2027, is a bank holiday in Northern Ireland only.
TEST(ResponseDeadline, StPatricksDayMovesTheDeadlineInNorthernIrelandOnly) {
  EXPECT_EQ(Due("2027-02-17", "P1M", kNorthernIreland), "2027-03-18");
  EXPECT_EQ(Due("2027-02-17", "P1M", kEnglandAndWales), "2027-03-17");
  EXPECT_EQ(Due("2027-02-17", "P1M", kScotland), "2027-03-17");
}

// The Battle of the Boyne, 12 July: Monday 12 July 2027 is a holiday in Northern Ireland; in
// 2026 the 12th is a Sunday, so Monday 13 July is, and a due date of 12 July 2026 moves to
// Tuesday 14 July there but only to Monday 13 July elsewhere.
TEST(ResponseDeadline, TwelfthOfJulyMovesTheDeadlineInNorthernIrelandOnly) {
  EXPECT_EQ(Due("2027-06-12", "P1M", kNorthernIreland), "2027-07-13");
  EXPECT_EQ(Due("2027-06-12", "P1M", kEnglandAndWales), "2027-07-12");
  EXPECT_EQ(Due("2026-06-12", "P1M", kNorthernIreland), "2026-07-14");
  EXPECT_EQ(Due("2026-06-12", "P1M", kEnglandAndWales), "2026-07-13");
}

// An extension by up to two further months is P3M from the same clock start: received 3
// September 2026, extended, due Thursday 3 December 2026.
TEST(ResponseDeadline, ExtensionIsThreeMonthsFromTheSameClockStart) {
  EXPECT_EQ(Due("2026-09-03", "P3M", kEnglandAndWales), "2026-12-03");
}

// The extension is counted from the clock start, not from the first deadline: 31 January 2028
// + P3M is 30 April 2028 (a Sunday; Monday 1 May is the early May bank holiday), so due
// Tuesday 2 May; chaining P1M (29 February) then P2M would wrongly give 29 April.
TEST(ResponseDeadline, ExtensionIsNotCountedFromTheFirstDeadline) {
  EXPECT_EQ(Due("2028-01-31", "P3M", kEnglandAndWales), "2028-05-02");
}

// Received on a Sunday, 30 November 2025 (the clock starts whatever the day): + P3M is 30
// February, clamped to Saturday 28 February 2026, so due Monday 2 March.
TEST(ResponseDeadline, ExtensionClampsToTheMonthsLastDayThenSkipsTheWeekend) {
  EXPECT_EQ(Due("2025-11-30", "P3M", kEnglandAndWales), "2026-03-02");
}

// --- Working days -----------------------------------------------------------------------------

TEST(ResponseDeadline, WeekendsAreNotWorkingDays) {
  EXPECT_FALSE(IsWorkingDay(D("2026-10-03"), kEnglandAndWales));  // Saturday
  EXPECT_FALSE(IsWorkingDay(D("2026-10-04"), kScotland));         // Sunday
  EXPECT_TRUE(IsWorkingDay(D("2026-10-05"), kNorthernIreland));   // Monday
  EXPECT_FALSE(IsBankHoliday(D("2026-10-03"), kEnglandAndWales)) << "a weekend is no holiday";
}

TEST(ResponseDeadline, NextWorkingDayIsTheDateItselfWhenItIsOne) {
  EXPECT_EQ(NextWorkingDay(D("2026-10-05"), kEnglandAndWales).ToString(), "2026-10-05");
  EXPECT_EQ(NextWorkingDay(D("2026-10-03"), kEnglandAndWales).ToString(), "2026-10-05");
  EXPECT_EQ(NextWorkingDay(D("2027-12-24"), kEnglandAndWales).ToString(), "2027-12-24");
  EXPECT_EQ(NextWorkingDay(D("2027-12-25"), kEnglandAndWales).ToString(), "2027-12-29");
}

// Scotland's New Year: 1 January 2028 is a Saturday and 2 January a Sunday, so Monday 3 and
// Tuesday 4 January are both holidays there; elsewhere only the 3rd.
TEST(ResponseDeadline, ScotlandKeepsTwoDaysOfNewYear) {
  EXPECT_EQ(NextWorkingDay(D("2028-01-01"), kScotland).ToString(), "2028-01-05");
  EXPECT_EQ(NextWorkingDay(D("2028-01-01"), kEnglandAndWales).ToString(), "2028-01-04");
  EXPECT_EQ(NextWorkingDay(D("2028-01-01"), kNorthernIreland).ToString(), "2028-01-04");
}

// --- The table --------------------------------------------------------------------------------

TEST(ResponseDeadlineBankHolidays, GoodFridayAndEasterMondayMatchAnIndependentEaster) {
  for (int year = 2024; year <= 2030; ++year) {
    CivilDate easter = EasterSunday(year);
    CivilDate good_friday = AddDays(easter, -2);
    CivilDate easter_monday = AddDays(easter, 1);
    EXPECT_FALSE(IsBankHoliday(easter, kEnglandAndWales)) << easter.ToString() << " is a Sunday";
    for (UkNation nation : kNations) {
      EXPECT_TRUE(IsBankHoliday(good_friday, nation))
          << "Good Friday " << good_friday.ToString() << " " << UkNationKey(nation);
    }
    EXPECT_TRUE(IsBankHoliday(easter_monday, kEnglandAndWales)) << easter_monday.ToString();
    EXPECT_TRUE(IsBankHoliday(easter_monday, kNorthernIreland)) << easter_monday.ToString();
    EXPECT_FALSE(IsBankHoliday(easter_monday, kScotland)) << easter_monday.ToString();
  }
}

TEST(ResponseDeadlineBankHolidays, IndependentEasterAgreesWithKnownEasterSundays) {
  // Checks the test's own algorithm against Easter Sundays known from calendars.
  EXPECT_EQ(EasterSunday(2024).ToString(), "2024-03-31");
  EXPECT_EQ(EasterSunday(2025).ToString(), "2025-04-20");
  EXPECT_EQ(EasterSunday(2026).ToString(), "2026-04-05");
  EXPECT_EQ(EasterSunday(2027).ToString(), "2027-03-28");
}

TEST(ResponseDeadlineBankHolidays, KnownDates) {
  EXPECT_TRUE(IsBankHoliday(D("2025-08-25"), kEnglandAndWales));  // summer, last Monday
  EXPECT_FALSE(IsBankHoliday(D("2025-08-25"), kScotland));
  EXPECT_TRUE(IsBankHoliday(D("2025-08-04"), kScotland));  // summer, first Monday
  EXPECT_FALSE(IsBankHoliday(D("2025-08-04"), kEnglandAndWales));
  EXPECT_TRUE(IsBankHoliday(D("2026-07-13"), kNorthernIreland));  // Boyne, 12th a Sunday
  EXPECT_FALSE(IsBankHoliday(D("2026-07-13"), kEnglandAndWales));
  EXPECT_TRUE(IsBankHoliday(D("2025-07-14"), kNorthernIreland));  // Boyne, 12th a Saturday
  EXPECT_TRUE(IsBankHoliday(D("2026-12-28"), kEnglandAndWales));  // Boxing Day substitute
  EXPECT_TRUE(IsBankHoliday(D("2027-12-27"), kScotland));         // Christmas substitute
  EXPECT_TRUE(IsBankHoliday(D("2027-12-28"), kNorthernIreland));  // Boxing Day substitute
  EXPECT_TRUE(IsBankHoliday(D("2028-01-03"), kEnglandAndWales));  // New Year substitute
  EXPECT_TRUE(IsBankHoliday(D("2028-01-04"), kScotland));         // 2 January substitute
  EXPECT_FALSE(IsBankHoliday(D("2028-01-04"), kEnglandAndWales));
  EXPECT_TRUE(IsBankHoliday(D("2027-01-04"), kScotland));         // 2 January 2027 a Saturday
  EXPECT_TRUE(IsBankHoliday(D("2024-03-18"), kNorthernIreland));  // St Patrick's substitute
  EXPECT_TRUE(IsBankHoliday(D("2024-12-02"), kScotland));         // St Andrew's substitute
  EXPECT_TRUE(IsBankHoliday(D("2030-12-02"), kScotland));         // St Andrew's substitute
  EXPECT_TRUE(IsBankHoliday(D("2027-05-31"), kScotland));         // spring, last Monday of May
  EXPECT_TRUE(IsBankHoliday(D("2028-05-01"), kEnglandAndWales));  // early May
}

TEST(ResponseDeadlineBankHolidays, EveryHolidayFallsOnAWeekday) {
  for (int year = 2024; year <= 2030; ++year) {
    for (UkNation nation : kNations) {
      for (const BankHoliday& holiday : BankHolidaysIn(year, nation)) {
        EXPECT_LT(Weekday(holiday.date), 5) << holiday.date.ToString() << " " << holiday.name;
        EXPECT_TRUE(IsBankHoliday(holiday.date, nation)) << holiday.date.ToString();
      }
    }
  }
}

// England and Wales: New Year, Good Friday, Easter Monday, early May, spring, summer,
// Christmas, Boxing Day. Scotland: no Easter Monday, but 2 January and St Andrew's Day.
// Northern Ireland: England's eight and St Patrick's Day and 12 July.
TEST(ResponseDeadlineBankHolidays, EachNationHasItsNumberOfHolidaysEveryYear) {
  for (int year = 2024; year <= 2030; ++year) {
    EXPECT_EQ(BankHolidaysIn(year, kEnglandAndWales).size(), 8u) << year;
    EXPECT_EQ(BankHolidaysIn(year, kScotland).size(), 9u) << year;
    EXPECT_EQ(BankHolidaysIn(year, kNorthernIreland).size(), 10u) << year;
  }
}

TEST(ResponseDeadlineBankHolidays, KnownYearsAreTwentyTwentyFourToTwentyThirty) {
  EXPECT_FALSE(BankHolidaysKnown(2023));
  EXPECT_TRUE(BankHolidaysKnown(2024));
  EXPECT_TRUE(BankHolidaysKnown(2030));
  EXPECT_FALSE(BankHolidaysKnown(2031));
  EXPECT_TRUE(BankHolidaysIn(2031, kEnglandAndWales).empty());
}

// Outside the table only weekends are skipped: Christmas Day 2031 (a Thursday) is not known as
// a holiday, which is why the table must be extended before 2031.
TEST(ResponseDeadlineBankHolidays, DatesOutsideTheTableHaveNoBankHolidays) {
  EXPECT_FALSE(IsBankHoliday(D("2031-12-25"), kEnglandAndWales));
  EXPECT_FALSE(IsBankHoliday(D("2023-12-25"), kEnglandAndWales));
  EXPECT_EQ(Due("2031-11-25", "P1M", kEnglandAndWales), "2031-12-25");
  EXPECT_EQ(Due("2031-10-04", "P1M", kEnglandAndWales), "2031-11-04");  // a Tuesday
}

// --- Nation keys ------------------------------------------------------------------------------

TEST(ResponseDeadline, NationKeysRoundTrip) {
  for (UkNation nation : kNations) {
    EXPECT_EQ(UkNationFromKey(UkNationKey(nation)), nation);
  }
  EXPECT_EQ(UkNationKey(kEnglandAndWales), "england_and_wales");
  EXPECT_EQ(UkNationKey(kScotland), "scotland");
  EXPECT_EQ(UkNationKey(kNorthernIreland), "northern_ireland");
  EXPECT_FALSE(UkNationFromKey("wales").has_value());
  EXPECT_FALSE(UkNationFromKey("Scotland").has_value());
  EXPECT_FALSE(UkNationFromKey("").has_value());
}

// The policy keeps `rights.bank_holidays` as text (policy/ may not use engine/): the loader
// must admit every UkNationKey, and its default must be one.
TEST(ResponseDeadline, PolicyLoaderAdmitsEveryNationKey) {
  std::ifstream in(CUSTOS_SOURCE_DIR "/tests/fixtures/policy/valid/minimal.yaml");
  const std::string text(std::istreambuf_iterator<char>(in), {});
  const std::string line = "  bank_holidays: england_and_wales\n";
  ASSERT_NE(text.find(line), std::string::npos);
  for (UkNation nation : kNations) {
    std::string edited = text;
    edited.replace(edited.find(line), line.size(),
                   "  bank_holidays: " + std::string(UkNationKey(nation)) + "\n");
    policy::LoadOutcome outcome = policy::CheckPolicyText(edited, "minimal.yaml");
    ASSERT_TRUE(outcome.ok()) << outcome.Report();
    EXPECT_EQ(UkNationFromKey(outcome.policy.rights.bank_holidays), nation);
  }
  EXPECT_EQ(UkNationFromKey(policy::Rights{}.bank_holidays), kEnglandAndWales);
}

}  // namespace
}  // namespace custos::engine
