#include "nl2sql/engine/dates.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

#include "nl2sql/engine/tokenizer.h"

namespace helios::nl2sql::engine {
namespace {

using std::chrono::December;
using std::chrono::February;
using std::chrono::year_month_day;
using namespace std::chrono_literals;

// A Monday.
constexpr year_month_day kToday{2025y, December, 15d};

struct Parsed {
  size_t used = 0;
  std::string begin, end;
  bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Parsed& p) {
  return os << "{used " << p.used << ", [" << p.begin << ", " << p.end << ")}";
}

// Parses the expression starting at token `at` of `question`.
Parsed Parse(std::string_view question, int default_year = 0, year_month_day today = kToday,
             size_t at = 0) {
  auto tokens = Tokenize(question);
  DateRange r{"unset", "unset"};
  Parsed p;
  p.used = ParseDateExpression(tokens, at, today, default_year, &r);
  if (p.used) {
    p.begin = r.begin;
    p.end = r.end;
  } else {
    // Nothing is read: the output is left alone.
    EXPECT_EQ(r.begin, "unset") << question;
    EXPECT_EQ(r.end, "unset") << question;
  }
  return p;
}

const Parsed kNone{0, "", ""};

TEST(IsoDateTest, PadsYearMonthAndDay) {
  EXPECT_EQ(IsoDate(year_month_day{2024y, February, 9d}), "2024-02-09");
  EXPECT_EQ(IsoDate(kToday), "2025-12-15");
  EXPECT_EQ(IsoDate(year_month_day{std::chrono::year{987}, February, 1d}), "0987-02-01");
}

TEST(DatesTest, WholeYears) {
  EXPECT_EQ(Parse("in 2024"), (Parsed{2, "2024-01-01", "2025-01-01"}));
  EXPECT_EQ(Parse("during 2023"), (Parsed{2, "2023-01-01", "2024-01-01"}));
  EXPECT_EQ(Parse("2022"), (Parsed{1, "2022-01-01", "2023-01-01"}));
  // Only four-digit numbers in 1900..2100 are years.
  EXPECT_EQ(Parse("in 1899"), kNone);
  EXPECT_EQ(Parse("in 20245"), kNone);
  EXPECT_EQ(Parse("in 2,024"), kNone);
  EXPECT_EQ(Parse("in 2024.5"), kNone);
}

TEST(DatesTest, ParsingStartsAtTheGivenToken) {
  EXPECT_EQ(Parse("orders placed in 2024 by city", 0, kToday, 2),
            (Parsed{2, "2024-01-01", "2025-01-01"}));
  EXPECT_EQ(Parse("orders placed in 2024", 0, kToday, 0), kNone);
  EXPECT_EQ(Parse("in 2024", 0, kToday, 2), kNone);  // past the end
}

TEST(DatesTest, DaysWrittenOutWithTheMonthsName) {
  EXPECT_EQ(Parse("after September 7, 1987"), (Parsed{4, "1987-09-08", ""}));
  EXPECT_EQ(Parse("before November 5th 2007"), (Parsed{4, "", "2007-11-05"}));
  EXPECT_EQ(Parse("after 7th of September, 1987"), (Parsed{5, "1987-09-08", ""}));
  EXPECT_EQ(Parse("on 12 March 2024"), (Parsed{4, "2024-03-12", "2024-03-13"}));
  // Not a day of that month: only the month is read, and the question's "30" stays unplaced.
  EXPECT_EQ(Parse("after February 30, 2024").used, 2u);
}

TEST(DatesTest, Quarters) {
  EXPECT_EQ(Parse("during Q3 2024"), (Parsed{3, "2024-07-01", "2024-10-01"}));
  EXPECT_EQ(Parse("in q4 of 2023"), (Parsed{4, "2023-10-01", "2024-01-01"}));
  EXPECT_EQ(Parse("Q1 2025"), (Parsed{2, "2025-01-01", "2025-04-01"}));
  EXPECT_EQ(Parse("the third quarter of 2023"), (Parsed{5, "2023-07-01", "2023-10-01"}));
  EXPECT_EQ(Parse("in the first quarter of 2024"), (Parsed{6, "2024-01-01", "2024-04-01"}));
  EXPECT_EQ(Parse("quarter 3 2024"), (Parsed{3, "2024-07-01", "2024-10-01"}));
  EXPECT_EQ(Parse("in quarter 4 of 2021"), (Parsed{5, "2021-10-01", "2022-01-01"}));
  EXPECT_EQ(Parse("q5 2024"), kNone);
  EXPECT_EQ(Parse("first quarter"), (Parsed{2, "2025-01-01", "2025-04-01"}));
}

TEST(DatesTest, QuarterNamedWithADigitOrdinal) {
  EXPECT_EQ(Parse("in the 2nd quarter 2022"), (Parsed{5, "2022-04-01", "2022-07-01"}));
  EXPECT_EQ(Parse("the 3rd quarter of 2023"), (Parsed{5, "2023-07-01", "2023-10-01"}));
}

TEST(DatesTest, QuarterWithoutAYearUsesDefaultYearOrThisYear) {
  EXPECT_EQ(Parse("Q2", 2024), (Parsed{1, "2024-04-01", "2024-07-01"}));
  EXPECT_EQ(Parse("in Q2", 2024), (Parsed{2, "2024-04-01", "2024-07-01"}));
  EXPECT_EQ(Parse("Q2"), (Parsed{1, "2025-04-01", "2025-07-01"}));
  EXPECT_EQ(Parse("the third quarter", 2023), (Parsed{3, "2023-07-01", "2023-10-01"}));
  // A year in the question wins over the default.
  EXPECT_EQ(Parse("Q2 2022", 2024), (Parsed{2, "2022-04-01", "2022-07-01"}));
}

TEST(DatesTest, QuarterWithoutAYearIsNeverInTheFuture) {
  constexpr year_month_day kFebruary{2025y, February, 10d};
  EXPECT_EQ(Parse("Q3", 0, kFebruary), (Parsed{1, "2024-07-01", "2024-10-01"}));
  EXPECT_EQ(Parse("in the third quarter", 0, kFebruary), (Parsed{4, "2024-07-01", "2024-10-01"}));
}

TEST(DatesTest, MonthsWithAYear) {
  EXPECT_EQ(Parse("March 2024"), (Parsed{2, "2024-03-01", "2024-04-01"}));
  EXPECT_EQ(Parse("in march of 2023"), (Parsed{4, "2023-03-01", "2023-04-01"}));
  EXPECT_EQ(Parse("in Dec 2024"), (Parsed{3, "2024-12-01", "2025-01-01"}));
  EXPECT_EQ(Parse("sept 2024"), (Parsed{2, "2024-09-01", "2024-10-01"}));
  EXPECT_EQ(Parse("February 2024"), (Parsed{2, "2024-02-01", "2024-03-01"}));
  EXPECT_EQ(Parse("May 2024"), (Parsed{2, "2024-05-01", "2024-06-01"}));
}

TEST(DatesTest, MonthsWithoutAYearAreTheMostRecentOne) {
  // Today is in December, so every month of this year has begun.
  EXPECT_EQ(Parse("in March"), (Parsed{2, "2025-03-01", "2025-04-01"}));
  EXPECT_EQ(Parse("in December"), (Parsed{2, "2025-12-01", "2026-01-01"}));
  // In February, March has not come yet: it means last year's.
  constexpr year_month_day kFebruary{2025y, February, 10d};
  EXPECT_EQ(Parse("in March", 0, kFebruary), (Parsed{2, "2024-03-01", "2024-04-01"}));
  EXPECT_EQ(Parse("in February", 0, kFebruary), (Parsed{2, "2025-02-01", "2025-03-01"}));
  EXPECT_EQ(Parse("in January", 0, kFebruary), (Parsed{2, "2025-01-01", "2025-02-01"}));
  // The conversation's year wins.
  EXPECT_EQ(Parse("in March", 2023), (Parsed{2, "2023-03-01", "2023-04-01"}));
  EXPECT_EQ(Parse("in March", 2023, kFebruary), (Parsed{2, "2023-03-01", "2023-04-01"}));
}

TEST(DatesTest, MayAloneIsAVerb) {
  EXPECT_EQ(Parse("may"), kNone);
  EXPECT_EQ(Parse("in may"), kNone);
  EXPECT_EQ(Parse("may", 2024), kNone);
  EXPECT_EQ(Parse("customers who may buy", 0, kToday, 2), kNone);
  EXPECT_EQ(Parse("in May 2024"), (Parsed{3, "2024-05-01", "2024-06-01"}));
}

TEST(DatesTest, OpenEndedBounds) {
  EXPECT_EQ(Parse("before 2024"), (Parsed{2, "", "2024-01-01"}));
  EXPECT_EQ(Parse("after 2023"), (Parsed{2, "2024-01-01", ""}));
  EXPECT_EQ(Parse("since June 2023"), (Parsed{3, "2023-06-01", ""}));
  EXPECT_EQ(Parse("until 2024"), (Parsed{2, "", "2025-01-01"}));
  EXPECT_EQ(Parse("till March 2024"), (Parsed{3, "", "2024-04-01"}));
  EXPECT_EQ(Parse("through Q1 2024"), (Parsed{3, "", "2024-04-01"}));
  EXPECT_EQ(Parse("up to 2020"), (Parsed{3, "", "2021-01-01"}));
  EXPECT_EQ(Parse("prior to 2020"), (Parsed{3, "", "2020-01-01"}));
  EXPECT_EQ(Parse("earlier than 2020"), (Parsed{3, "", "2020-01-01"}));
  EXPECT_EQ(Parse("later than 2020"), (Parsed{3, "2021-01-01", ""}));
  EXPECT_EQ(Parse("starting from 2021"), (Parsed{3, "2021-01-01", ""}));
  EXPECT_EQ(Parse("before 2024-03-05"), (Parsed{2, "", "2024-03-05"}));
  EXPECT_EQ(Parse("after 2024-03-05"), (Parsed{2, "2024-03-06", ""}));
  // Bounds on relative periods.
  EXPECT_EQ(Parse("before last year"), (Parsed{3, "", "2024-01-01"}));
  EXPECT_EQ(Parse("since last month"), (Parsed{3, "2025-11-01", ""}));
  // "The year (of)" between the bound and the year adds nothing.
  EXPECT_EQ(Parse("before the year of 2010"), (Parsed{5, "", "2010-01-01"}));
  EXPECT_EQ(Parse("after year 1998"), (Parsed{3, "1999-01-01", ""}));
  EXPECT_EQ(Parse("after the year 1989"), (Parsed{4, "1990-01-01", ""}));
  EXPECT_EQ(Parse("before the year"), kNone);
  // "In or after", "on or before": the period itself is included.
  EXPECT_EQ(Parse("in or after 2005"), (Parsed{4, "2005-01-01", ""}));
  EXPECT_EQ(Parse("in or before 2005"), (Parsed{4, "", "2006-01-01"}));
  EXPECT_EQ(Parse("on or after 2024-03-05"), (Parsed{4, "2024-03-05", ""}));
  // A bound word with no period after it is no date.
  EXPECT_EQ(Parse("before the customers"), kNone);
  EXPECT_EQ(Parse("after"), kNone);
}

TEST(DatesTest, Spans) {
  EXPECT_EQ(Parse("between 2022 and 2023"), (Parsed{4, "2022-01-01", "2024-01-01"}));
  EXPECT_EQ(Parse("from March 2024 to June 2024"), (Parsed{6, "2024-03-01", "2024-07-01"}));
  EXPECT_EQ(Parse("from 2021 through 2022"), (Parsed{4, "2021-01-01", "2023-01-01"}));
  EXPECT_EQ(Parse("between 2024-01-10 and 2024-01-20"), (Parsed{4, "2024-01-10", "2024-01-21"}));
  // "from 2022" alone is that period.
  EXPECT_EQ(Parse("from 2022"), (Parsed{2, "2022-01-01", "2023-01-01"}));
  // An unfinished "between" is not read.
  EXPECT_EQ(Parse("between 2022 and"), kNone);
  EXPECT_EQ(Parse("between 2022 or 2023"), kNone);
  EXPECT_EQ(Parse("between 10 and 20"), kNone);
  EXPECT_EQ(Parse("from the store"), kNone);
}

TEST(DatesTest, RelativeYearsMonthsAndQuarters) {
  EXPECT_EQ(Parse("last year"), (Parsed{2, "2024-01-01", "2025-01-01"}));
  EXPECT_EQ(Parse("previous year"), (Parsed{2, "2024-01-01", "2025-01-01"}));
  EXPECT_EQ(Parse("in the prior year"), (Parsed{4, "2024-01-01", "2025-01-01"}));
  EXPECT_EQ(Parse("this year"), (Parsed{2, "2025-01-01", "2026-01-01"}));
  EXPECT_EQ(Parse("current year"), (Parsed{2, "2025-01-01", "2026-01-01"}));
  EXPECT_EQ(Parse("last month"), (Parsed{2, "2025-11-01", "2025-12-01"}));
  EXPECT_EQ(Parse("this month"), (Parsed{2, "2025-12-01", "2026-01-01"}));
  EXPECT_EQ(Parse("last quarter"), (Parsed{2, "2025-07-01", "2025-10-01"}));
  EXPECT_EQ(Parse("this quarter"), (Parsed{2, "2025-10-01", "2026-01-01"}));
  EXPECT_EQ(Parse("for last year"), (Parsed{3, "2024-01-01", "2025-01-01"}));
}

// Found by fuzzing the engine (UBSan: 3e9 cast to int): a period reaching back more than about
// 10,000 years is not read as one (std::chrono::year's range ends at 32767).
TEST(DatesTest, RelativePeriodsOfTooManyUnitsAreNotRead) {
  // Not read as the four words "the last N weeks" (a period of N weeks).
  EXPECT_NE(Parse("the last 3000000000 weeks").used, 4u);
  EXPECT_NE(Parse("the last 99999999999999999999 days").used, 4u);
  EXPECT_NE(Parse("the last 4000000 days").used, 4u);
  EXPECT_NE(Parse("the last 10001 years").used, 4u);
  // Long periods short of that still are: 20,000 days is about 55 years.
  EXPECT_EQ(Parse("the last 20000 days"), (Parsed{4, "1971-03-15", "2025-12-16"}));
  EXPECT_EQ(Parse("the last 10000 years").used, 4u);
  EXPECT_EQ(Parse("the last 120000 months").used, 4u);
}

TEST(DatesTest, RelativePeriodsCrossYearBoundaries) {
  constexpr year_month_day kJanuary{2025y, std::chrono::January, 20d};
  EXPECT_EQ(Parse("last month", 0, kJanuary), (Parsed{2, "2024-12-01", "2025-01-01"}));
  EXPECT_EQ(Parse("last quarter", 0, kJanuary), (Parsed{2, "2024-10-01", "2025-01-01"}));
  EXPECT_EQ(Parse("this quarter", 0, kJanuary), (Parsed{2, "2025-01-01", "2025-04-01"}));
  // December's "this month" ends in next year.
  EXPECT_EQ(Parse("this month"), (Parsed{2, "2025-12-01", "2026-01-01"}));
}

TEST(DatesTest, WeeksStartOnMonday) {
  // kToday is a Monday.
  EXPECT_EQ(Parse("this week"), (Parsed{2, "2025-12-15", "2025-12-22"}));
  EXPECT_EQ(Parse("last week"), (Parsed{2, "2025-12-08", "2025-12-15"}));
  constexpr year_month_day kWednesday{2025y, December, 17d};
  constexpr year_month_day kSunday{2025y, December, 21d};
  EXPECT_EQ(Parse("this week", 0, kWednesday), (Parsed{2, "2025-12-15", "2025-12-22"}));
  EXPECT_EQ(Parse("this week", 0, kSunday), (Parsed{2, "2025-12-15", "2025-12-22"}));
  EXPECT_EQ(Parse("last week", 0, kSunday), (Parsed{2, "2025-12-08", "2025-12-15"}));
}

TEST(DatesTest, Days) {
  EXPECT_EQ(Parse("today"), (Parsed{1, "2025-12-15", "2025-12-16"}));
  EXPECT_EQ(Parse("yesterday"), (Parsed{1, "2025-12-14", "2025-12-15"}));
  constexpr year_month_day kNewYear{2025y, std::chrono::January, 1d};
  EXPECT_EQ(Parse("yesterday", 0, kNewYear), (Parsed{1, "2024-12-31", "2025-01-01"}));
  EXPECT_EQ(Parse("on 2024-02-29"), (Parsed{2, "2024-02-29", "2024-03-01"}));
  EXPECT_EQ(Parse("2024-12-31"), (Parsed{1, "2024-12-31", "2025-01-01"}));
}

TEST(DatesTest, ImpossibleCalendarDatesAreNoDate) {
  EXPECT_EQ(Parse("on 2023-02-30"), kNone);
  EXPECT_EQ(Parse("on 2023-02-29"), kNone);  // not a leap year
  EXPECT_EQ(Parse("2024-13-01"), kNone);
  EXPECT_EQ(Parse("before 2024-00-10"), kNone);
  EXPECT_EQ(Parse("between 2024-01-01 and 2024-02-31"), kNone);
}

TEST(DatesTest, TrailingWindowsEndTomorrow) {
  EXPECT_EQ(Parse("in the last 30 days"), (Parsed{5, "2025-11-16", "2025-12-16"}));
  EXPECT_EQ(Parse("the last 7 days"), (Parsed{4, "2025-12-09", "2025-12-16"}));
  EXPECT_EQ(Parse("past 6 months"), (Parsed{3, "2025-06-16", "2025-12-16"}));
  EXPECT_EQ(Parse("last 2 weeks"), (Parsed{3, "2025-12-02", "2025-12-16"}));
  EXPECT_EQ(Parse("last three years"), (Parsed{3, "2022-12-16", "2025-12-16"}));
  EXPECT_EQ(Parse("last 1 day"), (Parsed{3, "2025-12-15", "2025-12-16"}));
  // A month back from the 31st lands on the last day of a shorter month.
  constexpr year_month_day kMarch30{2025y, std::chrono::March, 30d};
  EXPECT_EQ(Parse("past 1 month", 0, kMarch30), (Parsed{3, "2025-02-28", "2025-03-31"}));
  // "last 5 orders" is a count of rows, not a period.
  EXPECT_EQ(Parse("last 5 orders"), kNone);
  EXPECT_EQ(Parse("last 2.5 days"), kNone);
}

TEST(DatesTest, YearToDate) {
  EXPECT_EQ(Parse("ytd"), (Parsed{1, "2025-01-01", "2025-12-16"}));
  EXPECT_EQ(Parse("year to date"), (Parsed{3, "2025-01-01", "2025-12-16"}));
  EXPECT_EQ(Parse("YTD"), (Parsed{1, "2025-01-01", "2025-12-16"}));
}

TEST(DatesTest, OrdinaryWordsAreNoDate) {
  for (const char* q : {"customers", "the customers", "last", "this", "this customer", "last name",
                        "quarter", "in", "on the table", "5", "'2024'"}) {
    EXPECT_EQ(Parse(q), kNone) << q;
  }
}

}  // namespace
}  // namespace helios::nl2sql::engine
