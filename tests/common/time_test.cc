#include "common/time.h"

#include <gtest/gtest.h>

namespace custos {
namespace {

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

TEST(Timestamp, ParsesDatesTimesAndOffsets) {
  EXPECT_EQ(T("1970-01-01").micros, 0);
  EXPECT_EQ(T("1970-01-01T00:00:01Z").micros, 1000000);
  EXPECT_EQ(T("2026-01-01T01:00:00+01:00"), T("2026-01-01"));
  EXPECT_EQ(T("2026-01-01T10:30:00.5Z").ToString(), "2026-01-01T10:30:00.500000Z");
  EXPECT_EQ(T("2026-11-25 09:26").ToString(), "2026-11-25T09:26:00Z");
  EXPECT_EQ(Timestamp{0}.ToString(), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Timestamp{-1}.ToString(), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(T("9999-12-31T23:59:59Z").ToString(), "9999-12-31T23:59:59Z");
  EXPECT_EQ(Timestamp{T("9999-12-31T23:59:59Z").micros + 1000000}.ToString(),
            "10000-01-01T00:00:00Z");
  for (const char* bad : {"", "2026", "2026-13-01", "2026-01-01T25:00", "2026-01-01X",
                          "2026-01-01T10:00:00+0100", "2026-01-01T10:00:00.Z"}) {
    EXPECT_FALSE(Timestamp::Parse(bad).has_value()) << bad;
  }
}

TEST(Timestamp, RefusesATimeWhoseUtcInstantLeavesFourDigitYears) {
  // Found by the time fuzzer: a leap second on the last day of 9999 is 10000-01-01 in UTC,
  // which no four-digit date can say, so the time is refused rather than read.
  EXPECT_FALSE(Timestamp::Parse("9999-12-31T23:59:60Z").has_value());
  EXPECT_FALSE(Timestamp::Parse("9999-12-31T23:30:00-01:00").has_value());
  EXPECT_FALSE(Timestamp::Parse("0000-01-01T00:30:00+01:00").has_value());
  EXPECT_EQ(T("9999-12-31T23:59:59.999999Z").ToString(), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(T("0000-01-01T00:00:00Z").ToString(), "0000-01-01T00:00:00Z");
  EXPECT_EQ(T("2016-12-31T23:59:60Z"), T("2017-01-01T00:00:00Z"));
}

TEST(Timestamp, RoundTripsThroughText) {
  for (const char* text :
       {"1999-12-31T23:59:59Z", "2024-02-29T12:00:00Z", "1969-07-20T20:17:40Z"}) {
    EXPECT_EQ(T(text).ToString(), text);
  }
}

TEST(AddPeriod, FiveYearsAfterMembershipEnded) {
  // WIG: "for the following five years if your organisation does not renew membership".
  EXPECT_EQ(AddPeriod(T("2026-03-31"), *IsoPeriod::Parse("P5Y")), T("2031-03-31"));
  EXPECT_EQ(AddPeriod(T("2024-02-29"), *IsoPeriod::Parse("P1Y")), T("2025-02-28"));
}

TEST(AddPeriod, MonthsClampToTheLastDayOfTheMonth) {
  // ICO: a request received 31 January is due 28 February (29 in a leap year).
  EXPECT_EQ(AddPeriod(T("2026-01-31"), *IsoPeriod::Parse("P1M")), T("2026-02-28"));
  EXPECT_EQ(AddPeriod(T("2028-01-31"), *IsoPeriod::Parse("P1M")), T("2028-02-29"));
  EXPECT_EQ(AddPeriod(T("2026-08-31T10:00:00Z"), *IsoPeriod::Parse("P6M")),
            T("2027-02-28T10:00:00Z"));
}

TEST(AddPeriod, HoursAreExact) {
  // Breach: 72 hours to tell the regulator.
  EXPECT_EQ(AddPeriod(T("2026-03-01T09:00:00Z"), *IsoPeriod::Parse("PT72H")),
            T("2026-03-04T09:00:00Z"));
}

TEST(FixedClock, SaysWhatItIsTold) {
  FixedClock clock(T("2026-01-01"));
  EXPECT_EQ(clock.Now(), T("2026-01-01"));
  clock.Set(T("2031-01-02"));
  EXPECT_EQ(clock.Now(), T("2031-01-02"));
}

}  // namespace
}  // namespace custos
