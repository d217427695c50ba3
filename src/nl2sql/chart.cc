#include "nl2sql/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "common/json_writer.h"
#include "common/text.h"

namespace helios::nl2sql {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSchema = "https://vega.github.io/schema/vega-lite/v6.json";
constexpr std::string_view kNullLabel = "(null)";
constexpr int kChartHeight = 300;
// Lines with more points than this are drawn without a dot at each point.
constexpr size_t kMaxMarkedPoints = 60;

// ---------------------------------------------------------------------------------------------
// Reading cells

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

int DigitsValue(std::string_view s, size_t pos, size_t n) {
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) value = value * 10 + (s[i] - '0');
  return value;
}

enum class IsoPrecision { kMonth, kDay, kDateTime };

struct IsoTime {
  IsoPrecision precision;
  // The same instant in the form every browser's date parser reads alike: "YYYY-MM",
  // "YYYY-MM-DD" (both read as UTC), or "YYYY-MM-DDThh:mm:ss[.sss]" with "Z" or "+hh:mm" (a
  // value without a zone is taken as UTC rather than the reader's local time).
  std::string normalized;
};

// "2024-03", "2024-03-01", "2024-03-01 10:00:00" or "2024-03-01T10:00:00", the latter with
// optional fractional seconds and zone ("Z", "+01:00", "+0100", "+01").
std::optional<IsoTime> ParseIsoTime(std::string_view s) {
  if (s.size() < 7 || !Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2)) return std::nullopt;
  const int month = DigitsValue(s, 5, 2);
  if (month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) return IsoTime{IsoPrecision::kMonth, std::string(s)};
  if (s.size() < 10 || s[7] != '-' || !Digits(s, 8, 2)) return std::nullopt;
  const int day = DigitsValue(s, 8, 2);
  if (day < 1 || day > 31) return std::nullopt;
  if (s.size() == 10) return IsoTime{IsoPrecision::kDay, std::string(s)};
  if (s.size() < 16 || (s[10] != ' ' && s[10] != 'T') || !Digits(s, 11, 2) || s[13] != ':' ||
      !Digits(s, 14, 2)) {
    return std::nullopt;
  }
  if (DigitsValue(s, 11, 2) > 23 || DigitsValue(s, 14, 2) > 59) return std::nullopt;
  std::string out(s.substr(0, 10));
  out += 'T';
  out += s.substr(11, 5);
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!Digits(s, i + 1, 2) || DigitsValue(s, i + 1, 2) > 60) return std::nullopt;
    out += s.substr(i, 3);
    i += 3;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      size_t end = i + 1;
      while (end < s.size() && IsDigit(s[end])) ++end;
      if (end == i + 1) return std::nullopt;
      // Milliseconds, the precision JavaScript dates have.
      std::string millis(s.substr(i + 1, std::min<size_t>(3, end - i - 1)));
      millis.resize(3, '0');
      out += '.';
      out += millis;
      i = end;
    }
  } else {
    out += ":00";
  }
  if (i == s.size()) {
    out += 'Z';
  } else if (s[i] == 'Z' && i + 1 == s.size()) {
    out += 'Z';
  } else if ((s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2)) {
    const std::string_view rest = s.substr(i + 3);
    std::string_view minutes = "00";
    if (rest.size() == 3 && rest[0] == ':' && Digits(rest, 1, 2)) {
      minutes = rest.substr(1);
    } else if (rest.size() == 2 && Digits(rest, 0, 2)) {
      minutes = rest;
    } else if (!rest.empty()) {
      return std::nullopt;
    }
    out += s.substr(i, 3);
    out += ':';
    out += minutes;
  } else {
    return std::nullopt;
  }
  return IsoTime{IsoPrecision::kDateTime, std::move(out)};
}

// A calendar period that is not a date: "2024", "2024-W05", "2024W05", "2024-Q1", "2024Q1",
// "Q1 2024".
bool IsPeriodText(std::string_view s) {
  if (Digits(s, 0, 4)) {
    if (s.size() == 4) return true;
    size_t i = 4;
    if (s[i] == '-') ++i;
    if (i < s.size() && (s[i] == 'W' || s[i] == 'w') && s.size() == i + 3 && Digits(s, i + 1, 2)) {
      const int week = DigitsValue(s, i + 1, 2);
      return week >= 1 && week <= 53;
    }
    return i < s.size() && (s[i] == 'Q' || s[i] == 'q') && s.size() == i + 2 && s[i + 1] >= '1' &&
           s[i + 1] <= '4';
  }
  return s.size() == 7 && (s[0] == 'Q' || s[0] == 'q') && s[1] >= '1' && s[1] <= '4' &&
         (s[2] == ' ' || s[2] == '-') && Digits(s, 3, 4);
}

// What a column holds, judged by its non-NULL cells.
enum class Kind {
  kEmpty,    // only NULLs
  kNumber,   // integers, floats, decimals
  kIsoTime,  // ISO dates or date-times (ParseIsoTime)
  kPeriod,   // years, ISO weeks, quarters as text
  kText,
  kOther,  // booleans, blobs, or a mixture
};

Kind CellKind(const db::Value& v) {
  if (db::IsNumber(v)) return Kind::kNumber;
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (ParseIsoTime(*s)) return Kind::kIsoTime;
    if (IsPeriodText(*s)) return Kind::kPeriod;
    return Kind::kText;
  }
  return Kind::kOther;
}

bool IsTextual(Kind k) { return k == Kind::kIsoTime || k == Kind::kPeriod || k == Kind::kText; }

Kind ColumnKind(const std::vector<db::Row>& rows, size_t column) {
  Kind kind = Kind::kEmpty;
  for (const db::Row& row : rows) {
    if (db::IsNull(row[column])) continue;
    const Kind k = CellKind(row[column]);
    if (kind == Kind::kEmpty || kind == k) {
      kind = k;
    } else if (IsTextual(kind) && IsTextual(k)) {
      kind = Kind::kText;  // dates beside other text: plain labels
    } else {
      return Kind::kOther;
    }
  }
  return kind;
}

// "id", "customer_id", "customerId": a key, which names a row but measures nothing.
bool IsIdName(std::string_view name) {
  const std::string lower = text::ToLower(name);
  if (lower == "id" || lower.ends_with("_id") || lower.ends_with(" id")) return true;
  return name.size() > 2 && name.ends_with("Id") &&
         std::islower(static_cast<unsigned char>(name[name.size() - 3]));
}

// Integers that read as years in a column whose name says so ("year", "order_year").
bool IsYearColumn(std::string_view name, const std::vector<db::Row>& rows, size_t column) {
  if (text::ToLower(name).find("year") == std::string::npos) return false;
  for (const db::Row& row : rows) {
    if (db::IsNull(row[column])) continue;
    const auto* i = std::get_if<int64_t>(&row[column]);
    if (i == nullptr || *i < 1000 || *i > 9999) return false;
  }
  return true;
}

// A category as the chart shows it: its text, "(null)" for NULL.
std::string CategoryText(const db::Value& v) {
  if (db::IsNull(v)) return std::string(kNullLabel);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return db::ToDisplayString(v);
}

struct Measure {
  Json json;  // an integer stays an integer; decimals and floats become doubles
  double number = 0;
};

// A measure as a JSON number; nullopt for NULL (and anything not a finite number), which the
// chart leaves out.
std::optional<Measure> MeasureOf(const db::Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return Measure{*i, static_cast<double>(*i)};
  const std::optional<double> d = db::AsDouble(v);
  if (!d || !std::isfinite(*d)) return std::nullopt;
  return Measure{*d, *d};
}

// ---------------------------------------------------------------------------------------------
// The roles of the result's columns

struct Column {
  size_t index = 0;
  std::string name;
  const sql::Expr* expr = nullptr;  // from the IR; null when judged from the result alone
  bool additive = false;            // a measure whose parts add up to the whole (SUM, COUNT)
};

struct Shape {
  std::vector<Column> time;      // calendar columns
  std::vector<Column> labels;    // categories
  std::vector<Column> measures;  // numbers to plot
  // Keys set aside beside a better label ("customer_id" beside "name"); they tell apart rows
  // whose labels are the same.
  std::vector<size_t> ids;
  bool listing = false;      // the IR lists rows rather than aggregating them
  bool unplaceable = false;  // a column no chart can place (all NULL, a non-numeric aggregate)
};

Shape Classify(const sql::Query* query, const std::vector<std::string>& columns,
               const std::vector<db::Row>& rows, const std::vector<Kind>& kinds) {
  Shape shape;
  const bool from_ir =
      query != nullptr && query->select.size() == columns.size() &&
      std::none_of(query->select.begin(), query->select.end(), [](const sql::SelectItem& s) {
        return s.expr.column && s.expr.column->column == "*";
      });
  shape.listing = from_ir && !query->is_aggregated();
  for (size_t i = 0; i < columns.size(); ++i) {
    Column column{i, columns[i], from_ir ? &query->select[i].expr : nullptr, false};
    if (from_ir && !shape.listing) {
      const sql::Expr& e = query->select[i].expr;
      if (e.is_aggregate()) {
        // MIN or MAX of a date or a name is no number to plot.
        if (kinds[i] != Kind::kNumber && kinds[i] != Kind::kEmpty) shape.unplaceable = true;
        column.additive = e.agg == sql::Aggregate::kSum || e.agg == sql::Aggregate::kCount;
        shape.measures.push_back(std::move(column));
      } else if (e.grain != sql::TimeGrain::kNone || kinds[i] == Kind::kIsoTime) {
        shape.time.push_back(std::move(column));
      } else {
        shape.labels.push_back(std::move(column));
      }
      continue;
    }
    switch (kinds[i]) {
      case Kind::kNumber:
        if (IsIdName(columns[i])) {
          shape.labels.push_back(std::move(column));
        } else if (IsYearColumn(columns[i], rows, i)) {
          shape.time.push_back(std::move(column));
        } else {
          shape.measures.push_back(std::move(column));
        }
        break;
      case Kind::kIsoTime:
      case Kind::kPeriod:
        shape.time.push_back(std::move(column));
        break;
      case Kind::kText:
      case Kind::kOther:
        shape.labels.push_back(std::move(column));
        break;
      case Kind::kEmpty:
        shape.unplaceable = true;
        break;
    }
  }
  // An entity's key beside its name: the name labels the bars.
  if (shape.labels.size() > 1) {
    std::vector<Column> named;
    std::vector<size_t> ids;
    for (Column& c : shape.labels) {
      if (IsIdName(c.name)) {
        ids.push_back(c.index);
      } else {
        named.push_back(std::move(c));
      }
    }
    if (!named.empty()) {
      shape.labels = std::move(named);
      shape.ids = std::move(ids);
    }
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------
// Words for notes and titles

// The plural of a title's last word, for notes ("country" -> "countries").
std::string Plural(const std::string& noun) {
  if (noun.empty()) return "values";
  const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(noun.back())));
  if (!std::isalpha(static_cast<unsigned char>(noun.back()))) return noun + " values";
  if (last == 's') return noun;
  if (last == 'x' || last == 'z' || noun.ends_with("ch") || noun.ends_with("sh")) {
    return noun + "es";
  }
  if (last == 'y' && noun.size() > 1 &&
      std::string_view("aeiou").find(static_cast<char>(std::tolower(
          static_cast<unsigned char>(noun[noun.size() - 2])))) == std::string_view::npos) {
    return noun.substr(0, noun.size() - 1) + "ies";
  }
  return noun + "s";
}

// "1 row without a value for revenue is left out." / "3 rows without ... are left out."
std::string LeftOutNote(size_t rows, const std::string& what) {
  return fmt::format("{} {} without {} {} left out.", rows, rows == 1 ? "row" : "rows", what,
                     rows == 1 ? "is" : "are");
}

std::string ExtraMeasuresNote(std::string_view shown, const std::vector<Column>& measures) {
  std::vector<std::string> others;
  for (size_t i = 1; i < measures.size(); ++i) others.push_back(AxisTitle(measures[i].name));
  return fmt::format("The chart shows {}; the table also has {}.", shown, text::Join(others, ", "));
}

// ---------------------------------------------------------------------------------------------
// Specs

// A column name made safe for Vega-Lite, which copies names into expressions it builds (the
// tooltip's keys, the marks' descriptions) without escaping every character: a backslash
// becomes "/", control characters and line or paragraph separators become spaces. Vega-Lite 6
// also cannot address a field whose name holds a backslash or a line break, however escaped.
std::string VegaSafeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else if (c == '\\') {
      out += '/';
    } else if (name.substr(i, 3) == "\xE2\x80\xA8" || name.substr(i, 3) == "\xE2\x80\xA9") {
      out += ' ';
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// The key of a column in the spec's data rows.
std::string DataKey(std::string_view name) { return VegaSafeName(name); }

Json Field(const Column& column, std::string_view type) {
  Json f = Json::object();
  f["field"] = VegaFieldName(DataKey(column.name));
  f["type"] = type;
  f["title"] = AxisTitle(column.name);
  return f;
}

std::string Dump(const Json& spec) {
  // Replace rather than throw on text that is not UTF-8 (a database may hold any bytes).
  return spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A scalar of the chart's data (a label, a measure, a time) written into its rows.
void WriteValue(json::Writer& out, const Json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    out.Int(value.get<int64_t>());
  } else if (value.is_number_float()) {
    out.Double(value.get<double>());
  } else if (value.is_string()) {
    out.String(value.get_ref<const std::string&>());
  } else {
    out.Raw(Dump(value));
  }
}

// The spec's text. The data rows (most of it) come already written as a JSON array: they are
// written straight from the result, not built as a document first.
std::string Spec(std::string_view values, const Json& mark, const Json& encoding, int height) {
  std::string spec;
  spec.reserve(values.size() + 512);
  json::Writer out(spec);
  out.BeginObject();
  out.Member("$schema", kSchema);
  out.Key("data");
  out.BeginObject();
  out.Key("values");
  out.Raw(values);
  out.EndObject();
  out.Key("mark");
  out.Raw(Dump(mark));
  out.Key("encoding");
  out.Raw(Dump(encoding));
  out.Member("width", "container");
  out.Key("height");
  out.Int(height);
  out.Key("autosize");
  out.BeginObject();
  out.Member("type", "fit");
  out.Member("contains", "padding");
  out.EndObject();
  out.EndObject();
  return spec;
}

Json Mark(std::string_view type) {
  Json mark = Json::object();
  mark["type"] = type;
  mark["tooltip"] = true;
  return mark;
}

// Whether the chart's columns can key one data object each: distinct, non-empty keys.
bool DistinctNames(std::initializer_list<const Column*> columns) {
  std::set<std::string> seen;
  for (const Column* c : columns) {
    if (c == nullptr) continue;
    if (c->name.empty() || !seen.insert(DataKey(c->name)).second) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Bars

struct Bar {
  std::string label;
  Json value;
  double number = 0;
  size_t row = 0;
};

// Labels shown twice would merge into one bar: each repeat gets its key ("Smith (17)"), or its
// place among the repeats when there is no key.
void Disambiguate(std::vector<Bar>& bars, const std::vector<db::Row>& rows,
                  const std::vector<size_t>& ids) {
  // Labels are almost always distinct: counted by view (no copies), and the rest skipped then.
  std::unordered_map<std::string_view, int> count;
  count.reserve(bars.size());
  bool repeated = false;
  for (const Bar& b : bars) repeated |= ++count[b.label] > 1;
  if (!repeated) return;
  std::unordered_map<std::string, int> repeats;  // the views above die as labels change
  for (const auto& [label, n] : count) {
    if (n > 1) repeats.emplace(label, n);
  }
  std::unordered_map<std::string, int> seen;
  for (Bar& b : bars) {
    if (!repeats.contains(b.label)) continue;
    const int nth = ++seen[b.label];
    std::vector<std::string> keys;
    for (size_t id : ids) keys.push_back(CategoryText(rows[b.row][id]));
    b.label += fmt::format(" ({})", keys.empty() ? std::to_string(nth) : text::Join(keys, ", "));
  }
}

// The sum of the bars' values: exact for integers (unless it would overflow), else a double.
Json SumOf(const std::vector<Bar>& bars) {
  int64_t integer = 0;
  double real = 0;
  bool exact = true;
  for (const Bar& b : bars) {
    real += b.number;
    if (exact && b.value.is_number_integer()) {
      exact = !__builtin_add_overflow(integer, b.value.get<int64_t>(), &integer);
    } else {
      exact = false;
    }
  }
  if (exact) return integer;
  return real;
}

// How the query orders its rows: not at all (the chart sorts by the measure), by the charted
// measure, or by something else.
struct QueryOrder {
  bool ordered = false;
  bool by_measure = false;
  bool descending = true;
};

QueryOrder OrderOf(const sql::Query* query, const Column& measure) {
  QueryOrder order;
  if (query == nullptr || measure.expr == nullptr || query->order_by.empty()) return order;
  order.ordered = true;
  order.by_measure = query->order_by.front().expr == *measure.expr;
  order.descending = query->order_by.front().descending;
  return order;
}

std::optional<ChartSuggestion> BarChart(const sql::Query* query, const Column& label,
                                        const Shape& shape, const std::vector<db::Row>& rows) {
  const Column& measure = shape.measures.front();
  if (!DistinctNames({&label, &measure})) return std::nullopt;
  std::vector<Bar> bars;
  size_t missing = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::optional<Measure> m = MeasureOf(rows[r][measure.index]);
    if (!m) {
      ++missing;
      continue;
    }
    bars.push_back(Bar{CategoryText(rows[r][label.index]), std::move(m->json), m->number, r});
  }
  if (bars.empty()) return std::nullopt;
  Disambiguate(bars, rows, shape.ids);

  std::vector<std::string> notes;
  const QueryOrder order = OrderOf(query, measure);
  if (!order.ordered) {
    std::stable_sort(bars.begin(), bars.end(),
                     [](const Bar& a, const Bar& b) { return a.number > b.number; });
  }
  if (bars.size() > kMaxBars) {
    const size_t total = bars.size();
    std::vector<Bar> kept;
    std::vector<Bar> rest;
    if (!order.ordered || order.by_measure) {
      // Already in the measure's order: the first ones are the top (or, ascending, the bottom).
      kept.assign(std::make_move_iterator(bars.begin()),
                  std::make_move_iterator(bars.begin() + kMaxBars));
      rest.assign(std::make_move_iterator(bars.begin() + kMaxBars),
                  std::make_move_iterator(bars.end()));
    } else {
      // Ordered by something else: the largest ones, kept in the query's order.
      std::vector<size_t> by_size(bars.size());
      for (size_t i = 0; i < by_size.size(); ++i) by_size[i] = i;
      std::stable_sort(by_size.begin(), by_size.end(),
                       [&](size_t a, size_t b) { return bars[a].number > bars[b].number; });
      std::vector<bool> top(bars.size(), false);
      for (size_t i = 0; i < kMaxBars; ++i) top[by_size[i]] = true;
      for (size_t i = 0; i < bars.size(); ++i) {
        (top[i] ? kept : rest).push_back(std::move(bars[i]));
      }
    }
    const bool bottom = order.ordered && order.by_measure && !order.descending;
    std::string note = fmt::format("{} {} of {} {} by {}; ", bottom ? "Bottom" : "Top", kMaxBars,
                                   total, Plural(AxisTitle(label.name)), AxisTitle(measure.name));
    const std::string others =
        rest.size() == 1 ? "the other one is" : fmt::format("the other {} are", rest.size());
    if (measure.additive) {
      std::string other_label = "Other";
      while (std::any_of(kept.begin(), kept.end(),
                         [&](const Bar& b) { return b.label == other_label; })) {
        other_label = "(" + other_label + ")";
      }
      Json sum = SumOf(rest);
      const double number = sum.get<double>();
      kept.push_back(Bar{other_label, std::move(sum), number, 0});
      note += fmt::format("{} added up as '{}'.", others, other_label);
    } else {
      note += fmt::format("{} not shown.", others);
    }
    notes.push_back(std::move(note));
    bars = std::move(kept);
  }
  if (missing > 0) {
    notes.push_back(LeftOutNote(missing, "a value for " + AxisTitle(measure.name)));
  }
  if (shape.measures.size() > 1) {
    notes.push_back(ExtraMeasuresNote(AxisTitle(measure.name), shape.measures));
  }

  std::string values;
  {
    const std::string label_key = DataKey(label.name);
    const std::string measure_key = DataKey(measure.name);
    json::Writer out(values);
    out.BeginArray();
    for (const Bar& b : bars) {
      out.BeginObject();
      out.Member(label_key, b.label);
      out.Key(measure_key);
      WriteValue(out, b.value);
      out.EndObject();
    }
    out.EndArray();
  }
  // Horizontal bars: category names of any length stay readable.
  Json encoding = Json::object();
  Json y = Field(label, "nominal");
  y["sort"] = nullptr;  // the data's order, decided above
  encoding["y"] = std::move(y);
  Json x = Field(measure, "quantitative");
  // One bar per category: nothing to stack (and no stack transform, whose output fields
  // Vega-Lite names wrongly for a column name that ends in a backslash).
  x["stack"] = nullptr;
  encoding["x"] = std::move(x);
  const int height = std::max(160, 20 * static_cast<int>(bars.size()) + 60);

  ChartSuggestion chart;
  chart.type = "bar";
  chart.x = label.name;
  chart.y = {measure.name};
  chart.spec = Spec(values, Mark("bar"), encoding, height);
  chart.note = text::Join(notes, " ");
  return chart;
}

// ---------------------------------------------------------------------------------------------
// Lines

struct Point {
  Json x;
  std::string series;
  Json y;
  double number = 0;
};

std::optional<ChartSuggestion> LineChart(const sql::Query* query, const Shape& shape,
                                         const std::vector<db::Row>& rows) {
  const Column& time = shape.time.front();
  const Column& measure = shape.measures.front();
  const Column* series = shape.labels.empty() ? nullptr : &shape.labels.front();
  if (!DistinctNames({&time, &measure, series})) return std::nullopt;

  // Temporal when every value is an ISO date: then the precision they share, if any.
  bool temporal = true;
  std::optional<IsoPrecision> precision;
  bool mixed = false;
  for (const db::Row& row : rows) {
    const db::Value& x = row[time.index];
    if (db::IsNull(x)) continue;
    const auto* s = std::get_if<std::string>(&x);
    std::optional<IsoTime> parsed = s ? ParseIsoTime(*s) : std::nullopt;
    if (!parsed) {
      temporal = false;
      break;
    }
    if (precision && *precision != parsed->precision) mixed = true;
    precision = parsed->precision;
  }

  // A query that lists the periods latest first still draws time left to right.
  bool reverse = false;
  if (query != nullptr && time.expr != nullptr && !query->order_by.empty()) {
    reverse = query->order_by.front().expr == *time.expr && query->order_by.front().descending;
  }
  std::vector<Point> points;
  size_t missing_x = 0;
  size_t missing_y = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const db::Row& row = rows[reverse ? rows.size() - 1 - k : k];
    const db::Value& x = row[time.index];
    if (db::IsNull(x)) {
      ++missing_x;
      continue;
    }
    std::optional<Measure> m = MeasureOf(row[measure.index]);
    if (!m) {
      ++missing_y;
      continue;
    }
    Point p;
    p.x =
        temporal ? Json(ParseIsoTime(std::get<std::string>(x))->normalized) : Json(CategoryText(x));
    if (series != nullptr) p.series = CategoryText(row[series->index]);
    p.y = std::move(m->json);
    p.number = m->number;
    points.push_back(std::move(p));
  }
  if (points.empty()) return std::nullopt;

  std::vector<std::string> notes;
  if (series != nullptr) {
    // Too many lines are a tangle: the ones with the largest totals.
    std::vector<std::string> order;
    std::unordered_map<std::string, double> totals;
    for (const Point& p : points) {
      auto [it, added] = totals.try_emplace(p.series, 0.0);
      if (added) order.push_back(p.series);
      it->second += p.number;
    }
    if (order.size() > kMaxSeries) {
      std::vector<std::string> by_total = order;
      std::stable_sort(by_total.begin(), by_total.end(),
                       [&](const auto& a, const auto& b) { return totals[a] > totals[b]; });
      const std::set<std::string> kept(by_total.begin(), by_total.begin() + kMaxSeries);
      std::erase_if(points, [&](const Point& p) { return !kept.contains(p.series); });
      const size_t others = order.size() - kMaxSeries;
      notes.push_back(
          fmt::format("The {} {} with the highest total {} are drawn; {} not.", kMaxSeries,
                      Plural(AxisTitle(series->name)), AxisTitle(measure.name),
                      others == 1 ? "the other one is" : fmt::format("the other {} are", others)));
    }
  }
  if (missing_x > 0) notes.push_back(LeftOutNote(missing_x, "a " + AxisTitle(time.name)));
  if (missing_y > 0) {
    notes.push_back(LeftOutNote(missing_y, "a value for " + AxisTitle(measure.name)));
  }
  if (shape.measures.size() > 1) {
    notes.push_back(ExtraMeasuresNote(AxisTitle(measure.name), shape.measures));
  }

  std::string values;
  {
    const std::string time_key = DataKey(time.name);
    const std::string series_key = series != nullptr ? DataKey(series->name) : std::string();
    const std::string measure_key = DataKey(measure.name);
    json::Writer out(values);
    out.BeginArray();
    for (const Point& p : points) {
      out.BeginObject();
      out.Key(time_key);
      WriteValue(out, p.x);
      if (series != nullptr) out.Member(series_key, p.series);
      out.Key(measure_key);
      WriteValue(out, p.y);
      out.EndObject();
    }
    out.EndArray();
  }
  Json encoding = Json::object();
  if (temporal) {
    Json x = Field(time, "temporal");
    // Shown in UTC, as the values are: a month stays that month in every time zone.
    if (!mixed && precision == IsoPrecision::kMonth) {
      x["timeUnit"] = "utcyearmonth";
    } else if (!mixed && precision == IsoPrecision::kDay) {
      x["timeUnit"] = "utcyearmonthdate";
    } else {
      x["scale"] = Json::object({{"type", "utc"}});
    }
    encoding["x"] = std::move(x);
  } else {
    Json x = Field(time, "ordinal");
    x["sort"] = nullptr;  // the result's order
    // A year of weeks has more labels than fit: every other one is dropped until they do.
    x["axis"] = Json::object({{"labelOverlap", true}});
    encoding["x"] = std::move(x);
  }
  encoding["y"] = Field(measure, "quantitative");
  if (series != nullptr) {
    Json color = Field(*series, "nominal");
    color["sort"] = nullptr;
    encoding["color"] = std::move(color);
  }
  Json mark = Mark("line");
  mark["point"] = points.size() <= kMaxMarkedPoints;

  ChartSuggestion chart;
  chart.type = "line";
  chart.x = time.name;
  chart.y = {measure.name};
  chart.spec = Spec(values, mark, encoding, kChartHeight);
  chart.note = text::Join(notes, " ");
  return chart;
}

// ---------------------------------------------------------------------------------------------
// Scatter

std::optional<ChartSuggestion> ScatterChart(const Shape& shape, const std::vector<db::Row>& rows) {
  const Column& x = shape.measures[0];
  const Column& y = shape.measures[1];
  const Column* label = shape.labels.empty() ? nullptr : &shape.labels.front();
  if (!DistinctNames({&x, &y, label})) return std::nullopt;
  std::string values;
  size_t missing = 0;
  size_t points = 0;
  {
    const std::string label_key = label != nullptr ? DataKey(label->name) : std::string();
    const std::string x_key = DataKey(x.name);
    const std::string y_key = DataKey(y.name);
    json::Writer out(values);
    out.BeginArray();
    for (const db::Row& row : rows) {
      std::optional<Measure> a = MeasureOf(row[x.index]);
      std::optional<Measure> b = MeasureOf(row[y.index]);
      if (!a || !b) {
        ++missing;
        continue;
      }
      ++points;
      out.BeginObject();
      if (label != nullptr) out.Member(label_key, CategoryText(row[label->index]));
      out.Key(x_key);
      WriteValue(out, a->json);
      out.Key(y_key);
      WriteValue(out, b->json);
      out.EndObject();
    }
    out.EndArray();
  }
  if (points < 2) return std::nullopt;

  Json encoding = Json::object();
  Json zero_free = Json::object({{"zero", false}});
  Json ex = Field(x, "quantitative");
  ex["scale"] = zero_free;
  Json ey = Field(y, "quantitative");
  ey["scale"] = zero_free;
  encoding["x"] = ex;
  encoding["y"] = ey;
  if (label != nullptr) {
    encoding["tooltip"] =
        Json::array({Field(*label, "nominal"), Field(x, "quantitative"), Field(y, "quantitative")});
  }
  Json mark = Mark("point");
  mark["filled"] = true;

  ChartSuggestion chart;
  chart.type = "scatter";
  chart.x = x.name;
  chart.y = {y.name};
  chart.spec = Spec(values, mark, encoding, kChartHeight);
  if (missing > 0) {
    chart.note = LeftOutNote(
        missing, fmt::format("a value for {} or {}", AxisTitle(x.name), AxisTitle(y.name)));
  }
  return chart;
}

ChartSuggestion Table() {
  ChartSuggestion chart;
  chart.type = "table";
  return chart;
}

}  // namespace

std::string VegaFieldName(std::string_view column) {
  std::string out;
  out.reserve(column.size());
  for (char c : column) {
    if (c == '.' || c == '[' || c == ']' || c == '\\' || c == '"' || c == '\'') out += '\\';
    out += c;
  }
  return out;
}

std::string AxisTitle(std::string_view column) {
  std::string title = VegaSafeName(column);
  std::replace(title.begin(), title.end(), '_', ' ');
  return title;
}

ChartSuggestion ChooseChart(const sql::Query* query, const std::vector<std::string>& columns,
                            const std::vector<db::Row>& rows, bool truncated) {
  if (columns.empty() || rows.empty()) return Table();
  for (const db::Row& row : rows) {
    if (row.size() != columns.size()) return Table();
  }
  std::vector<Kind> kinds;
  for (size_t i = 0; i < columns.size(); ++i) kinds.push_back(ColumnKind(rows, i));

  // One value: the page shows it as a figure.
  const bool ir_aggregate =
      query != nullptr && query->select.size() == 1 && query->select.front().expr.is_aggregate();
  if (rows.size() == 1 && columns.size() == 1 && (kinds[0] == Kind::kNumber || ir_aggregate)) {
    ChartSuggestion number;
    number.type = "number";
    number.y = {columns[0]};
    return number;
  }

  const Shape shape = Classify(query, columns, rows, kinds);
  if (shape.unplaceable || shape.measures.empty() || shape.time.size() > 1 ||
      shape.labels.size() > 1) {
    return Table();
  }
  // A listing (rows, not groups) is charted only as bars of one label and its numbers.
  if (shape.listing && (!shape.time.empty() || shape.labels.size() != 1)) return Table();

  std::optional<ChartSuggestion> chart;
  if (shape.time.size() == 1) {
    // Periods ordered by a measure ("the months with the most orders") are a ranking.
    const bool ranking =
        query != nullptr && !query->order_by.empty() && query->order_by.front().expr.is_aggregate();
    if (ranking && shape.labels.empty()) {
      chart = BarChart(query, shape.time.front(), shape, rows);
    } else {
      chart = LineChart(query, shape, rows);
    }
  } else if (shape.labels.size() == 1) {
    // Two measures over more labels than bars can show: every label as a point.
    if (shape.measures.size() == 2 && rows.size() > kMaxBars) {
      chart = ScatterChart(shape, rows);
    } else {
      chart = BarChart(query, shape.labels.front(), shape, rows);
    }
  } else if (shape.measures.size() == 2) {
    chart = ScatterChart(shape, rows);
  }
  if (!chart) return Table();
  if (truncated) {
    std::string cut = "The result was cut at the row limit; the chart shows the rows returned.";
    chart->note = chart->note.empty() ? std::move(cut) : chart->note + " " + cut;
  }
  return *chart;
}

}  // namespace helios::nl2sql
