// The chart chosen for an answer (nl2sql/chart.h): the rules on hand-built results and query
// IR, the Vega-Lite spec each writes, and the charts of a few real questions over the demo
// database.
#include "nl2sql/chart.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "conversation/session_store.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/pipeline.h"

namespace helios::nl2sql {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using db::Row;
using db::Value;

sql::ColumnRef Col(std::string table, std::string column) {
  return sql::ColumnRef{std::move(table), std::move(column)};
}

Value Text(std::string s) { return Value{std::move(s)}; }
Value Int(int64_t i) { return Value{i}; }

// True when any key of the JSON, at any depth, is "url".
bool HasUrlKey(const Json& j) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "url" || HasUrlKey(value)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& value : j) {
      if (HasUrlKey(value)) return true;
    }
  }
  return false;
}

// The chart's spec, parsed, after the checks every spec must pass: the v6 schema, data inline
// and nothing loaded from anywhere, a tooltip, the container's width.
Json SpecOf(const ChartSuggestion& chart) {
  Json spec = Json::parse(chart.spec, nullptr, false);
  EXPECT_TRUE(spec.is_object()) << chart.spec;
  if (!spec.is_object()) return Json::object();
  EXPECT_EQ(spec.value("$schema", ""), "https://vega.github.io/schema/vega-lite/v6.json");
  EXPECT_FALSE(HasUrlKey(spec)) << chart.spec;
  EXPECT_TRUE(spec["data"]["values"].is_array());
  EXPECT_EQ(spec["data"].size(), 1u) << "only inline values";
  EXPECT_EQ(spec["mark"]["tooltip"], true);
  EXPECT_EQ(spec["width"], "container");
  EXPECT_TRUE(spec["height"].is_number_integer());
  EXPECT_EQ(spec["autosize"], (Json{{"type", "fit"}, {"contains", "padding"}}));
  // Nothing that Vega would evaluate or fetch.
  EXPECT_THAT(chart.spec, ::testing::Not(HasSubstr("\"expr\"")));
  EXPECT_THAT(chart.spec, ::testing::Not(HasSubstr("\"signal\"")));
  EXPECT_THAT(chart.spec, ::testing::Not(HasSubstr("\"transform\"")));
  return spec;
}

// The values of one key across the spec's data rows.
std::vector<Json> Column(const Json& spec, const std::string& key) {
  std::vector<Json> out;
  for (const Json& row : spec["data"]["values"])
    out.push_back(row.contains(key) ? row[key] : Json());
  return out;
}

// A grouped query: SELECT <dimension>, <agg>(orders.amount) ... GROUP BY <dimension>.
sql::Query Grouped(sql::Expr dimension, sql::Expr measure) {
  sql::Query q;
  q.from = "orders";
  q.select = {{dimension, ""}, {measure, ""}};
  q.group_by = {dimension};
  return q;
}

sql::Expr Country() { return sql::Expr::Col(Col("customers", "country")); }
sql::Expr SumAmount() { return sql::Expr::Agg(sql::Aggregate::kSum, Col("orders", "amount")); }
sql::Expr AvgAmount() { return sql::Expr::Agg(sql::Aggregate::kAvg, Col("orders", "amount")); }
sql::Expr MonthOf() {
  return sql::Expr{sql::Aggregate::kNone, Col("orders", "order_date"), sql::TimeGrain::kMonth};
}

// 57 countries "C01".."C57" in name order with revenue 1000 + (i * 37) % 101 + 0.25 * i: no
// two alike, not in the revenue's order.
std::vector<Row> FiftySevenCountries() {
  std::vector<Row> rows;
  for (int i = 1; i <= 57; ++i) {
    rows.push_back({Text(fmt::format("C{:02}", i)), Value{1000.0 + (i * 37) % 101 + 0.25 * i}});
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Numbers and tables

TEST(ChartTest, ASingleAggregateIsANumberWithoutSpec) {
  sql::Query q;
  q.from = "orders";
  q.select = {{sql::Expr::CountStar(), ""}};
  ChartSuggestion c = ChooseChart(&q, {"count"}, {{Int(40000)}});
  EXPECT_EQ(c.type, "number");
  EXPECT_EQ(c.x, "");
  EXPECT_EQ(c.y, (std::vector<std::string>{"count"}));
  EXPECT_EQ(c.spec, "");
  EXPECT_EQ(c.note, "");
  // A model's SQL: one numeric cell is a number too; one text cell is not.
  EXPECT_EQ(ChooseChart(nullptr, {"total"}, {{Value{db::Decimal{"12.50"}}}}).type, "number");
  EXPECT_EQ(ChooseChart(nullptr, {"name"}, {{Text("Ada")}}).type, "table");
}

TEST(ChartTest, SeveralAggregatesWithoutGroupsAreATable) {
  sql::Query q;
  q.from = "orders";
  q.select = {{sql::Expr::CountStar(), ""}, {SumAmount(), ""}};
  ChartSuggestion c = ChooseChart(&q, {"count", "sum_amount"}, {{Int(3), Value{10.5}}});
  EXPECT_EQ(c.type, "table");
  EXPECT_EQ(c.spec, "");
}

TEST(ChartTest, ListingsEmptyResultsAndOddShapesAreTables) {
  sql::Query q;
  q.from = "customers";
  q.select = {{sql::Expr::Col(Col("customers", "name")), ""}};
  EXPECT_EQ(ChooseChart(&q, {"name"}, {{Text("a")}, {Text("b")}}).type, "table");
  sql::Query count;
  count.from = "orders";
  count.select = {{sql::Expr::CountStar(), ""}};
  EXPECT_EQ(ChooseChart(&count, {"count"}, {}).type, "table");
  EXPECT_EQ(ChooseChart(&count, {}, {{Int(1)}}).type, "table");
  // Two categories and a measure; a measure column that is all NULL; text only.
  EXPECT_EQ(ChooseChart(nullptr, {"country", "segment", "n"},
                        {{Text("DE"), Text("a"), Int(1)}, {Text("FR"), Text("b"), Int(2)}})
                .type,
            "table");
  EXPECT_EQ(
      ChooseChart(nullptr, {"country", "n"}, {{Text("DE"), Value{}}, {Text("FR"), Value{}}}).type,
      "table");
  EXPECT_EQ(ChooseChart(nullptr, {"a", "b"}, {{Text("x"), Text("y")}}).type, "table");
  // MIN of a date is no number to plot.
  sql::Query first = Grouped(Country(), sql::Expr::Agg(sql::Aggregate::kMin, Col("o", "day")));
  EXPECT_EQ(ChooseChart(&first, {"country", "min_day"}, {{Text("DE"), Text("2024-01-02")}}).type,
            "table");
  // A listing of dated rows is no time series.
  sql::Query listing;
  listing.from = "orders";
  listing.select = {{sql::Expr::Col(Col("orders", "order_date")), ""},
                    {sql::Expr::Col(Col("orders", "amount")), ""}};
  EXPECT_EQ(ChooseChart(&listing, {"order_date", "amount"},
                        {{Text("2024-01-02"), Int(5)}, {Text("2024-01-02"), Int(7)}})
                .type,
            "table");
}

// ---------------------------------------------------------------------------------------------
// Lines

TEST(ChartTest, MonthsAreATemporalLine) {
  sql::Query q = Grouped(MonthOf(), sql::Expr::CountStar());
  q.order_by = {{MonthOf(), false}};
  ChartSuggestion c = ChooseChart(
      &q, {"month", "count"},
      {{Text("2024-01"), Int(10)}, {Text("2024-02"), Int(12)}, {Text("2024-03"), Int(9)}});
  EXPECT_EQ(c.type, "line");
  EXPECT_EQ(c.x, "month");
  EXPECT_EQ(c.y, (std::vector<std::string>{"count"}));
  EXPECT_EQ(c.note, "");
  Json spec = SpecOf(c);
  EXPECT_EQ(spec["mark"]["type"], "line");
  EXPECT_EQ(spec["encoding"]["x"], (Json{{"field", "month"},
                                         {"type", "temporal"},
                                         {"title", "month"},
                                         {"timeUnit", "utcyearmonth"}}));
  EXPECT_EQ(spec["encoding"]["y"],
            (Json{{"field", "count"}, {"type", "quantitative"}, {"title", "count"}}));
  EXPECT_EQ(Column(spec, "month"), (std::vector<Json>{"2024-01", "2024-02", "2024-03"}));
  EXPECT_EQ(Column(spec, "count"), (std::vector<Json>{10, 12, 9}));
  // Only the charted columns travel in the data.
  EXPECT_EQ(spec["data"]["values"][0].size(), 2u);
}

TEST(ChartTest, DatesAndDateTimesAreTemporalInUtc) {
  // A model's SQL: days.
  ChartSuggestion days = ChooseChart(nullptr, {"day", "orders"},
                                     {{Text("2024-03-01"), Int(4)}, {Text("2024-03-02"), Int(6)}});
  ASSERT_EQ(days.type, "line");
  Json d = SpecOf(days);
  EXPECT_EQ(d["encoding"]["x"]["type"], "temporal");
  EXPECT_EQ(d["encoding"]["x"]["timeUnit"], "utcyearmonthdate");
  EXPECT_EQ(Column(d, "day"), (std::vector<Json>{"2024-03-01", "2024-03-02"}));

  // Date-times, with a space or a T, with and without a zone: written so every browser reads
  // the same instant, and shown on a UTC scale.
  ChartSuggestion times = ChooseChart(nullptr, {"hour", "orders"},
                                      {{Text("2024-03-01 10:00:00"), Int(1)},
                                       {Text("2024-03-01T11:00:00.5"), Int(2)},
                                       {Text("2024-03-01 12:00:00+0100"), Int(3)},
                                       {Text("2024-03-01T13:30:00Z"), Int(4)},
                                       {Text("2024-03-01 14:00:00-05"), Int(5)}});
  ASSERT_EQ(times.type, "line");
  Json t = SpecOf(times);
  EXPECT_EQ(t["encoding"]["x"]["type"], "temporal");
  EXPECT_FALSE(t["encoding"]["x"].contains("timeUnit"));
  EXPECT_EQ(t["encoding"]["x"]["scale"], (Json{{"type", "utc"}}));
  EXPECT_EQ(Column(t, "hour"),
            (std::vector<Json>{"2024-03-01T10:00:00Z", "2024-03-01T11:00:00.500Z",
                               "2024-03-01T12:00:00+01:00", "2024-03-01T13:30:00Z",
                               "2024-03-01T14:00:00-05:00"}));
}

TEST(ChartTest, WeeksQuartersAndYearsAreAnOrdinalLineInTheResultsOrder) {
  // Weeks from a model's SQL, deliberately not in text order: the result's order is kept.
  ChartSuggestion weeks = ChooseChart(
      nullptr, {"week", "revenue"},
      {{Text("2024-W52"), Value{3.5}}, {Text("2025-W01"), Value{4.0}}, {Text("2024-W05"), Int(2)}});
  ASSERT_EQ(weeks.type, "line");
  EXPECT_EQ(weeks.x, "week");
  Json w = SpecOf(weeks);
  EXPECT_EQ(w["encoding"]["x"], (Json{{"field", "week"},
                                      {"type", "ordinal"},
                                      {"title", "week"},
                                      {"sort", nullptr},
                                      {"axis", {{"labelOverlap", true}}}}));
  EXPECT_EQ(Column(w, "week"), (std::vector<Json>{"2024-W52", "2025-W01", "2024-W05"}));

  // Quarters from the IR.
  sql::Expr quarter{sql::Aggregate::kNone, Col("orders", "order_date"), sql::TimeGrain::kQuarter};
  sql::Query q = Grouped(quarter, SumAmount());
  ChartSuggestion quarters = ChooseChart(&q, {"quarter", "sum_amount"},
                                         {{Text("2024-Q1"), Int(5)}, {Text("2024-Q2"), Int(7)}});
  ASSERT_EQ(quarters.type, "line");
  EXPECT_EQ(SpecOf(quarters)["encoding"]["x"]["type"], "ordinal");

  // Bare years as integers, in a column named for years: an ordinal axis of the years' text.
  ChartSuggestion years = ChooseChart(nullptr, {"order_year", "orders"},
                                      {{Int(2023), Int(100)}, {Int(2024), Int(120)}});
  ASSERT_EQ(years.type, "line");
  EXPECT_EQ(years.x, "order_year");
  Json y = SpecOf(years);
  EXPECT_EQ(y["encoding"]["x"]["type"], "ordinal");
  EXPECT_EQ(y["encoding"]["x"]["title"], "order year");
  EXPECT_EQ(Column(y, "order_year"), (std::vector<Json>{"2023", "2024"}));
  EXPECT_EQ(Column(y, "orders"), (std::vector<Json>{100, 120}));
}

TEST(ChartTest, PeriodsListedLatestFirstAreDrawnOldestFirst) {
  sql::Expr year{sql::Aggregate::kNone, Col("orders", "order_date"), sql::TimeGrain::kYear};
  sql::Query q = Grouped(year, sql::Expr::CountStar());
  q.order_by = {{year, true}};
  ChartSuggestion c =
      ChooseChart(&q, {"year", "count"},
                  {{Text("2025"), Int(3)}, {Text("2024"), Int(2)}, {Text("2023"), Int(1)}});
  ASSERT_EQ(c.type, "line");
  EXPECT_EQ(Column(SpecOf(c), "year"), (std::vector<Json>{"2023", "2024", "2025"}));
}

TEST(ChartTest, PeriodsOrderedByTheMeasureAreARankingOfBars) {
  sql::Query q = Grouped(MonthOf(), SumAmount());
  q.order_by = {{SumAmount(), true}};
  q.limit = 3;
  ChartSuggestion c = ChooseChart(
      &q, {"month", "revenue"},
      {{Text("2024-05"), Int(90)}, {Text("2024-01"), Int(80)}, {Text("2024-09"), Int(70)}});
  EXPECT_EQ(c.type, "bar");
  EXPECT_EQ(c.x, "month");
  EXPECT_EQ(Column(SpecOf(c), "month"), (std::vector<Json>{"2024-05", "2024-01", "2024-09"}));
}

TEST(ChartTest, NullTimesAndNullMeasuresAreLeftOutOfALineAndSaidSo) {
  ChartSuggestion c = ChooseChart(nullptr, {"month", "revenue"},
                                  {{Text("2024-01"), Int(1)},
                                   {Value{}, Int(5)},
                                   {Text("2024-02"), Value{}},
                                   {Text("2024-03"), Value{}},
                                   {Text("2024-04"), Int(2)}});
  ASSERT_EQ(c.type, "line");
  EXPECT_EQ(c.note,
            "1 row without a month is left out. 2 rows without a value for revenue are left out.");
  Json spec = SpecOf(c);
  EXPECT_EQ(Column(spec, "month"), (std::vector<Json>{"2024-01", "2024-04"}));
}

TEST(ChartTest, ACategoryBesideTimeDrawsOneLineEach) {
  sql::Expr segment = sql::Expr::Col(Col("customers", "segment"));
  sql::Query q;
  q.from = "orders";
  q.select = {{MonthOf(), ""}, {segment, ""}, {SumAmount(), ""}};
  q.group_by = {MonthOf(), segment};
  std::vector<Row> rows;
  for (const char* month : {"2024-01", "2024-02"}) {
    for (const char* s : {"Consumer", "Corporate"}) rows.push_back({Text(month), Text(s), Int(3)});
  }
  rows.push_back({Text("2024-02"), Value{}, Int(1)});
  ChartSuggestion c = ChooseChart(&q, {"month", "segment", "revenue"}, rows);
  ASSERT_EQ(c.type, "line");
  EXPECT_EQ(c.x, "month");
  EXPECT_EQ(c.y, (std::vector<std::string>{"revenue"}));
  Json spec = SpecOf(c);
  EXPECT_EQ(
      spec["encoding"]["color"],
      (Json{{"field", "segment"}, {"type", "nominal"}, {"title", "segment"}, {"sort", nullptr}}));
  EXPECT_EQ(Column(spec, "segment"),
            (std::vector<Json>{"Consumer", "Corporate", "Consumer", "Corporate", "(null)"}));

  // More series than a reader can follow: the largest totals are drawn.
  std::vector<Row> many;
  for (int s = 1; s <= 13; ++s) {
    for (const char* month : {"2024-01", "2024-02"}) {
      many.push_back({Text(month), Text(fmt::format("S{:02}", s)), Int(s)});
    }
  }
  ChartSuggestion capped = ChooseChart(&q, {"month", "segment", "revenue"}, many);
  ASSERT_EQ(capped.type, "line");
  EXPECT_EQ(capped.note,
            "The 10 segments with the highest total revenue are drawn; the other 3 are not.");
  Json cs = SpecOf(capped);
  EXPECT_EQ(cs["data"]["values"].size(), 20u);
  for (const Json& s : Column(cs, "segment")) {
    EXPECT_NE(s, "S01");
    EXPECT_NE(s, "S03");
  }
}

// ---------------------------------------------------------------------------------------------
// Bars

TEST(ChartTest, CategoriesAreBarsLargestFirst) {
  sql::Query q = Grouped(Country(), sql::Expr::CountStar());
  ChartSuggestion c =
      ChooseChart(&q, {"country", "count"},
                  {{Text("Austria"), Int(3)}, {Text("Belgium"), Int(9)}, {Text("Chile"), Int(5)}});
  EXPECT_EQ(c.type, "bar");
  EXPECT_EQ(c.x, "country");
  EXPECT_EQ(c.y, (std::vector<std::string>{"count"}));
  EXPECT_EQ(c.note, "");
  Json spec = SpecOf(c);
  EXPECT_EQ(spec["mark"]["type"], "bar");
  EXPECT_EQ(
      spec["encoding"]["y"],
      (Json{{"field", "country"}, {"type", "nominal"}, {"title", "country"}, {"sort", nullptr}}));
  EXPECT_EQ(
      spec["encoding"]["x"],
      (Json{{"field", "count"}, {"type", "quantitative"}, {"title", "count"}, {"stack", nullptr}}));
  EXPECT_EQ(Column(spec, "country"), (std::vector<Json>{"Belgium", "Chile", "Austria"}));
  EXPECT_EQ(Column(spec, "count"), (std::vector<Json>{9, 5, 3}));
  // There is no pie: a handful of categories are bars too.
  EXPECT_EQ(ChooseChart(&q, {"segment", "count"}, {{Text("a"), Int(1)}, {Text("b"), Int(2)}}).type,
            "bar");
}

TEST(ChartTest, TheQuerysOwnOrderIsKept) {
  sql::Query q = Grouped(Country(), sql::Expr::CountStar());
  q.order_by = {{Country(), false}};
  ChartSuggestion c =
      ChooseChart(&q, {"country", "count"},
                  {{Text("Austria"), Int(3)}, {Text("Belgium"), Int(9)}, {Text("Chile"), Int(5)}});
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(Column(SpecOf(c), "country"), (std::vector<Json>{"Austria", "Belgium", "Chile"}));
  // Ordered by the measure, smallest first, as the question asked.
  q.order_by = {{sql::Expr::CountStar(), false}};
  ChartSuggestion asc =
      ChooseChart(&q, {"country", "count"},
                  {{Text("Austria"), Int(3)}, {Text("Chile"), Int(5)}, {Text("Belgium"), Int(9)}});
  EXPECT_EQ(Column(SpecOf(asc), "count"), (std::vector<Json>{3, 5, 9}));
}

TEST(ChartTest, ManyCategoriesOfASumAreTheTopTwentyAndOther) {
  sql::Query q = Grouped(Country(), SumAmount());
  std::vector<Row> rows = FiftySevenCountries();
  ChartSuggestion c = ChooseChart(&q, {"country", "revenue"}, rows);
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.note, "Top 20 of 57 countries by revenue; the other 37 are added up as 'Other'.");
  Json spec = SpecOf(c);
  std::vector<Json> labels = Column(spec, "country");
  std::vector<Json> values = Column(spec, "revenue");
  ASSERT_EQ(labels.size(), 21u);
  EXPECT_EQ(labels.back(), "Other");

  // The 20 largest, largest first; "Other" is exactly the sum of the rest.
  std::vector<double> all;
  for (const Row& r : rows) all.push_back(std::get<double>(r[1]));
  std::sort(all.rbegin(), all.rend());
  double rest = 0;
  for (size_t i = 20; i < all.size(); ++i) rest += all[i];
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(values[i].get<double>(), all[i]) << i;
  EXPECT_EQ(values[20].get<double>(), rest);
  // Counts add up as integers.
  sql::Query count = Grouped(Country(), sql::Expr::CountStar());
  std::vector<Row> counted;
  int64_t rest_count = 0;
  for (int i = 1; i <= 25; ++i) {
    counted.push_back({Text(fmt::format("C{:02}", i)), Int(100 - i)});
    if (i > 20) rest_count += 100 - i;
  }
  Json cs = SpecOf(ChooseChart(&count, {"country", "count"}, counted));
  ASSERT_EQ(cs["data"]["values"].size(), 21u);
  EXPECT_TRUE(cs["data"]["values"][20]["count"].is_number_integer());
  EXPECT_EQ(cs["data"]["values"][20]["count"], rest_count);
}

TEST(ChartTest, ManyCategoriesOfAnAverageAreTheTopTwentyWithoutOther) {
  sql::Query q = Grouped(Country(), AvgAmount());
  ChartSuggestion c = ChooseChart(&q, {"country", "avg_amount"}, FiftySevenCountries());
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.note, "Top 20 of 57 countries by avg amount; the other 37 are not shown.");
  std::vector<Json> labels = Column(SpecOf(c), "country");
  EXPECT_EQ(labels.size(), 20u);
  EXPECT_EQ(std::count(labels.begin(), labels.end(), Json("Other")), 0);
  // A model's SQL says nothing of how the measure adds up: no "Other" either.
  ChartSuggestion model = ChooseChart(nullptr, {"country", "total"}, FiftySevenCountries());
  EXPECT_EQ(model.note, "Top 20 of 57 countries by total; the other 37 are not shown.");
  EXPECT_EQ(Column(SpecOf(model), "country").size(), 20u);
}

TEST(ChartTest, ManyCategoriesInTheQuerysOrderKeepTheLargestInThatOrder) {
  sql::Query q = Grouped(Country(), SumAmount());
  q.order_by = {{Country(), false}};
  std::vector<Row> rows;
  for (int i = 1; i <= 22; ++i)
    rows.push_back({Text(fmt::format("C{:02}", i)), Int(i == 5 ? 1 : i)});
  // The two smallest are C01 (1) and C05 (1).
  ChartSuggestion c = ChooseChart(&q, {"country", "revenue"}, rows);
  EXPECT_EQ(c.note, "Top 20 of 22 countries by revenue; the other 2 are added up as 'Other'.");
  std::vector<Json> labels = Column(SpecOf(c), "country");
  ASSERT_EQ(labels.size(), 21u);
  EXPECT_EQ(labels[0], "C02");
  EXPECT_EQ(labels[2], "C04");
  EXPECT_EQ(labels[3], "C06");
  EXPECT_EQ(labels[19], "C22");
  EXPECT_EQ(labels[20], "Other");
  EXPECT_EQ(Column(SpecOf(c), "revenue")[20], 2);

  // Smallest first, as asked: the bottom 20, and one left over.
  q.order_by = {{SumAmount(), false}};
  std::vector<Row> ascending;
  for (int i = 1; i <= 21; ++i) ascending.push_back({Text(fmt::format("C{:02}", i)), Int(i)});
  ChartSuggestion bottom = ChooseChart(&q, {"country", "revenue"}, ascending);
  EXPECT_EQ(bottom.note,
            "Bottom 20 of 21 countries by revenue; the other one is added up as 'Other'.");
  EXPECT_EQ(Column(SpecOf(bottom), "revenue")[0], 1);
  EXPECT_EQ(Column(SpecOf(bottom), "revenue")[20], 21);
}

TEST(ChartTest, AnOtherCategoryOfTheDataIsNotConfusedWithTheSumOfTheRest) {
  sql::Query q = Grouped(Country(), sql::Expr::CountStar());
  std::vector<Row> rows = {{Text("Other"), Int(1000)}};
  for (int i = 1; i <= 21; ++i) rows.push_back({Text(fmt::format("C{:02}", i)), Int(i)});
  ChartSuggestion c = ChooseChart(&q, {"country", "count"}, rows);
  EXPECT_EQ(c.note, "Top 20 of 22 countries by count; the other 2 are added up as '(Other)'.");
  std::vector<Json> labels = Column(SpecOf(c), "country");
  EXPECT_EQ(labels.front(), "Other");
  EXPECT_EQ(labels.back(), "(Other)");
}

TEST(ChartTest, NullCategoriesAreShownAndNullMeasuresLeftOut) {
  sql::Query q = Grouped(Country(), SumAmount());
  ChartSuggestion c = ChooseChart(
      &q, {"country", "revenue"},
      {{Text("DE"), Int(5)}, {Value{}, Int(7)}, {Text("FR"), Value{}}, {Text("IT"), Int(1)}});
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.note, "1 row without a value for revenue is left out.");
  Json spec = SpecOf(c);
  EXPECT_EQ(Column(spec, "country"), (std::vector<Json>{"(null)", "DE", "IT"}));
}

TEST(ChartTest, MeasuresAreNumbersWhateverTheirType) {
  ChartSuggestion c = ChooseChart(nullptr, {"country", "revenue"},
                                  {{Text("DE"), Value{db::Decimal{"1234.50"}}},
                                   {Text("FR"), Int(7)},
                                   {Text("IT"), Value{0.25}}});
  ASSERT_EQ(c.type, "bar");
  std::vector<Json> values = Column(SpecOf(c), "revenue");
  ASSERT_EQ(values.size(), 3u);
  for (const Json& v : values) EXPECT_TRUE(v.is_number()) << v;
  EXPECT_EQ(values[0].get<double>(), 1234.5);
  EXPECT_TRUE(values[1].is_number_integer());
  EXPECT_EQ(values[1], 7);
}

TEST(ChartTest, AKeyBesideANameLabelsTheBarsByNameAndTellsNamesAlikeApart) {
  sql::Query q;
  q.from = "orders";
  sql::Expr id = sql::Expr::Col(Col("customers", "customer_id"));
  sql::Expr name = sql::Expr::Col(Col("customers", "name"));
  q.select = {{id, ""}, {name, ""}, {SumAmount(), ""}};
  q.group_by = {id, name};
  ChartSuggestion c = ChooseChart(
      &q, {"customer_id", "name", "revenue"},
      {{Int(1), Text("Ada"), Int(5)}, {Int(2), Text("Bo"), Int(4)}, {Int(3), Text("Ada"), Int(3)}});
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.x, "name");
  Json spec = SpecOf(c);
  EXPECT_EQ(Column(spec, "name"), (std::vector<Json>{"Ada (1)", "Bo", "Ada (3)"}));
  EXPECT_FALSE(spec["data"]["values"][0].contains("customer_id"));
  // A key alone (a model's SQL) labels the bars itself.
  ChartSuggestion by_id =
      ChooseChart(nullptr, {"customer_id", "orders"}, {{Int(7), Int(2)}, {Int(9), Int(5)}});
  ASSERT_EQ(by_id.type, "bar");
  EXPECT_EQ(Column(SpecOf(by_id), "customer_id"), (std::vector<Json>{"9", "7"}));
}

TEST(ChartTest, SeveralMeasuresOverACategoryAreBarsOfTheFirst) {
  sql::Query q;
  q.from = "orders";
  q.select = {{Country(), ""}, {sql::Expr::CountStar(), ""}, {SumAmount(), ""}, {AvgAmount(), ""}};
  q.group_by = {Country()};
  ChartSuggestion c = ChooseChart(
      &q, {"country", "count", "sum_amount", "avg_amount"},
      {{Text("DE"), Int(2), Int(10), Value{5.0}}, {Text("FR"), Int(3), Int(9), Value{3.0}}});
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.y, (std::vector<std::string>{"count"}));
  EXPECT_EQ(c.note, "The chart shows count; the table also has sum amount, avg amount.");
  Json spec = SpecOf(c);
  EXPECT_EQ(Column(spec, "count"), (std::vector<Json>{3, 2}));
  EXPECT_EQ(spec["data"]["values"][0].size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Scatter

TEST(ChartTest, TwoMeasuresAreAScatter) {
  ChartSuggestion c = ChooseChart(nullptr, {"unit_price", "quantity"},
                                  {{Value{2.5}, Int(10)}, {Value{4.0}, Int(3)}, {Value{}, Int(1)}});
  ASSERT_EQ(c.type, "scatter");
  EXPECT_EQ(c.x, "unit_price");
  EXPECT_EQ(c.y, (std::vector<std::string>{"quantity"}));
  EXPECT_EQ(c.note, "1 row without a value for unit price or quantity is left out.");
  Json spec = SpecOf(c);
  EXPECT_EQ(spec["mark"]["type"], "point");
  EXPECT_EQ(spec["encoding"]["x"]["field"], "unit_price");
  EXPECT_EQ(spec["encoding"]["x"]["type"], "quantitative");
  EXPECT_EQ(spec["encoding"]["x"]["title"], "unit price");
  EXPECT_EQ(spec["encoding"]["y"]["field"], "quantity");
  EXPECT_EQ(spec["encoding"]["y"]["type"], "quantitative");
  EXPECT_EQ(spec["data"]["values"].size(), 2u);
}

TEST(ChartTest, TwoMeasuresOverMoreLabelsThanBarsAreAScatterNamingEachPoint) {
  std::vector<Row> rows;
  for (int i = 0; i < 30; ++i) {
    rows.push_back({Text(fmt::format("P{}", i)), Int(i), Value{i * 1.5}});
  }
  ChartSuggestion c = ChooseChart(nullptr, {"product", "orders", "revenue"}, rows);
  ASSERT_EQ(c.type, "scatter");
  EXPECT_EQ(c.x, "orders");
  EXPECT_EQ(c.y, (std::vector<std::string>{"revenue"}));
  EXPECT_EQ(c.note, "");
  Json spec = SpecOf(c);
  EXPECT_EQ(spec["data"]["values"].size(), 30u);
  ASSERT_TRUE(spec["encoding"]["tooltip"].is_array());
  EXPECT_EQ(spec["encoding"]["tooltip"][0]["field"], "product");
  // Few labels: bars of the first measure.
  rows.resize(5);
  EXPECT_EQ(ChooseChart(nullptr, {"product", "orders", "revenue"}, rows).type, "bar");
}

// ---------------------------------------------------------------------------------------------
// Names and notes

TEST(ChartTest, FieldNamesAreEscapedAndTitlesReadable) {
  EXPECT_EQ(VegaFieldName("plain name"), "plain name");
  EXPECT_EQ(VegaFieldName("SUM(o.total)"), "SUM(o\\.total)");
  EXPECT_EQ(VegaFieldName("a[0]"), "a\\[0\\]");
  EXPECT_EQ(VegaFieldName("back\\slash"), "back\\\\slash");
  EXPECT_EQ(VegaFieldName("\"quoted'"), "\\\"quoted\\'");
  EXPECT_EQ(AxisTitle("sum_total_amount"), "sum total amount");

  ChartSuggestion c = ChooseChart(nullptr, {"c.name", "SUM(o.total_amount)"},
                                  {{Text("DE"), Int(2)}, {Text("FR"), Int(3)}});
  ASSERT_EQ(c.type, "bar");
  EXPECT_EQ(c.x, "c.name");
  Json spec = SpecOf(c);
  EXPECT_EQ(spec["encoding"]["y"]["field"], "c\\.name");
  EXPECT_EQ(spec["encoding"]["x"]["field"], "SUM(o\\.total_amount)");
  EXPECT_EQ(spec["encoding"]["x"]["title"], "SUM(o.total amount)");
  // The data keeps the plain names.
  EXPECT_EQ(spec["data"]["values"][0]["c.name"], "FR");
  EXPECT_EQ(spec["data"]["values"][0]["SUM(o.total_amount)"], 3);

  // Quotes are escaped in the field and kept in the title; a backslash, which Vega-Lite cannot
  // address in a field, is "/" in the data's key, the field and the title alike.
  ChartSuggestion odd = ChooseChart(nullptr, {"it's \"x\"", "net\\gross"},
                                    {{Text("a"), Int(1)}, {Text("b"), Int(2)}});
  ASSERT_EQ(odd.type, "bar");
  EXPECT_EQ(odd.x, "it's \"x\"");
  EXPECT_EQ(odd.y, (std::vector<std::string>{"net\\gross"}));
  Json o = SpecOf(odd);
  EXPECT_EQ(o["encoding"]["y"]["field"], "it\\'s \\\"x\\\"");
  EXPECT_EQ(o["encoding"]["y"]["title"], "it's \"x\"");
  EXPECT_EQ(o["encoding"]["x"]["field"], "net/gross");
  EXPECT_EQ(o["encoding"]["x"]["title"], "net/gross");
  EXPECT_EQ(o["data"]["values"][0]["it's \"x\""], "b");
  EXPECT_EQ(o["data"]["values"][0]["net/gross"], 2);
  // Two names that become the same key cannot both be charted.
  EXPECT_EQ(ChooseChart(nullptr, {"a/b", "a\\b"}, {{Text("a"), Int(1)}}).type, "table");
  // A line break cannot end the title's string in Vega-Lite's tooltip expression, and is a
  // space in the data's key too.
  EXPECT_EQ(AxisTitle("two\nlines\u2028here"), "two lines here");
  Json lines =
      SpecOf(ChooseChart(nullptr, {"two\nlines", "n"}, {{Text("a"), Int(1)}, {Text("b"), Int(2)}}));
  EXPECT_EQ(lines["encoding"]["y"]["field"], "two lines");
  EXPECT_EQ(lines["data"]["values"][0]["two lines"], "b");
}

TEST(ChartTest, DataTextGoesOnlyIntoTheData) {
  const std::string hostile = "\"}],\"url\":\"https://example.invalid/x\",\"x\":[{\"";
  ChartSuggestion c = ChooseChart(nullptr, {"label", "n"},
                                  {{Text(hostile), Int(2)}, {Text("{{datum.x}}"), Int(1)}});
  ASSERT_EQ(c.type, "bar");
  Json spec = SpecOf(c);
  EXPECT_EQ(Column(spec, "label"), (std::vector<Json>{hostile, "{{datum.x}}"}));
}

TEST(ChartTest, ATruncatedResultIsSaidSo) {
  ChartSuggestion c =
      ChooseChart(nullptr, {"country", "n"}, {{Text("DE"), Int(2)}, {Text("FR"), Int(3)}}, true);
  EXPECT_EQ(c.note, "The result was cut at the row limit; the chart shows the rows returned.");
}

// ---------------------------------------------------------------------------------------------
// Real questions over the demo database

class ChartDemoTest : public DemoPipelineTest {
 protected:
  Answer Ask(const std::string& question) {
    AskRequest request;
    request.question = question;
    auto answer = pipeline_->Ask(request);
    EXPECT_TRUE(answer.has_value()) << question << ": " << answer.error().message;
    return answer ? *answer : Answer{};
  }
};

TEST_F(ChartDemoTest, RevenueByMonthIsATemporalLine) {
  Answer a = Ask("revenue by month");
  ASSERT_EQ(a.chart.type, "line") << a.sql;
  EXPECT_EQ(a.chart.x, a.columns[0]);
  Json spec = SpecOf(a.chart);
  EXPECT_EQ(spec["encoding"]["x"]["type"], "temporal");
  EXPECT_EQ(spec["data"]["values"].size(), a.rows.size());
  for (const Json& v : Column(spec, a.chart.y[0])) EXPECT_TRUE(v.is_number()) << v;
}

TEST_F(ChartDemoTest, CustomersByCountryAreEighteenBarsLargestFirst) {
  Answer a = Ask("number of customers by country");
  ASSERT_EQ(a.chart.type, "bar") << a.sql;
  EXPECT_EQ(a.chart.note, "");
  Json spec = SpecOf(a.chart);
  std::vector<Json> counts = Column(spec, a.chart.y[0]);
  ASSERT_EQ(counts.size(), 18u);
  EXPECT_TRUE(std::is_sorted(counts.rbegin(), counts.rend())) << spec["data"].dump();
  int64_t sum = 0;
  for (const Json& c : counts) sum += c.get<int64_t>();
  Answer total = Ask("how many customers are there");
  ASSERT_EQ(total.rows.size(), 1u);
  EXPECT_EQ(Value{sum}, total.rows[0][0]);
}

TEST_F(ChartDemoTest, HowManyOrdersIsANumber) {
  Answer a = Ask("how many orders");
  EXPECT_EQ(a.chart.type, "number") << a.sql;
  EXPECT_EQ(a.chart.spec, "");
}

}  // namespace
}  // namespace helios::nl2sql
