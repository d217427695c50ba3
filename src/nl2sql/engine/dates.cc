#include "nl2sql/engine/dates.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>

#include "common/text.h"

namespace helios::nl2sql::engine {
namespace {

using std::chrono::day;
using std::chrono::days;
using std::chrono::month;
using std::chrono::months;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;
using std::chrono::years;

struct Period {
  year_month_day begin;
  year_month_day end;  // exclusive
};

int MonthNumber(const std::string& w) {
  static const std::array<std::string_view, 12> kFull = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  static const std::array<std::string_view, 12> kShort = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int m = 0; m < 12; ++m)
    if (w == kFull[static_cast<size_t>(m)] || w == kShort[static_cast<size_t>(m)]) return m + 1;
  if (w == "sept") return 9;
  return 0;
}

int QuarterNumber(const std::string& w) {
  if (w.size() == 2 && w[0] == 'q' && w[1] >= '1' && w[1] <= '4') return w[1] - '0';
  return 0;
}

int OrdinalNumber(const std::string& w) {
  if (w == "first" || w == "1st") return 1;
  if (w == "second" || w == "2nd") return 2;
  if (w == "third" || w == "3rd") return 3;
  if (w == "fourth" || w == "4th") return 4;
  return 0;
}

bool IsYear(const Token& t) {
  return t.kind == Token::Kind::kNumber && t.integer && t.number >= 1900 && t.number <= 2100 &&
         t.raw.size() == 4;
}

Period YearPeriod(int y) { return {year{y} / 1 / 1, year{y + 1} / 1 / 1}; }
Period MonthPeriod(int y, int m) {
  year_month_day b = year{y} / month{static_cast<unsigned>(m)} / 1;
  auto next = std::chrono::year_month{b.year(), b.month()} + months{1};
  return {b, next / day{1}};
}
// The year of the most recent quarter q that has begun by today.
int RecentQuarterYear(year_month_day today, int q) {
  int y = static_cast<int>(today.year());
  unsigned first_month = static_cast<unsigned>(3 * (q - 1) + 1);
  return static_cast<unsigned>(today.month()) < first_month ? y - 1 : y;
}

Period QuarterPeriod(int y, int q) {
  year_month_day b = year{y} / month{static_cast<unsigned>(3 * (q - 1) + 1)} / 1;
  auto next = std::chrono::year_month{b.year(), b.month()} + months{3};
  return {b, next / day{1}};
}

// A point in time that a boundary word refers to: a year, a month of a year, a quarter, a date.
// Returns tokens used; fills the period it names.
size_t ParsePeriodAt(const std::vector<Token>& t, size_t i, year_month_day today, int default_year,
                     Period* p) {
  auto word = [&](size_t k) -> std::string {
    return k < t.size() && t[k].kind == Token::Kind::kWord ? t[k].text : std::string();
  };
  if (i >= t.size()) return 0;
  if (t[i].kind == Token::Kind::kDate) {
    int y = std::atoi(t[i].text.substr(0, 4).c_str());
    unsigned m = static_cast<unsigned>(std::atoi(t[i].text.substr(5, 2).c_str()));
    unsigned d = static_cast<unsigned>(std::atoi(t[i].text.substr(8, 2).c_str()));
    year_month_day b = year{y} / month{m} / day{d};
    if (!b.ok()) return 0;
    p->begin = b;
    p->end = sys_days{b} + days{1};
    return 1;
  }
  if (IsYear(t[i])) {
    *p = YearPeriod(static_cast<int>(t[i].number));
    return 1;
  }
  // A day written out: "September 7, 1987", "November 5th 2007", "7th of September, 1987".
  {
    auto day_at = [&](size_t k) -> unsigned {
      if (k >= t.size() || t[k].kind != Token::Kind::kNumber || !t[k].integer) return 0;
      return t[k].number >= 1 && t[k].number <= 31 ? static_cast<unsigned>(t[k].number) : 0;
    };
    auto skip_comma = [&](size_t k) {
      return k < t.size() && t[k].kind == Token::Kind::kSymbol && t[k].text == "," ? k + 1 : k;
    };
    int m = 0;
    unsigned d = 0;
    size_t k = i;
    if ((m = MonthNumber(word(k))) > 0 && (d = day_at(k + 1)) > 0) {
      k = skip_comma(k + 2);
    } else if ((d = day_at(k)) > 0) {
      k = k + 1;
      if (word(k) == "of") ++k;
      m = MonthNumber(word(k));
      k = skip_comma(k + 1);
    }
    if (m > 0 && d > 0 && k < t.size() && IsYear(t[k])) {
      year_month_day b =
          year{static_cast<int>(t[k].number)} / month{static_cast<unsigned>(m)} / day{d};
      if (b.ok()) {
        p->begin = b;
        p->end = sys_days{b} + days{1};
        return k - i + 1;
      }
    }
  }
  // "march 2024", "march of 2024", "march"
  if (int m = MonthNumber(word(i)); m > 0) {
    // "may" is also a verb: require a year after it.
    size_t k = i + 1;
    if (word(k) == "of") ++k;
    if (k < t.size() && IsYear(t[k])) {
      *p = MonthPeriod(static_cast<int>(t[k].number), m);
      return k - i + 1;
    }
    if (m == 5) return 0;
    int y = static_cast<int>(today.year());
    if (static_cast<unsigned>(today.month()) < static_cast<unsigned>(m)) --y;
    if (default_year) y = default_year;
    *p = MonthPeriod(y, m);
    return 1;
  }
  // "q3 2024", "q3" (without a year: the most recent Q3 that has begun, or the
  // conversation's year)
  if (int q = QuarterNumber(word(i)); q > 0) {
    size_t k = i + 1;
    if (word(k) == "of") ++k;
    if (k < t.size() && IsYear(t[k])) {
      *p = QuarterPeriod(static_cast<int>(t[k].number), q);
      return k - i + 1;
    }
    *p = QuarterPeriod(default_year ? default_year : RecentQuarterYear(today, q), q);
    return 1;
  }
  // "the third quarter of 2024", "quarter 3 2024"
  {
    size_t k = i;
    if (word(k) == "the") ++k;
    // "third" is a word; "3rd" arrives as a number token spelled with its suffix.
    int q = k < t.size() ? OrdinalNumber(text::ToLower(t[k].raw)) : 0;
    if (q > 0 && word(k + 1) == "quarter") {
      k += 2;
      if (word(k) == "of") ++k;
      if (k < t.size() && IsYear(t[k])) {
        *p = QuarterPeriod(static_cast<int>(t[k].number), q);
        return k - i + 1;
      }
      *p = QuarterPeriod(default_year ? default_year : RecentQuarterYear(today, q), q);
      return k - i;
    }
    if (word(i) == "quarter" && i + 1 < t.size() && t[i + 1].kind == Token::Kind::kNumber &&
        t[i + 1].number >= 1 && t[i + 1].number <= 4) {
      int qq = static_cast<int>(t[i + 1].number);
      k = i + 2;
      if (word(k) == "of") ++k;
      if (k < t.size() && IsYear(t[k])) {
        *p = QuarterPeriod(static_cast<int>(t[k].number), qq);
        return k - i + 1;
      }
    }
  }
  return 0;
}

// "last year", "this month", "today", "in the last 30 days", "year to date".
size_t ParseRelative(const std::vector<Token>& t, size_t i, year_month_day today, Period* p) {
  auto word = [&](size_t k) -> std::string {
    return k < t.size() && t[k].kind == Token::Kind::kWord ? t[k].text : std::string();
  };
  std::string w = word(i);
  year_month_day tomorrow = sys_days{today} + days{1};
  if (w == "today") {
    *p = {today, tomorrow};
    return 1;
  }
  if (w == "yesterday") {
    *p = {sys_days{today} - days{1}, today};
    return 1;
  }
  if ((w == "ytd") || (w == "year" && word(i + 1) == "to" && word(i + 2) == "date")) {
    *p = {today.year() / 1 / 1, tomorrow};
    return w == "ytd" ? 1 : 3;
  }
  bool last = w == "last" || w == "previous" || w == "past" || w == "prior";
  bool current = w == "this" || w == "current";
  if (!last && !current) return 0;
  // "last 30 days", "past 6 months", "last three years"
  if (last && i + 1 < t.size() && t[i + 1].kind == Token::Kind::kNumber && t[i + 1].integer &&
      t[i + 1].number >= 0) {
    std::string unit = word(i + 2);
    if (unit.ends_with("s")) unit.pop_back();
    // At most about 10,000 years back, whatever the unit: further leaves std::chrono::year's
    // range, and a larger count would not fit in an int (casting it is undefined).
    const double max_units = unit == "day"     ? 3'652'425
                             : unit == "week"  ? 521'775
                             : unit == "month" ? 120'000
                                               : 10'000;
    if (t[i + 1].number > max_units) return 0;
    int n = static_cast<int>(t[i + 1].number);
    sys_days end = sys_days{tomorrow};
    if (unit == "day")
      *p = {end - days{n}, tomorrow};
    else if (unit == "week")
      *p = {end - days{7 * n}, tomorrow};
    else if (unit == "month")
      *p = {year_month_day{sys_days{tomorrow}} - months{n}, tomorrow};
    else if (unit == "year")
      *p = {year_month_day{sys_days{tomorrow}} - years{n}, tomorrow};
    else
      return 0;
    if (!p->begin.ok()) p->begin = sys_days{p->begin.year() / p->begin.month() / std::chrono::last};
    return 3;
  }
  std::string unit = word(i + 1);
  int y = static_cast<int>(today.year());
  if (unit == "year") {
    *p = YearPeriod(last ? y - 1 : y);
    return 2;
  }
  if (unit == "month") {
    auto ym = std::chrono::year_month{today.year(), today.month()};
    if (last) ym -= months{1};
    *p = {ym / day{1}, (ym + months{1}) / day{1}};
    return 2;
  }
  if (unit == "quarter") {
    int q = static_cast<int>((static_cast<unsigned>(today.month()) - 1) / 3) + 1;
    if (last) {
      --q;
      if (q == 0) {
        q = 4;
        --y;
      }
    }
    *p = QuarterPeriod(y, q);
    return 2;
  }
  if (unit == "week") {
    // Weeks start on Monday.
    std::chrono::weekday wd{sys_days{today}};
    int since_monday = static_cast<int>((wd.c_encoding() + 6) % 7);
    sys_days monday = sys_days{today} - days{since_monday};
    if (last) monday -= days{7};
    *p = {monday, monday + days{7}};
    return 2;
  }
  return 0;
}

}  // namespace

std::string IsoDate(year_month_day d) {
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

size_t ParseDateExpression(const std::vector<Token>& t, size_t i, year_month_day today,
                           int default_year, DateRange* out) {
  auto word = [&](size_t k) -> std::string {
    return k < t.size() && t[k].kind == Token::Kind::kWord ? t[k].text : std::string();
  };
  size_t k = i;
  std::string w = word(k);
  Period p;
  // Boundaries: before/after/since/until X.
  enum class Bound { kNone, kBefore, kAfter, kSince, kUntil } bound = Bound::kNone;
  // "in or after 2005", "on or before 2024-03-01": the period itself included.
  if ((w == "in" || w == "on") && word(k + 1) == "or" &&
      (word(k + 2) == "after" || word(k + 2) == "before")) {
    bound = word(k + 2) == "after" ? Bound::kSince : Bound::kUntil;
    k += 3;
  } else if (w == "before" || (w == "prior" && word(k + 1) == "to") ||
             (w == "earlier" && word(k + 1) == "than")) {
    bound = Bound::kBefore;
    k += (w == "before") ? 1 : 2;
  } else if (w == "after" || (w == "later" && word(k + 1) == "than")) {
    bound = Bound::kAfter;
    k += (w == "after") ? 1 : 2;
  } else if (w == "since" || (w == "starting" && (word(k + 1) == "from" || word(k + 1) == "in"))) {
    bound = Bound::kSince;
    k += (w == "since") ? 1 : 2;
  } else if (w == "until" || w == "till" || w == "through" || (w == "up" && word(k + 1) == "to")) {
    bound = Bound::kUntil;
    k += (w == "up") ? 2 : 1;
  }
  if (bound != Bound::kNone) {
    // "before the year of 2010", "after year 1998": the word for the period adds nothing.
    size_t at = k;
    if (word(at) == "the") ++at;
    if (word(at) == "year") {
      ++at;
      if (word(at) == "of") ++at;
      if (at < t.size() && t[at].kind == Token::Kind::kNumber &&
          ParsePeriodAt(t, at, today, default_year, &p))
        k = at;
    }
    size_t used = ParsePeriodAt(t, k, today, default_year, &p);
    if (!used) used = ParseRelative(t, k, today, &p);
    if (!used) return 0;
    switch (bound) {
      case Bound::kBefore:
        *out = {"", IsoDate(p.begin)};
        break;
      case Bound::kAfter:
        *out = {IsoDate(p.end), ""};
        break;
      case Bound::kSince:
        *out = {IsoDate(p.begin), ""};
        break;
      case Bound::kUntil:
        *out = {"", IsoDate(p.end)};
        break;
      case Bound::kNone:
        break;
    }
    return k + used - i;
  }
  // "between 2022 and 2023", "from 2022 to 2023", "from March 2024 to June 2024".
  if (w == "between" || w == "from") {
    Period a, b;
    size_t ua = ParsePeriodAt(t, k + 1, today, default_year, &a);
    if (ua) {
      size_t m = k + 1 + ua;
      std::string sep = word(m);
      if (sep == "and" || sep == "to" || sep == "until" || sep == "through") {
        size_t ub = ParsePeriodAt(t, m + 1, today, default_year, &b);
        if (ub) {
          *out = {IsoDate(a.begin), IsoDate(b.end)};
          return m + 1 + ub - i;
        }
      }
      if (w == "from") {
        *out = {IsoDate(a.begin), IsoDate(a.end)};
        return k + 1 + ua - i;
      }
    }
    return 0;
  }
  // "in 2024", "during Q3 2024", "for last year", "in the last 30 days", "of 2023", "on
  // 2024-03-01".
  if (w == "in" || w == "during" || w == "for" || w == "of" || w == "on" || w == "within") {
    ++k;
    if (word(k) == "the") ++k;
  } else if (w == "the" && (word(k + 1) == "last" || word(k + 1) == "past")) {
    ++k;
  }
  size_t used = ParsePeriodAt(t, k, today, default_year, &p);
  if (!used) used = ParseRelative(t, k, today, &p);
  if (!used) return 0;
  *out = {IsoDate(p.begin), IsoDate(p.end)};
  return k + used - i;
}

}  // namespace helios::nl2sql::engine
