#include "nl2sql/engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/text.h"
#include "nl2sql/engine/confidence.h"
#include "nl2sql/engine/dates.h"
#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/tokenizer.h"
#include "sql/explain.h"

namespace helios::nl2sql::engine {

// Words that mean a total ("revenue") and verbs of selling ("sold").
bool ImpliesTotal(std::string_view phrase);
bool IsSoldWord(std::string_view phrase);
// Words saying a text is inside another ("containing", "includes", "the word").
bool IsContainsWord(std::string_view phrase);

namespace {

using sql::Aggregate;
using sql::ColumnRef;
using sql::CompareOp;
using sql::Expr;
using sql::TimeGrain;

// A number of the question as a count, saturated at the int64_t range: a question may write
// more digits than any count has ("top 1e30"), and casting such a double is undefined.
int64_t CountOf(double number) {
  constexpr double kLimit = 9.2e18;  // below INT64_MAX, exactly representable
  if (std::isnan(number)) return 0;
  if (number >= kLimit) return std::numeric_limits<int64_t>::max();
  if (number <= -kLimit) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(number);
}

// What a stretch of the question means, before it is assembled into a query.
enum class ItemKind {
  kAgg,          // count / total / average / ...
  kSuperlative,  // highest, cheapest, most recent, most
  kTop,          // top N, first N, bottom N
  kGroup,        // by, per, for each
  kGrain,        // by month, monthly
  kDistinct,     // different, unique
  kNumCond,      // more than 5, between 10 and 20
  kDate,         // in 2024, last year
  kMention,      // a table, a column or a value
  kNot,          // not, except
  kSort,         // sort by, order by
  kDir,          // ascending, highest first
  kWith,         // with, have, having
  kUnknown,      // a content word nothing explains
  kEverything,   // all the information, all data: every column of the rows
};

struct Item {
  ItemKind kind;
  size_t begin = 0, end = 0;  // token span
  std::string phrase;         // the words, as typed
  Aggregate agg = Aggregate::kNone;
  int dir = 0;       // +1 highest first, -1 lowest first
  std::string hint;  // superlative's implied column kind: "price", "date"
  int64_t n = 0;     // top N
  TimeGrain grain = TimeGrain::kNone;
  CompareOp op = CompareOp::kEq;
  std::vector<double> nums;
  bool integers = true;
  DateRange date;
  // Mentions.
  std::vector<SchemaTarget> targets;  // best quality first
  std::vector<ValueTarget> values;
  std::string quoted;  // a quoted string with no known column
  // A condition joined to the condition before it by "or": "cheaper than 10 or dearer than 90".
  bool or_previous = false;
  bool right_after_or = false;   // "... or" immediately before it: "under 10 or over 90"
  bool right_after_and = false;  // "and" or "or" immediately before it: "names and trade names"
  bool and_before = false;       // "and" between it and the item before: "and their parties"
  bool used = false;

  bool is_table() const {
    return kind == ItemKind::kMention && !targets.empty() && !targets[0].column;
  }
  bool is_column() const {
    return kind == ItemKind::kMention && !targets.empty() && targets[0].column;
  }
  bool is_value() const {
    return kind == ItemKind::kMention && (!values.empty() || !quoted.empty());
  }
};

struct Keyword {
  Keyword(std::vector<std::string_view> w, ItemKind k, Aggregate a = Aggregate::kNone, int d = 0,
          std::string_view h = {}, TimeGrain g = TimeGrain::kNone)
      : words(std::move(w)), kind(k), agg(a), dir(d), hint(h), grain(g) {}
  std::vector<std::string_view> words;
  ItemKind kind;
  Aggregate agg;
  int dir;
  std::string_view hint;
  TimeGrain grain;
};

// Structural phrases, longest first within each starting word.
const std::vector<Keyword>& Keywords() {
  static const std::vector<Keyword> k = {
      {{"how", "many"}, ItemKind::kAgg, Aggregate::kCount},
      {{"total", "number", "of"}, ItemKind::kAgg, Aggregate::kCount},
      {{"number", "of"}, ItemKind::kAgg, Aggregate::kCount},
      {{"number", "and"}, ItemKind::kAgg, Aggregate::kCount},
      {{"count", "and"}, ItemKind::kAgg, Aggregate::kCount},
      {{"count", "of"}, ItemKind::kAgg, Aggregate::kCount},
      {{"count"}, ItemKind::kAgg, Aggregate::kCount},
      {{"how", "much"}, ItemKind::kAgg, Aggregate::kSum},
      {{"sum", "of"}, ItemKind::kAgg, Aggregate::kSum},
      {{"sum"}, ItemKind::kAgg, Aggregate::kSum},
      {{"total"}, ItemKind::kAgg, Aggregate::kSum},
      {{"combined"}, ItemKind::kAgg, Aggregate::kSum},
      {{"average"}, ItemKind::kAgg, Aggregate::kAvg},
      {{"avg"}, ItemKind::kAgg, Aggregate::kAvg},
      {{"mean"}, ItemKind::kAgg, Aggregate::kAvg},
      {{"minimum"}, ItemKind::kAgg, Aggregate::kMin},
      {{"min"}, ItemKind::kAgg, Aggregate::kMin},
      {{"maximum"}, ItemKind::kAgg, Aggregate::kMax},
      {{"max"}, ItemKind::kAgg, Aggregate::kMax},
      // Superlatives with an implied column.
      {{"most", "expensive"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "price"},
      {{"least", "expensive"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "price"},
      {{"most", "costly"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "price"},
      {{"priciest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "price"},
      {{"cheapest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "price"},
      {{"most", "recent"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "date"},
      {{"latest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "date"},
      {{"most", "recently"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "date"},
      {{"least", "recently"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "date"},
      {{"newest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "date"},
      {{"earliest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "date"},
      {{"oldest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "age"},
      {{"youngest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "age"},
      {{"longest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "length"},
      {{"shortest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "length"},
      {{"tallest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "height"},
      {{"heaviest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "weight"},
      {{"lightest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "weight"},
      {{"fastest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "speed"},
      {{"slowest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "speed"},
      {{"best", "selling"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "sold"},
      {{"top", "selling"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "sold"},
      {{"most", "popular"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "sold"},
      {{"least", "popular"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "sold"},
      {{"worst", "selling"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "sold"},
      // How often a value occurs: "the most common type" ranks the types by their rows.
      {{"most", "common"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "frequency"},
      {{"most", "frequent"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "frequency"},
      {{"most", "frequently"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "frequency"},
      {{"commonest"}, ItemKind::kSuperlative, Aggregate::kMax, +1, "frequency"},
      {{"least", "common"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "frequency"},
      {{"least", "frequent"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "frequency"},
      {{"rarest"}, ItemKind::kSuperlative, Aggregate::kMin, -1, "frequency"},
      // Superlatives over the next measure.
      {{"highest"}, ItemKind::kSuperlative, Aggregate::kMax, +1},
      {{"largest"}, ItemKind::kSuperlative, Aggregate::kMax, +1},
      {{"biggest"}, ItemKind::kSuperlative, Aggregate::kMax, +1},
      {{"greatest"}, ItemKind::kSuperlative, Aggregate::kMax, +1},
      {{"most"}, ItemKind::kSuperlative, Aggregate::kMax, +1},
      {{"lowest"}, ItemKind::kSuperlative, Aggregate::kMin, -1},
      {{"smallest"}, ItemKind::kSuperlative, Aggregate::kMin, -1},
      {{"least"}, ItemKind::kSuperlative, Aggregate::kMin, -1},
      {{"fewest"}, ItemKind::kSuperlative, Aggregate::kMin, -1},
      // Grouping.
      {{"broken", "down", "by"}, ItemKind::kGroup},
      {{"grouped", "by"}, ItemKind::kGroup},
      {{"group", "by"}, ItemKind::kGroup},
      {{"split", "by"}, ItemKind::kGroup},
      {{"breakdown", "by"}, ItemKind::kGroup},
      {{"for", "each"}, ItemKind::kGroup},
      {{"for", "every"}, ItemKind::kGroup},
      {{"in", "each"}, ItemKind::kGroup},
      {{"by"}, ItemKind::kGroup},
      {{"per"}, ItemKind::kGroup},
      {{"each"}, ItemKind::kGroup},
      {{"every"}, ItemKind::kGroup},
      {{"monthly"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kMonth},
      {{"yearly"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kYear},
      {{"annual"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kYear},
      {{"annually"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kYear},
      {{"quarterly"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kQuarter},
      {{"weekly"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kWeek},
      {{"daily"}, ItemKind::kGrain, Aggregate::kNone, 0, "", TimeGrain::kDay},
      {{"all", "the", "information"}, ItemKind::kEverything},
      {{"all", "information"}, ItemKind::kEverything},
      {{"all", "the", "info"}, ItemKind::kEverything},
      {{"all", "info"}, ItemKind::kEverything},
      {{"all", "the", "data"}, ItemKind::kEverything},
      {{"all", "data"}, ItemKind::kEverything},
      {{"all", "the", "attributes"}, ItemKind::kEverything},
      {{"all", "attributes"}, ItemKind::kEverything},
      {{"distinct"}, ItemKind::kDistinct},
      {{"different"}, ItemKind::kDistinct},
      {{"unique"}, ItemKind::kDistinct},
      {{"other", "than"}, ItemKind::kNot},
      {{"without"}, ItemKind::kNot},
      {{"free", "of"}, ItemKind::kNot},
      {{"lacking"}, ItemKind::kNot},
      {{"lack"}, ItemKind::kNot},
      {{"lacks"}, ItemKind::kNot},
      {{"never"}, ItemKind::kNot},
      {{"no"}, ItemKind::kNot},
      {{"not"}, ItemKind::kNot},
      {{"except"}, ItemKind::kNot},
      {{"excluding"}, ItemKind::kNot},
      {{"isn't"}, ItemKind::kNot},
      {{"aren't"}, ItemKind::kNot},
      {{"sorted", "by"}, ItemKind::kSort},
      {{"sort", "by"}, ItemKind::kSort},
      {{"ordered", "by"}, ItemKind::kSort},
      {{"order", "by"}, ItemKind::kSort},
      {{"in", "order", "of"}, ItemKind::kSort},
      {{"order", "of"}, ItemKind::kSort},
      {{"ranked", "by"}, ItemKind::kSort},
      {{"rank", "by"}, ItemKind::kSort},
      {{"arranged", "by"}, ItemKind::kSort},
      {{"sort"}, ItemKind::kSort},
      {{"sorted"}, ItemKind::kSort},
      {{"highest", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"largest", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"biggest", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"most", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"newest", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"latest", "first"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"from", "highest", "to", "lowest"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"lowest", "first"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"smallest", "first"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"least", "first"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"oldest", "first"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"earliest", "first"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"from", "lowest", "to", "highest"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"in", "descending", "order"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"in", "ascending", "order"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"descending"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"desc"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"decreasing"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"ascending"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"asc"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"increasing"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"in", "the", "descending", "order"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"in", "a", "descending", "order"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"in", "the", "ascending", "order"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"in", "an", "ascending", "order"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"descending", "order"}, ItemKind::kDir, Aggregate::kNone, +1},
      {{"ascending", "order"}, ItemKind::kDir, Aggregate::kNone, -1},
      {{"in", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"in", "descending", "alphabetical", "order"},
       ItemKind::kDir,
       Aggregate::kNone,
       +1,
       "alpha"},
      {{"descending", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, +1, "alpha"},
      {{"in", "reverse", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, +1, "alpha"},
      {{"reverse", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, +1, "alpha"},
      {{"reverse", "alphabetically"}, ItemKind::kDir, Aggregate::kNone, +1, "alpha"},
      {{"in", "the", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"in", "ascending", "alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"in", "alphabetic", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"alphabetical", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"alphabetic", "order"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"alphabetical"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"alphabetic"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"alphabetically"}, ItemKind::kDir, Aggregate::kNone, -1, "alpha"},
      {{"with"}, ItemKind::kWith},
      {{"having"}, ItemKind::kWith},
      {{"have"}, ItemKind::kWith},
      {{"has"}, ItemKind::kWith},
      {{"had"}, ItemKind::kWith},
      {{"where"}, ItemKind::kWith},
  };
  return k;
}

// Candidates of a table of phrases (Keywords(), Comparators()) that start with one word, in the
// table's order: only they can match there, so a position is checked against a few phrases
// instead of all of them.
template <typename Phrase>
class ByFirstWord {
 public:
  explicit ByFirstWord(const std::vector<Phrase>& phrases) {
    for (const Phrase& p : phrases) index_[p.words.front()].push_back(&p);
  }
  const std::vector<const Phrase*>& At(std::string_view word) const {
    static const std::vector<const Phrase*> kNone;
    auto it = index_.find(word);
    return it == index_.end() ? kNone : it->second;
  }

 private:
  std::unordered_map<std::string_view, std::vector<const Phrase*>> index_;
};

const ByFirstWord<Keyword>& KeywordsByFirstWord() {
  static const ByFirstWord<Keyword> index(Keywords());
  return index;
}

struct Comparator {
  Comparator(std::vector<std::string_view> w, CompareOp o, std::string_view h = {})
      : words(std::move(w)), op(o), hint(h) {}
  std::vector<std::string_view> words;
  CompareOp op;
  std::string_view hint;  // the dimension an adjective compares: "older than" -> age
};

const std::vector<Comparator>& Comparators() {
  static const std::vector<Comparator> k = {
      {{"more", "than"}, CompareOp::kGt},
      {{"greater", "than"}, CompareOp::kGt},
      {{"higher", "than"}, CompareOp::kGt},
      {{"larger", "than"}, CompareOp::kGt},
      {{"bigger", "than"}, CompareOp::kGt},
      {{"over"}, CompareOp::kGt},
      {{"above"}, CompareOp::kGt},
      {{"exceeding"}, CompareOp::kGt},
      {{"exceeds"}, CompareOp::kGt},
      {{"exceed"}, CompareOp::kGt},
      {{"at", "least"}, CompareOp::kGe},
      {{"no", "less", "than"}, CompareOp::kGe},
      {{"no", "fewer", "than"}, CompareOp::kGe},
      {{"minimum", "of"}, CompareOp::kGe},
      {{"less", "than"}, CompareOp::kLt},
      {{"fewer", "than"}, CompareOp::kLt},
      {{"lower", "than"}, CompareOp::kLt},
      {{"smaller", "than"}, CompareOp::kLt},
      {{"cheaper", "than"}, CompareOp::kLt},
      {{"under"}, CompareOp::kLt},
      {{"below"}, CompareOp::kLt},
      {{"at", "most"}, CompareOp::kLe},
      {{"no", "more", "than"}, CompareOp::kLe},
      {{"up", "to"}, CompareOp::kLe},
      {{"maximum", "of"}, CompareOp::kLe},
      // Adjectives of a dimension: the column is the entity's own age, length, ...
      {{"older", "than"}, CompareOp::kGt, "age"},
      {{"younger", "than"}, CompareOp::kLt, "age"},
      {{"longer", "than"}, CompareOp::kGt, "length"},
      {{"shorter", "than"}, CompareOp::kLt, "length"},
      {{"taller", "than"}, CompareOp::kGt, "height"},
      {{"heavier", "than"}, CompareOp::kGt, "weight"},
      {{"lighter", "than"}, CompareOp::kLt, "weight"},
      {{"faster", "than"}, CompareOp::kGt, "speed"},
      {{"slower", "than"}, CompareOp::kLt, "speed"},
      {{"exactly"}, CompareOp::kEq},
      {{"equal", "to"}, CompareOp::kEq},
      {{"equals"}, CompareOp::kEq},
      {{">"}, CompareOp::kGt},
      {{">="}, CompareOp::kGe},
      {{"<"}, CompareOp::kLt},
      {{"<="}, CompareOp::kLe},
      {{"="}, CompareOp::kEq},
      {{"!="}, CompareOp::kNe},
      {{"<>"}, CompareOp::kNe},
  };
  return k;
}

const ByFirstWord<Comparator>& ComparatorsByFirstWord() {
  static const ByFirstWord<Comparator> index(Comparators());
  return index;
}

bool TextAt(const std::vector<Token>& t, size_t i, const std::vector<std::string_view>& words) {
  size_t k = i;
  for (auto w : words) {
    if (k >= t.size()) return false;
    if (t[k].kind != Token::Kind::kWord && t[k].kind != Token::Kind::kSymbol) return false;
    if (t[k].text != w) return false;
    ++k;
  }
  return true;
}

bool IsNumber(const std::vector<Token>& t, size_t i) {
  return i < t.size() && t[i].kind == Token::Kind::kNumber;
}

std::string SpanText(const std::vector<Token>& t, size_t b, size_t e) {
  std::string out;
  for (size_t k = b; k < e && k < t.size(); ++k) {
    if (!out.empty()) out += ' ';
    out += t[k].raw;
  }
  return out;
}

// The tagger: turns tokens into items, left to right, longest match first.
class Tagger {
 public:
  Tagger(const SchemaIndex& index, std::chrono::year_month_day today, int default_year = 0)
      : index_(index), today_(today), default_year_(default_year) {}

  std::vector<Item> Run(const std::vector<Token>& t) {
    // Each word's lookup forms once; the phrases starting at a word are looked up on first use.
    forms_.assign(t.size(), WordForms{});
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k].kind == Token::Kind::kWord)
        forms_[k] = WordFormsOf(t[k].raw, t[k].text);
      else if (t[k].kind == Token::Kind::kNumber)
        forms_[k] = WordFormsOf(t[k].raw, {});
    }
    matches_.assign(t.size(), std::nullopt);
    std::vector<Item> items;
    size_t i = 0;
    while (i < t.size()) {
      if (t[i].kind == Token::Kind::kQuoted && SplitQuotedName(t[i], i, &items)) {
        ++i;
        continue;
      }
      size_t used = 0;
      Item item;
      // "between 2024 and 2025" is a period unless a numeric column was just named.
      bool dates_first = YearsFollow(t, i) && !(!items.empty() && items.back().is_column() &&
                                                NumericMention(items.back()));
      // "ordered by", "in alphabetic order": a phrase of sorting is read as such before any
      // of its words names a table ("orders").
      auto sort_phrase = [&]() -> size_t {
        Item sort;
        size_t n = TryKeyword(t, i, &sort);
        if (n < 2 || (sort.kind != ItemKind::kSort && sort.kind != ItemKind::kDir)) return 0;
        // "ascending alphabetical order of surname": the direction, then "order of" names
        // the sort's column.
        if (sort.kind == ItemKind::kDir && i + n < t.size() && t[i + n - 1].text == "order" &&
            (t[i + n].text == "of" || t[i + n].text == "by"))
          --n;
        item = std::move(sort);
        return n;
      };
      if ((dates_first && (used = TryDate(t, i, &item))) || (used = TryTop(t, i, &item)) ||
          (used = TryComparator(t, i, &item)) || (used = TryDate(t, i, &item)) ||
          (used = sort_phrase()) || (used = TryMention(t, i, &item, /*strong=*/true)) ||
          (used = TryKeyword(t, i, &item)) || (used = TryMention(t, i, &item, false))) {
        item.begin = i;
        item.end = i + used;
        item.phrase = SpanText(t, i, i + used);
        item.right_after_and = i > 0 && (t[i - 1].text == "and" || t[i - 1].text == "or");
        items.push_back(std::move(item));
        i += used;
        continue;
      }
      const Token& tok = t[i];
      if (tok.kind == Token::Kind::kNumber) {
        Item n;
        n.kind = ItemKind::kTop;  // a bare count: "show 5 customers"
        n.n = CountOf(tok.number);
        n.nums = {tok.number};
        n.dir = 0;
        n.begin = i;
        n.end = i + 1;
        n.phrase = tok.raw;
        n.hint = "bare";
        n.integers = tok.integer;
        items.push_back(std::move(n));
      } else if (tok.kind == Token::Kind::kWord && i + 1 < t.size() && t[i + 1].text == "by" &&
                 IsPassiveVerb(tok.text)) {
        // "borrowed by members": the verb only relates the tables around it.
      } else if (tok.kind == Token::Kind::kWord && !IsStopWord(tok.text) && tok.text != "or" &&
                 tok.text != "and" && TryPertainym(tok, &items, i)) {
        // "Japanese customers": the adjective names a stored value ("Japan").
      } else if (tok.kind == Token::Kind::kWord && !IsStopWord(tok.text) && tok.text != "or" &&
                 tok.text != "and") {
        Item u;
        u.kind = ItemKind::kUnknown;
        u.begin = i;
        u.end = i + 1;
        u.phrase = tok.raw;
        items.push_back(std::move(u));
      }
      ++i;
    }
    MarkAlternatives(t, items);
    MarkSuperlativeAggregates(items);
    for (size_t k = 1; k < items.size(); ++k)
      for (size_t j = items[k - 1].end; j < items[k].begin && j < t.size(); ++j)
        items[k].and_before |= t[j].text == "and";
    return items;
  }

 private:
  // "the truck with the maximum load", "warehouses that have the minimum stock": after
  // "with" or "have", a maximum or minimum picks the rows that hold it (a superlative), not
  // the value per row.
  static void MarkSuperlativeAggregates(std::vector<Item>& items) {
    for (size_t k = 1; k < items.size(); ++k) {
      Item& item = items[k];
      if (item.kind != ItemKind::kAgg ||
          (item.agg != Aggregate::kMax && item.agg != Aggregate::kMin))
        continue;
      if (items[k - 1].kind != ItemKind::kWith) continue;
      item.kind = ItemKind::kSuperlative;
      item.dir = item.agg == Aggregate::kMax ? +1 : -1;
    }
  }

  // "priced under 10 or over 90", "a height over 5000 or a prominence over 1000": a condition
  // with "or" (and no "and") between it and the condition before it is an alternative to it.
  // So is a bare number after another: "aged 24 or 25".
  static void MarkAlternatives(const std::vector<Token>& t, std::vector<Item>& items) {
    // "or", and no "and" or "but", between the item before and this one.
    auto or_between = [&](const Item* before, const Item& item) {
      if (!before) return false;
      bool saw_or = false, saw_and = false;
      for (size_t k = before->end; k < item.begin && k < t.size(); ++k) {
        saw_or |= t[k].text == "or";
        saw_and |= t[k].text == "and" || t[k].text == "but";
      }
      return saw_or && !saw_and;
    };
    const Item* previous = nullptr;
    const Item* previous_number = nullptr;
    const Item* previous_value = nullptr;
    const Item* previous_period = nullptr;
    for (Item& item : items) {
      // Periods: "opened before 1995 or after 2010".
      if (item.kind == ItemKind::kDate) {
        item.or_previous = or_between(previous_period, item);
        previous_period = &item;
        continue;
      }
      if (item.is_value()) {
        // Values of two columns: "from Ohio or older than 60" is not this (a condition).
        item.or_previous = or_between(previous_value, item);
        previous_value = &item;
        continue;
      }
      if (item.kind == ItemKind::kTop && item.hint == "bare") {
        if (previous_number && previous_number->end < item.begin)
          item.or_previous = t[item.begin - 1].text == "or";
        previous_number = &item;
        continue;
      }
      if (item.kind != ItemKind::kNumCond) continue;
      if (previous) {
        item.or_previous = or_between(previous, item);
        item.right_after_or = item.or_previous && item.begin > 0 && t[item.begin - 1].text == "or";
      }
      previous = &item;
    }
  }

  // A column whose values repeat: at most half as many distinct values as rows.
  static bool Categorical(const ColumnEntry* c) {
    return c->distinct_values > 0 && c->table->row_count > 0 &&
           static_cast<int64_t>(c->distinct_values) * 2 <= c->table->row_count;
  }

  // "'Ada Lovelace'" stored as first and last name: a quoted text that is no stored value but
  // whose two words are values of two columns of one table is those two values.
  bool SplitQuotedName(const Token& tok, size_t i, std::vector<Item>* items) const {
    if (index_.LookupValue(NormalizeValueText(tok.text))) return false;
    std::vector<std::string> words;
    for (const std::string& w : text::Split(text::Trim(tok.text), ' '))
      if (!w.empty()) words.push_back(w);
    if (words.size() != 2) return false;
    const auto* first = index_.LookupValue(NormalizeValueText(words[0]));
    const auto* second = index_.LookupValue(NormalizeValueText(words[1]));
    if (!first || !second) return false;
    for (const ValueTarget& a : *first) {
      for (const ValueTarget& b : *second) {
        if (a.column == b.column || a.column->table != b.column->table) continue;
        for (const ValueTarget* v : {&a, &b}) {
          Item m;
          m.kind = ItemKind::kMention;
          m.values = {*v};
          m.begin = i;
          m.end = i + 1;
          m.phrase = v->value;
          items->push_back(std::move(m));
        }
        return true;
      }
    }
    return false;
  }

  size_t TryKeyword(const std::vector<Token>& t, size_t i, Item* item) {
    const Keyword* best = nullptr;
    for (const Keyword* k : KeywordsByFirstWord().At(t[i].text))
      if (TextAt(t, i, k->words) && (!best || k->words.size() > best->words.size())) best = k;
    if (!best) {
      // "hired first", "joined last": the earliest or latest by the date just named.
      bool at_end = true;  // only structure-free words follow ("hired first?")
      for (size_t k = i + 1; k < t.size(); ++k)
        if (t[k].kind != Token::Kind::kWord || !IsStopWord(t[k].text)) at_end = false;
      if (t[i].kind == Token::Kind::kWord && (t[i].text == "first" || t[i].text == "last") &&
          at_end && i > 0) {
        item->kind = ItemKind::kSuperlative;
        item->agg = t[i].text == "first" ? Aggregate::kMin : Aggregate::kMax;
        item->dir = t[i].text == "first" ? -1 : +1;
        item->hint = "date";
        return 1;
      }
      return 0;
    }
    const Keyword& k = *best;
    // "handled by employees": after a passive verb, "by" names the agent, not a grouping.
    if (k.kind == ItemKind::kGroup && k.words.size() == 1 && k.words[0] == "by" && i > 0 &&
        IsPassiveVerb(t[i - 1].text) &&
        (i + 1 >= t.size() || GrainWord(t[i + 1].text) == TimeGrain::kNone))
      return 0;
    item->kind = k.kind;
    item->agg = k.agg;
    item->dir = k.dir;
    item->hint = std::string(k.hint);
    item->grain = k.grain;
    size_t used = k.words.size();
    // "by month", "per year", "each quarter": a time grain.
    if (k.kind == ItemKind::kGroup && i + used < t.size()) {
      TimeGrain g = GrainWord(t[i + used].text);
      if (g != TimeGrain::kNone) {
        item->kind = ItemKind::kGrain;
        item->grain = g;
        return used + 1;
      }
    }
    return used;
  }

  static bool IsPassiveVerb(const std::string& w) {
    static const std::set<std::string_view> kVerbs = {
        "handled", "managed",  "placed",    "made",     "sold",      "bought",   "generated",
        "served",  "ordered",  "purchased", "created",  "written",   "owned",    "supplied",
        "taken",   "assigned", "covered",   "shipped",  "led",       "run",      "processed",
        "booked",  "taught",   "played",    "directed", "published", "produced", "won",
        "visited", "used",     "followed"};
    // Past participles in general: "borrowed by", "reviewed by".
    return kVerbs.contains(w) || (w.size() > 4 && w.ends_with("ed") && !IsGrainWordText(w));
  }

  static bool IsGrainWordText(const std::string& w) { return GrainWord(w) != TimeGrain::kNone; }

  static TimeGrain GrainWord(const std::string& w) {
    if (w == "year" || w == "years") return TimeGrain::kYear;
    if (w == "quarter" || w == "quarters") return TimeGrain::kQuarter;
    if (w == "month" || w == "months") return TimeGrain::kMonth;
    if (w == "week" || w == "weeks") return TimeGrain::kWeek;
    if (w == "day" || w == "days" || w == "date") return TimeGrain::kDay;
    return TimeGrain::kNone;
  }

  // "between 2024 and 2025", "after 2020": a comparison word followed by years only.
  static bool YearsFollow(const std::vector<Token>& t, size_t i) {
    auto year = [&](size_t k) {
      return k < t.size() && t[k].kind == Token::Kind::kNumber && t[k].integer &&
             t[k].raw.size() == 4 && t[k].number >= 1900 && t[k].number <= 2100;
    };
    return (TextAt(t, i, {"between"}) || TextAt(t, i, {"from"})) && year(i + 1) && year(i + 3);
  }
  static bool NumericMention(const Item& m) {
    for (const auto& tg : m.targets)
      if (tg.column && tg.column->is_numeric) return true;
    return false;
  }

  bool TryPertainym(const Token& tok, std::vector<Item>* items, size_t i) {
    for (const auto& noun : Pertainyms(tok.text)) {
      const auto* values = index_.LookupValue(NormalizeValueText(noun));
      if (!values) continue;
      Item v;
      v.kind = ItemKind::kMention;
      v.values = *values;
      v.begin = i;
      v.end = i + 1;
      v.phrase = tok.raw;
      items->push_back(std::move(v));
      return true;
    }
    return false;
  }

  size_t TryTop(const std::vector<Token>& t, size_t i, Item* item) {
    // "top 5", "first 10", "bottom 3", "the 5 most ...", "top" alone.
    if (t[i].kind != Token::Kind::kWord) return 0;
    const std::string& w = t[i].text;
    int dir = 0;
    if (w == "top" || w == "best")
      dir = +1;
    else if (w == "bottom" || w == "worst")
      dir = -1;
    else if (w == "first")
      dir = 0;
    else
      return 0;
    if (IsNumber(t, i + 1) && t[i + 1].integer && t[i + 1].number > 0) {
      item->kind = ItemKind::kTop;
      item->n = CountOf(t[i + 1].number);
      item->dir = dir;
      return 2;
    }
    if (w == "top" || w == "bottom") {
      if (i + 1 < t.size() && t[i + 1].text == "selling") return 0;  // "top selling"
      item->kind = ItemKind::kTop;
      item->n = 0;  // unspecified: singular/plural decides later
      item->dir = dir;
      return 1;
    }
    return 0;
  }

  size_t TryComparator(const std::vector<Token>& t, size_t i, Item* item) {
    // "between 10 and 20"
    if (TextAt(t, i, {"between"}) && IsNumber(t, i + 1) && TextAt(t, i + 2, {"and"}) &&
        IsNumber(t, i + 3)) {
      item->kind = ItemKind::kNumCond;
      item->op = CompareOp::kBetween;
      item->nums = {t[i + 1].number, t[i + 3].number};
      item->integers = t[i + 1].integer && t[i + 3].integer;
      return 4;
    }
    for (const Comparator* candidate : ComparatorsByFirstWord().At(t[i].text)) {
      const Comparator& c = *candidate;
      if (!TextAt(t, i, c.words)) continue;
      size_t k = i + c.words.size();
      // "more than the average", "above average": compared with the column's mean.
      size_t a = TextAt(t, k, {"the"}) ? k + 1 : k;
      if (c.op != CompareOp::kEq && (TextAt(t, a, {"average"}) || TextAt(t, a, {"mean"}))) {
        item->kind = ItemKind::kNumCond;
        item->op = c.op;
        item->hint = "average";
        return a + 1 - i;
      }
      if (!IsNumber(t, k)) continue;
      // Years after a comparator are dates ("after 2020" is handled by dates, "over 2020" is not).
      item->kind = ItemKind::kNumCond;
      item->op = c.op;
      item->hint = std::string(c.hint);
      item->nums = {t[k].number};
      item->integers = t[k].integer;
      return k + 1 - i;
    }
    // "products out of stock": none left of the quantity named next. Only the two words are
    // taken; the column stays a mention for the condition to compare.
    if (TextAt(t, i, {"out", "of"}) && i + 2 < t.size()) {
      Item next;
      if (TryMention(t, i + 2, &next, false) && NumericMention(next)) {
        item->kind = ItemKind::kNumCond;
        item->op = CompareOp::kLe;
        item->nums = {0};
        return 2;
      }
    }
    // "5 or more", "10 or fewer"
    if (IsNumber(t, i) && TextAt(t, i + 1, {"or"}) && i + 2 < t.size()) {
      const std::string& w = t[i + 2].text;
      CompareOp op;
      if (w == "more" || w == "greater" || w == "higher" || w == "above" || w == "over" ||
          w == "later" || w == "after" || w == "newer")
        op = CompareOp::kGe;
      else if (w == "less" || w == "fewer" || w == "lower" || w == "below" || w == "under" ||
               w == "earlier" || w == "before")
        op = CompareOp::kLe;
      else
        return 0;
      item->kind = ItemKind::kNumCond;
      item->op = op;
      item->nums = {t[i].number};
      item->integers = t[i].integer;
      return 3;
    }
    return 0;
  }

  size_t TryDate(const std::vector<Token>& t, size_t i, Item* item) {
    DateRange r;
    size_t used = ParseDateExpression(t, i, today_, default_year_, &r);
    if (!used) return 0;
    item->kind = ItemKind::kDate;
    item->date = r;
    return used;
  }

  // Tables, columns and values. `strong` accepts only multi-word or value matches, so that
  // keywords ("total", "count") win over weak one-word schema names.
  size_t TryMention(const std::vector<Token>& t, size_t i, Item* item, bool strong) {
    if (t[i].kind == Token::Kind::kQuoted) {
      if (!strong) return 0;
      item->kind = ItemKind::kMention;
      if (auto* v = index_.LookupValue(NormalizeValueText(t[i].text)))
        item->values = *v;
      else
        item->quoted = t[i].text;
      return 1;
    }
    if (t[i].kind != Token::Kind::kWord && t[i].kind != Token::Kind::kNumber) return 0;
    const std::vector<PhraseMatch>& matches = MatchesAt(t, i);
    for (size_t len = matches.size(); len >= 1; --len) {
      const auto* values = matches[len - 1].values;
      const auto* targets = matches[len - 1].targets;
      int best_quality = 0;
      if (targets)
        for (const auto& tg : *targets) best_quality = std::max(best_quality, tg.quality);
      if (values && targets) {
        // Both: a capitalised or multi-word value beats a weak schema name.
        bool prefer_value = best_quality < kExact || (t[i].capitalized && i > 0) || len > 1;
        if (prefer_value)
          targets = nullptr;
        else
          values = nullptr;
      }
      if (values) {
        if (len == 1 && IsStopWord(t[i].text)) continue;
        // An unquoted "no" is a negation, not the value of a yes/no column.
        if (len == 1 && t[i].text == "no") continue;
        item->kind = ItemKind::kMention;
        item->values = *values;
        return len;
      }
      if (targets) {
        if (strong && len == 1 && best_quality < kExact) continue;
        // Stop words name only a column of exactly that name; "details" also the head of one
        // ("project_details").
        const bool details = t[i].text == "details" || t[i].text == "detail";
        if (len == 1 && IsStopWord(t[i].text) && best_quality < (details ? kHead : kExact))
          continue;
        item->kind = ItemKind::kMention;
        item->targets = *targets;
        std::stable_sort(
            item->targets.begin(), item->targets.end(),
            [](const SchemaTarget& a, const SchemaTarget& b) { return a.quality > b.quality; });
        // "fuel type" naming both the table fuel_type and its column fueltype: the column, the
        // more specific of the two, when it sorts the rows into a few kinds (not when it names
        // each row).
        if (len > 1 && item->targets.size() > 1 && !item->targets[0].column) {
          const SchemaTarget top = item->targets[0];
          auto own = std::find_if(
              item->targets.begin() + 1, item->targets.end(), [&](const SchemaTarget& tg) {
                return tg.column && tg.table == top.table && tg.column != top.table->label &&
                       tg.quality == top.quality && Categorical(tg.column);
              });
          if (own != item->targets.end()) std::rotate(item->targets.begin(), own, own + 1);
        }
        return len;
      }
      if (len == 1) break;
    }
    return 0;
  }

  // What the phrase of some length starting at a token names: stored values (looked up by
  // their text, then by its lemmas) and, when all its tokens are words, schema elements.
  struct PhraseMatch {
    const std::vector<ValueTarget>* values = nullptr;
    const std::vector<SchemaTarget>* targets = nullptr;
  };

  // The phrases of words and numbers starting at token i, longest up to the longest stored value
  // (at least 4 words), indexed by length - 1. Looked up once per question and start: the strong
  // and the weak reading, and a comparator's look ahead, ask for the same phrases.
  const std::vector<PhraseMatch>& MatchesAt(const std::vector<Token>& t, size_t i) {
    assert(forms_.size() == t.size() && matches_.size() == t.size());
    std::optional<std::vector<PhraseMatch>>& memo = matches_[i];
    if (memo) return *memo;
    memo.emplace();
    const size_t max_len =
        std::min<size_t>(t.size() - i, std::max<size_t>(index_.longest_value_words(), 4));
    PhraseForms phrase;
    bool all_words = true;
    for (size_t len = 1; len <= max_len; ++len) {
      const Token& last = t[i + len - 1];
      // A phrase holds words and numbers only, so no longer one does either.
      if (last.kind != Token::Kind::kWord && last.kind != Token::Kind::kNumber) break;
      all_words = all_words && last.kind == Token::Kind::kWord;
      phrase.Append(forms_[i + len - 1]);
      PhraseMatch m;
      // Values first: a stored value names its column precisely.
      m.values = index_.LookupValue(phrase.value_text);
      if (!m.values) m.values = index_.LookupValue(phrase.lemmatized);
      if (all_words) {
        m.targets = index_.LookupPhrase(phrase.key);
        if (!m.targets && len == 2) {
          // "sign up" for a column named "signup".
          m.targets = index_.LookupPhrase(Key(Lemma(t[i].text) + t[i + 1].text));
        }
      }
      memo->push_back(m);
    }
    return *memo;
  }

  const SchemaIndex& index_;
  std::chrono::year_month_day today_;
  int default_year_;
  // Per question (Run): each token's lookup forms, and the phrases starting at each token once
  // MatchesAt has looked them up.
  std::vector<WordForms> forms_;
  std::vector<std::optional<std::vector<PhraseMatch>>> matches_;
};

// A predicate from its parts (the IR's other fields left at their defaults).
sql::Predicate Pred(Expr lhs, CompareOp op, std::vector<db::Value> values, bool case_insensitive,
                    std::string phrase) {
  sql::Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  p.case_insensitive = case_insensitive;
  p.phrase = std::move(phrase);
  return p;
}

ColumnRef Ref(const ColumnEntry* c) { return ColumnRef{c->table->name, c->column->name}; }

bool SameTable(const std::string& a, const std::string& b) { return text::EqualsIgnoreCase(a, b); }

// Assembles items into a query.
class Builder {
 public:
  Builder(const SchemaIndex& index, std::vector<Item> items, const sql::Query* previous,
          bool sold = false, bool additive = false)
      : index_(index),
        items_(std::move(items)),
        previous_(previous),
        prefer_fact_(sold),
        additive_(additive) {}

  // follow_up: edit the previous query instead of building a new one.
  Result<Understanding> Build(bool follow_up);
  // The question says "both": two values of one column joined by "and" ask for the rows that
  // have each ("ranks of captains in both classes A and B"), not for either.
  Builder& WithBoth(bool both) {
    both_ = both;
    return *this;
  }
  // The question's words, for cues that no item carries ("common to", "either ... or").
  Builder& WithTokens(const std::vector<Token>* tokens) {
    tokens_ = tokens;
    return *this;
  }

 private:
  // Resolution helpers.
  void CollectMentionedTables();
  const ColumnEntry* PickColumn(const Item& m, bool want_numeric = false,
                                bool want_temporal = false) const;
  const TableEntry* PickTable(const Item& m) const;
  const ValueTarget* PickValue(const Item& m) const;
  const ColumnEntry* ColumnForHint(const TableEntry* t, const std::string& hint) const;
  // The table's date column, or one of a table it references (up to two steps away).
  const ColumnEntry* DateOf(const TableEntry* t, int depth = 0) const;
  Item* Next(size_t k, bool skip_with = true);
  // The unused "not" a filter at item k is under: right before it, or before the verb ("do
  // not have") and the column ("not located in Tokyo", "not majoring in 600") that lead to it.
  Item* NegationBefore(size_t k);
  Item* Prev(size_t k);
  void Consume(Item* it) {
    if (it) it->used = true;
  }

  // Phases.
  void ReadNamedNumbers();
  void MeasureListed(const Item* column, Aggregate agg);
  Result<void> ReadGroups();
  Result<void> ReadMeasures();
  Result<void> ReadRanking();
  Result<void> ReadConditions();
  Result<void> ReadFilters();
  Result<void> ReadAbsence();
  std::optional<sql::Query> SharedColumn();
  Result<void> BothValues(sql::Query& q);
  Result<void> DisjointRanges(sql::Query& q);
  void AntiJoinNegations(sql::Query& q);
  Result<void> ReadSort();
  Result<void> Assemble();
  Result<void> ApplyFollowUp();
  void MergeMentions();
  void ReadUnindexedValues();
  Result<void> FinishJoins(sql::Query& q);
  void ChooseForeignKeysByRole(sql::Query& q);
  Result<Expr> DefaultRankMeasure(const TableEntry* entity);
  std::vector<Expr> EntityKeys(const TableEntry* t) const;
  Error NotUnderstood(const std::string& why) const;
  // How many rows of a related table: its single-column key once each, else (a key of several
  // columns, or none) its rows through a column every joined row has. Never COUNT(*), which
  // FinishJoins rewrites to count the main table's rows when the joins fan out.
  Expr RowsOf(const TableEntry* t) const {
    size_t key_columns = 0;
    for (const auto& c : t->table->columns) key_columns += c.primary_key ? 1 : 0;
    if (t->primary_key && key_columns == 1)
      return Expr::Agg(Aggregate::kCountDistinct, Ref(t->primary_key));
    if (!t->table->foreign_keys.empty())
      return Expr::Agg(Aggregate::kCount,
                       ColumnRef{t->table->name, t->table->foreign_keys.front().column});
    if (t->primary_key) return Expr::Agg(Aggregate::kCount, Ref(t->primary_key));
    return Expr::CountStar();
  }
  // A column whose values add up per entity: its table's main amount, or named by a word of
  // revenue or of selling.
  bool IsTotalMeasure(const ColumnEntry* c, const std::string& phrase) const {
    const TableEntry* t = index_.FindTable(c->table->name);
    return prefer_fact_ || ImpliesTotal(phrase) || (t && t->money == c && t->money_rank >= 2);
  }
  // A number a table holds under its own name ("degrees" in the table degrees): what "how
  // many degrees" adds up, rather than the rows.
  const ColumnEntry* Namesake(const TableEntry* t) const {
    if (!t) return nullptr;
    for (const ColumnEntry* c : t->columns)
      if (c->is_numeric && !c->is_key && c->words.size() == t->words.size() &&
          std::equal(c->words.begin(), c->words.end(), t->words.begin(),
                     [](const std::string& a, const std::string& b) { return Key(a) == Key(b); }))
        return c;
    return nullptr;
  }
  // Signals of the reading and of the query, for the confidence model (confidence.h).
  std::vector<double> Features(const sql::Query& q, size_t unknown) const;

  const SchemaIndex& index_;
  std::vector<Item> items_;
  const sql::Query* previous_;
  bool prefer_fact_;  // "sold", "bought": quantities of transactions, not of stock
  bool additive_;     // "too", "also", "as well": a follow-up adds values instead of replacing

  std::set<const TableEntry*> mentioned_;
  const TableEntry* subject_ = nullptr;
  // Partial interpretation.
  std::vector<sql::SelectItem> measures_;
  std::vector<Expr> groups_;
  std::vector<const TableEntry*> group_tables_;  // grouped entities (select their label)
  std::set<const TableEntry*> per_tables_;       // of those, named after "per"
  bool both_ = false;
  const std::vector<Token>* tokens_ = nullptr;
  std::optional<ColumnRef> both_column_;  // the column whose two values both must hold
  // Filters of the form "no related row" (ReadAbsence): index into where_, and the entity.
  std::vector<std::pair<size_t, const TableEntry*>> absences_;
  TimeGrain grain_ = TimeGrain::kNone;
  const ColumnEntry* grain_column_ = nullptr;
  std::vector<sql::Predicate> where_;
  std::vector<sql::Predicate> having_;
  std::vector<sql::OrderItem> order_;
  std::optional<int64_t> limit_;
  bool distinct_ = false;
  bool everything_ = false;  // every column of the listed rows
  std::vector<const ColumnEntry*> projection_;
  std::vector<const TableEntry*> extra_tables_;  // tables that must be joined
  // Ranking ("top 5 customers by revenue").
  const Item* top_ = nullptr;
  double confidence_ = 1.0;
  std::vector<std::string> notes_;
  int direction_ = 0;
  bool alpha_ = false;
  std::optional<Expr> projection_order_;  // a ranked attribute to show beside the rows
  std::optional<sql::Query> result_;
  std::optional<sql::Predicate> numeric_edit_;  // a follow-up's bare "more than 400"
  bool follow_up_ = false;
  Item* entity_item_for_condition_ = nullptr;
};

void Builder::CollectMentionedTables() {
  for (const auto& it : items_) {
    if (it.kind != ItemKind::kMention) continue;
    if (!it.values.empty() && it.values.size() == 1)
      mentioned_.insert(index_.FindTable(it.values[0].column->table->name));
    if (it.kind == ItemKind::kMention && it.targets.empty()) continue;
    if (IsSoldWord(it.phrase)) prefer_fact_ = true;
    if (!it.targets.empty()) {
      int q = it.targets[0].quality;
      for (const auto& tg : it.targets)
        if (tg.quality == q && !tg.column) mentioned_.insert(tg.table);
    }
  }
  for (const auto& it : items_)
    if (it.kind == ItemKind::kUnknown && IsSoldWord(it.phrase)) prefer_fact_ = true;
  if (previous_ && follow_up_) {
    for (const auto& name : previous_->OwnTables())
      if (const auto* t = index_.FindTable(name)) mentioned_.insert(t);
  }
}

const TableEntry* Builder::PickTable(const Item& m) const {
  for (const auto& tg : m.targets)
    if (!tg.column) return tg.table;
  return nullptr;
}

const ColumnEntry* Builder::PickColumn(const Item& m, bool want_numeric, bool want_temporal) const {
  const ColumnEntry* best = nullptr;
  int best_score = -1;
  for (const auto& tg : m.targets) {
    if (!tg.column) continue;
    int score = tg.quality * 10;
    if (mentioned_.contains(tg.table)) score += 25;
    if (subject_ == tg.table) score += 4;
    if (want_numeric && tg.column->is_numeric) score += 6;
    if (want_temporal && tg.column->is_temporal) score += 6;
    if (tg.column->is_key) score -= 3;
    // Between equals, the column that names the table's rows ("the name of the player":
    // player_name, not sponsor_name).
    if (tg.column == tg.table->label) score += 2;
    if (prefer_fact_ && tg.column->is_numeric && !index_.IsReferenced(tg.table->table->name))
      score += 30;
    // Otherwise, between equals, the entity's own column (products.unit_price, its list
    // price) over a transaction's copy of it (order_items.unit_price): a tie must not be
    // settled by the order in which a database lists its tables.
    if (!prefer_fact_ && index_.IsReferenced(tg.table->table->name)) score += 1;
    if (score > best_score) {
      best_score = score;
      best = tg.column;
    }
  }
  return best;
}

const ValueTarget* Builder::PickValue(const Item& m) const {
  const ValueTarget* best = nullptr;
  int best_score = -1;
  for (const auto& v : m.values) {
    int score = 0;
    if (mentioned_.contains(index_.FindTable(v.column->table->name))) score += 10;
    // Fewer distinct values: a more categorical column ("country" over "city").
    score += static_cast<int>(5 - std::min<size_t>(5, v.column->distinct_values / 50));
    if (score > best_score) {
      best_score = score;
      best = &v;
    }
  }
  return best;
}

const ColumnEntry* Builder::ColumnForHint(const TableEntry* t, const std::string& hint) const {
  if (!t) return nullptr;
  if (hint == "date") return t->date;
  // A dimension: the numeric column named by it (or a word for it).
  static const std::map<std::string, std::vector<std::string>> kDimensions = {
      {"age", {"age"}},
      {"length", {"length", "long", "distance", "duration"}},
      {"height", {"height", "tall"}},
      {"weight", {"weight"}},
      {"speed", {"speed", "velocity"}},
  };
  if (auto d = kDimensions.find(hint); d != kDimensions.end()) {
    for (const auto& word : d->second)
      for (const ColumnEntry* c : t->columns)
        if (c->is_numeric && std::find(c->words.begin(), c->words.end(), word) != c->words.end())
          return c;
    // A column named just for the dimension ("age") even when declared as text.
    for (const ColumnEntry* c : t->columns)
      if (c->is_text && c->words.size() == 1 && c->words[0] == hint) return c;
    return nullptr;
  }
  if (hint == "price") {
    for (const ColumnEntry* c : t->columns)
      if (c->is_numeric && std::find(c->words.begin(), c->words.end(), "price") != c->words.end())
        return c;
    for (const ColumnEntry* c : t->columns) {
      if (!c->is_numeric) continue;
      for (const auto& w : c->words)
        if (w == "cost" || w == "fee" || w == "amount") return c;
    }
    return t->money;
  }
  return nullptr;
}

const ColumnEntry* Builder::DateOf(const TableEntry* t, int depth) const {
  if (!t) return nullptr;
  if (t->date) return t->date;
  if (depth >= 2) return nullptr;
  for (const auto& fk : t->table->foreign_keys) {
    const TableEntry* parent = index_.FindTable(fk.ref_table);
    if (parent && parent != t)
      if (const ColumnEntry* c = DateOf(parent, depth + 1)) return c;
  }
  return nullptr;
}

Item* Builder::Next(size_t k, bool skip_with) {
  for (size_t j = k + 1; j < items_.size(); ++j) {
    if (items_[j].used) continue;
    if (skip_with && items_[j].kind == ItemKind::kWith) continue;
    return &items_[j];
  }
  return nullptr;
}

Item* Builder::NegationBefore(size_t k) {
  bool column_seen = false;
  for (size_t j = k; j-- > 0;) {
    Item& m = items_[j];
    if (m.kind == ItemKind::kNot) return m.used ? nullptr : &m;
    if (m.kind == ItemKind::kWith) continue;
    if (m.is_column() && !column_seen) {
      column_seen = true;
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

Item* Builder::Prev(size_t k) {
  for (size_t j = k; j-- > 0;) {
    if (items_[j].kind == ItemKind::kWith) continue;
    return &items_[j];
  }
  return nullptr;
}

Error Builder::NotUnderstood(const std::string& why) const {
  std::vector<std::string> recognised, unknown, unknown_words;
  for (const auto& it : items_) {
    if (it.kind == ItemKind::kUnknown) {
      unknown.push_back("'" + it.phrase + "'");
      unknown_words.push_back(it.phrase);
    } else if (it.kind == ItemKind::kMention) {
      if (!it.values.empty())
        recognised.push_back(fmt::format("'{}' ({}.{})", it.values[0].value,
                                         it.values[0].column->table->name,
                                         it.values[0].column->column->name));
      else if (!it.targets.empty() && it.targets[0].column)
        recognised.push_back(fmt::format("column {}.{}", it.targets[0].table->table->name,
                                         it.targets[0].column->column->name));
      else if (!it.targets.empty())
        recognised.push_back("table " + it.targets[0].table->table->name);
    }
  }
  // The message names the first dozen tables; the details name them all (up to a bound).
  constexpr size_t kTablesInMessage = 12;
  constexpr size_t kTablesInDetails = 200;
  std::vector<std::string> tables, all_tables;
  for (const auto& t : index_.tables()) {
    if (all_tables.size() == kTablesInDetails) break;
    all_tables.push_back(t.table->name);
    if (tables.size() < kTablesInMessage) tables.push_back(t.table->name);
  }
  if (index_.tables().size() > kTablesInMessage) tables.push_back("...");
  std::string msg = "I could not turn this question into SQL with confidence: " + why + ".";
  if (!recognised.empty()) msg += " I recognised " + text::Join(recognised, ", ") + ".";
  if (!unknown.empty()) msg += " I did not understand " + text::Join(unknown, ", ") + ".";
  msg += " This database has the tables " + text::Join(tables, ", ") +
         "; try naming a table or column, e.g. \"how many <table> are there\" or \"<measure> by "
         "<column>\".";
  Error error(ErrorCode::kNotUnderstood, msg);
  error.details = {
      {"recognised", recognised}, {"unknown_words", unknown_words}, {"tables", all_tables}};
  return error;
}

std::vector<Expr> Builder::EntityKeys(const TableEntry* t) const {
  std::vector<Expr> keys;
  if (t->primary_key) keys.push_back(Expr::Col(Ref(t->primary_key)));
  if (t->label) keys.push_back(Expr::Col(Ref(t->label)));
  if (t->second_label) keys.push_back(Expr::Col(Ref(t->second_label)));
  if (keys.empty() && !t->columns.empty()) keys.push_back(Expr::Col(Ref(t->columns[0])));
  return keys;
}

// "by country", "per customer", "by month".
// "markets with a number of cities below 300" where a column is called number_cities: the
// words name that column, not a count. Read before the conditions and measures.
void Builder::ReadNamedNumbers() {
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& it = items_[k];
    Item& following = items_[k + 1];
    if (it.used || it.kind != ItemKind::kAgg || it.agg != Aggregate::kCount ||
        it.phrase.ends_with(" and") || following.used || !following.is_column() ||
        following.begin != it.end)
      continue;
    auto named = std::find_if(following.targets.begin(), following.targets.end(),
                              [&](const SchemaTarget& tg) {
                                if (!tg.column) return false;
                                const auto& w = tg.column->words;
                                return tg.column->is_numeric && w.size() == 2 &&
                                       (w[0] == "number" || w[0] == "num" || w[0] == "no") &&
                                       Key(w[1]) == Key(text::ToLower(following.phrase));
                              });
    if (named == following.targets.end()) continue;
    // One mention of the column, spanning its words, so that a sort by it ("order of number
    // of ...") finds it right after the order.
    following.targets = {*named};
    following.begin = it.begin;
    following.phrase = it.phrase + " " + following.phrase;
    it.used = true;
  }
}

Result<void> Builder::ReadGroups() {
  ReadNamedNumbers();
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used) continue;
    if (it.kind == ItemKind::kGrain) {
      it.used = true;
      grain_ = it.grain;
      // A date column named right before ("order date by month") or after.
      Item* prev = k > 0 ? &items_[k - 1] : nullptr;
      if (prev && prev->is_column() && !prev->used) {
        if (const ColumnEntry* c = PickColumn(*prev, false, true); c && c->is_temporal) {
          grain_column_ = c;
          prev->used = true;
        }
      }
      continue;
    }
    if (it.kind != ItemKind::kGroup) continue;
    // "all the information about each airport": "each" only says every row is listed.
    if (k > 0 && items_[k - 1].kind == ItemKind::kEverything) {
      it.used = true;
      continue;
    }
    Item* next = Next(k, false);
    if (next && next->kind == ItemKind::kAgg) continue;  // "by number of loans": a ranking
    if (!next || next->kind != ItemKind::kMention || next->is_value()) {
      it.used = true;  // "each" without a target is just a word
      continue;
    }
    if (next->is_column()) {
      const ColumnEntry* c = PickColumn(*next);
      if (!c) continue;
      // "by revenue" after a ranking is an order, not a grouping: leave it for ReadRanking.
      if (c->is_numeric) continue;
      it.used = next->used = true;
      if (c->is_temporal) {
        grain_column_ = c;
        if (grain_ == TimeGrain::kNone) grain_ = TimeGrain::kDay;
        continue;
      }
      groups_.push_back(Expr::Col(Ref(c)));
      continue;
    }
    if (next->is_table()) {
      const TableEntry* t = PickTable(*next);
      it.used = next->used = true;
      if (text::ToLower(it.phrase) == "per") per_tables_.insert(t);
      group_tables_.push_back(t);
      for (auto& e : EntityKeys(t)) groups_.push_back(e);
    }
  }
  return {};
}

// "how many orders", "total revenue", "average price of products", "number of different cities".
// "the average weight and price", "the lowest rent, deposit and fee": a measure applies to
// each numeric column listed right after the column it was said of.
void Builder::MeasureListed(const Item* column, Aggregate agg) {
  for (size_t j = static_cast<size_t>(column - items_.data()) + 1; j < items_.size(); ++j) {
    Item& m = items_[j];
    const Item& before = items_[j - 1];
    const bool listed = m.begin == before.end || (m.begin == before.end + 1 && m.right_after_and);
    if (m.used || !listed || !m.is_column() || m.is_value()) break;
    const ColumnEntry* c = PickColumn(m, true);
    if (!c || !c->is_numeric || c->is_flag || c->column->primary_key) break;
    m.used = true;
    measures_.push_back({Expr::Agg(agg, Ref(c)), ""});
  }
}

Result<void> Builder::ReadMeasures() {
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& it = items_[k];
    Item& following = items_[k + 1];
    if (it.used || it.kind != ItemKind::kAgg || following.used ||
        following.kind != ItemKind::kAgg || following.agg != Aggregate::kCount)
      continue;
    // "count the number of programs": one count said twice.
    if (it.agg == Aggregate::kCount) {
      it.used = true;
      continue;
    }
    // "the average number of bedrooms" where the number is a column: the average of it.
    if (const Item* after = k + 2 < items_.size() ? &items_[k + 2] : nullptr;
        after && after->is_column() && !following.phrase.ends_with(" and")) {
      const ColumnEntry* c = PickColumn(*after, true);
      if (c && c->is_numeric) following.used = true;
    }
  }
  // "how many staff are there in total": "total" closing a count adds nothing.
  const bool counts = std::any_of(items_.begin(), items_.end(), [](const Item& m) {
    return m.kind == ItemKind::kAgg && m.agg == Aggregate::kCount && !m.used;
  });
  if (counts && !items_.empty()) {
    Item& last = items_.back();
    if (!last.used && last.kind == ItemKind::kAgg && text::ToLower(last.phrase) == "total")
      last.used = true;
  }
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kAgg) continue;
    // "the average, minimum and maximum price": several measures of one column.
    if (it.agg != Aggregate::kCount) {
      std::vector<Item*> chain = {&it};
      size_t j = k + 1;
      for (; j < items_.size(); ++j) {
        Item& m = items_[j];
        if (m.used) continue;
        const bool aggregate = m.kind == ItemKind::kAgg && m.agg != Aggregate::kCount;
        const bool superlative = m.kind == ItemKind::kSuperlative && m.hint.empty() &&
                                 (m.agg == Aggregate::kMax || m.agg == Aggregate::kMin);
        if (!aggregate && !superlative) break;
        chain.push_back(&m);
      }
      if (chain.size() > 1 && j < items_.size() && items_[j].is_column() && !items_[j].used) {
        const ColumnEntry* c = PickColumn(items_[j], true);
        // The smallest and largest of any column; sums and averages of numbers only.
        const bool ordered_only = std::all_of(chain.begin(), chain.end(), [](const Item* m) {
          return m->agg == Aggregate::kMin || m->agg == Aggregate::kMax;
        });
        if (c && (c->is_numeric || (ordered_only && !c->is_flag))) {
          for (Item* m : chain) {
            m->used = true;
            measures_.push_back({Expr::Agg(m->agg, Ref(c)), ""});
          }
          items_[j].used = true;
          continue;
        }
      }
    }
    Item* next = Next(k, false);
    bool distinct = false;
    if (next && next->kind == ItemKind::kDistinct) {
      distinct = true;
      next->used = true;
      next = Next(static_cast<size_t>(next - items_.data()), false);
    }
    if (it.agg == Aggregate::kCount && it.phrase.ends_with(" and")) {
      // "the number and mean salary of employees": a count of the rows beside the other
      // measure; otherwise "number" ends a name ("phone number and email") and means nothing.
      it.used = true;
      if (next && next->kind == ItemKind::kAgg && next->agg != Aggregate::kCount)
        measures_.push_back({Expr::CountStar(), ""});
      continue;
    }
    if (it.agg == Aggregate::kCount) {
      // "how many purple books": an unknown word in between stays unknown (and lowers the
      // confidence) but does not hide the counted table.
      while (next && next->kind == ItemKind::kUnknown) {
        Item* after = Next(static_cast<size_t>(next - items_.data()), false);
        if (!after || !after->is_table()) break;
        next = after;
      }
      if (next && next->is_table()) {
        const TableEntry* t = PickTable(*next);
        // "number of orders" after a ranking word is handled by the ranking.
        it.used = next->used = true;
        if (!subject_) subject_ = t;
        if (const ColumnEntry* n = Namesake(t); n && !distinct) {
          measures_.push_back({Expr::Agg(Aggregate::kSum, Ref(n)), ""});
          continue;
        }
        measures_.push_back({Expr::CountStar(), "count"});
        if (subject_ != t) extra_tables_.push_back(t);
        if (distinct) notes_.push_back("counted rows");
        continue;
      }
      if (next && next->is_column()) {
        const ColumnEntry* c = PickColumn(*next);
        it.used = next->used = true;
        if (c->is_numeric && !distinct) {
          // "how many units": a quantity is added up, not counted.
          measures_.push_back({Expr::Agg(Aggregate::kSum, Ref(c)), ""});
          continue;
        }
        measures_.push_back(
            {Expr::Agg(distinct || !c->column->primary_key ? Aggregate::kCountDistinct
                                                           : Aggregate::kCount,
                       Ref(c)),
             ""});
        continue;
      }
      // "how many delivered orders": the table follows the value; "how many sales managers
      // are there": the value's own table is counted.
      if (next && next->is_value()) {
        Item* after = Next(static_cast<size_t>(next - items_.data()), false);
        const TableEntry* t = nullptr;
        if (after && after->is_table()) {
          t = PickTable(*after);
          after->used = true;
        } else if (const ValueTarget* v = PickValue(*next); v && !after) {
          t = index_.FindTable(v->column->table->name);
        } else {
          // "how many tenured lecturers are there": values alone, and the one table that
          // holds them all is what is counted (no table named anywhere after the count).
          std::set<const TableEntry*> common;
          bool first = true;
          for (size_t j = static_cast<size_t>(next - items_.data()); j < items_.size(); ++j) {
            const Item& m = items_[j];
            if (m.used) continue;
            if (m.is_table()) {
              common.clear();
              break;
            }
            if (m.values.empty()) continue;
            std::set<const TableEntry*> here;
            for (const auto& value : m.values)
              here.insert(index_.FindTable(value.column->table->name));
            if (first) {
              common = std::move(here);
              first = false;
            } else {
              std::erase_if(common, [&](const TableEntry* x) { return !here.contains(x); });
            }
          }
          if (common.size() == 1) {
            t = *common.begin();
            mentioned_.insert(t);  // the values are read in it
          }
        }
        if (t) {
          it.used = true;
          if (!subject_) subject_ = t;
          measures_.push_back({Expr::CountStar(), "count"});
          continue;
        }
      }
      if (!next) {
        // "how many are there?" in a follow-up: count the previous rows.
        it.used = true;
        measures_.push_back({Expr::CountStar(), "count"});
        continue;
      }
      continue;
    }
    auto measure_listed = [&](const Item* column) { MeasureListed(column, it.agg); };
    // SUM / AVG / MIN / MAX over a column, or over a table's main measure.
    if (next && next->is_table()) {
      Item* after = Next(static_cast<size_t>(next - items_.data()), false);
      const TableEntry* t = PickTable(*next);
      if (after && after->is_column()) {
        const ColumnEntry* c = PickColumn(*after, true);
        if (c && c->is_numeric) {
          it.used = next->used = after->used = true;
          measures_.push_back({Expr::Agg(it.agg, Ref(c)), ""});
          measure_listed(after);
          continue;
        }
      }
      if (t->money) {
        it.used = next->used = true;
        measures_.push_back({Expr::Agg(it.agg, Ref(t->money)), ""});
        notes_.push_back(
            fmt::format("took {} as the measure of {}", t->money->column->name, t->table->name));
        confidence_ *= 0.9;
        continue;
      }
    }
    if (next && next->is_column()) {
      const ColumnEntry* c = PickColumn(*next, true);
      if (c && (c->is_numeric || it.agg == Aggregate::kMin || it.agg == Aggregate::kMax)) {
        it.used = next->used = true;
        measures_.push_back({Expr::Agg(it.agg, Ref(c)), ""});
        if (c->is_numeric) measure_listed(next);
        continue;
      }
    }
  }
  return {};
}

// The measure that ranks an entity when the question names none ("top 10 customers").
Result<Expr> Builder::DefaultRankMeasure(const TableEntry* entity) {
  // The entity's own amount ("the 10 largest orders"), else the total of a table that
  // references it and carries an amount ("top 10 customers": by what they spent).
  if (entity->money) return Expr::Col(Ref(entity->money));
  for (const auto& t : index_.tables()) {
    if (&t == entity || !t.money || t.money_rank < 2) continue;
    for (const auto& fk : t.table->foreign_keys) {
      if (SameTable(fk.ref_table, entity->table->name)) {
        extra_tables_.push_back(&t);
        notes_.push_back(fmt::format("ranked {} by total {}", entity->table->name,
                                     sql::HumanName(t.money->column->name)));
        return Expr::Agg(Aggregate::kSum, Ref(t.money));
      }
    }
  }
  return std::unexpected(NotUnderstood(
      fmt::format("I do not know what to rank {} by; say e.g. \"top 5 {} by <column>\"",
                  entity->table->name, entity->table->name)));
}

// "top 5 customers by revenue", "the most expensive product", "which customer has the most
// orders", "the 10 largest orders", "what is the highest salary".
Result<void> Builder::ReadRanking() {
  auto entity_like = [&](const Item* m) {
    if (!m || m->used || m->kind != ItemKind::kMention || m->is_value()) return false;
    if (m->is_table()) return true;
    const ColumnEntry* c = PickColumn(*m);
    return c && !c->is_numeric && !c->is_temporal && !c->is_flag;
  };
  auto index_of = [&](const Item* m) { return static_cast<size_t>(m - items_.data()); };
  // Bare numbers first: "the 10 most expensive products", "which 5 countries had the highest
  // revenue" give their count to the ranking; "show 5 customers" is a plain limit.
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kTop || it.hint != "bare") continue;
    Item* next = Next(k, false);
    if (next && next->kind == ItemKind::kSuperlative) {
      next->n = it.n;
      it.used = true;
      continue;
    }
    if (entity_like(next)) {
      bool ranked = false;
      for (size_t j = index_of(next) + 1; j < items_.size() && !ranked; ++j) {
        if (!items_[j].used && items_[j].kind == ItemKind::kSuperlative) {
          items_[j].n = it.n;
          ranked = true;
        }
      }
      if (ranked || (next->is_table() && next->begin == it.end)) {
        if (!ranked) limit_ = it.n;
        it.used = true;
      }
    }
  }
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used) continue;
    if (it.kind != ItemKind::kTop && it.kind != ItemKind::kSuperlative) continue;
    if (it.kind == ItemKind::kTop && it.hint == "bare") continue;
    it.used = true;
    const bool is_top = it.kind == ItemKind::kTop;
    int dir = it.dir;
    int64_t n = it.n;
    Item* sup = is_top ? nullptr : &it;
    Item* next = Next(k, false);
    if (is_top && next && next->kind == ItemKind::kSuperlative) {
      sup = next;
      next->used = true;
      dir = next->dir;
      next = Next(index_of(next), false);
    }
    // What is ranked. After "top N" or an implied-column superlative ("cheapest products") the
    // entity follows; after "the most"/"the highest" the measure follows and the entity came
    // before ("the city with the most clients").
    // "the colour that is least common among cars": how often is said of the column
    // named before; "the commonest colour of cars" of the one after.
    // But "the title of the commonest style": the superlative qualifies the word right after it.
    bool value_before = false;
    Item* qualified = sup ? Next(index_of(sup), false) : nullptr;
    if (sup && sup->hint == "frequency" &&
        !(qualified && entity_like(qualified) && qualified->begin == sup->end)) {
      for (size_t j = k; j-- > 0 && !value_before;)
        value_before = items_[j].is_column() && entity_like(&items_[j]);
    }
    const bool entity_after = is_top || (sup && !sup->hint.empty() && !value_before);
    Item* entity_item = nullptr;
    Item* hinted_column = nullptr;  // "most recently hired employees": the date named first
    if (entity_after && next && next->is_column() && !entity_like(next)) {
      Item* after = Next(index_of(next), false);
      if (entity_like(after)) {
        hinted_column = next;
        next = after;
      }
    }
    if (entity_after && entity_like(next)) {
      entity_item = next;
      next->used = true;
      next = Next(index_of(next), false);
    }
    // "the largest order amount": a table then its column is the measure; "the 10 largest
    // orders": a table alone is what is ranked.
    if (!entity_after && next && next->is_table()) {
      Item* after = Next(index_of(next), false);
      const TableEntry* t = PickTable(*next);
      if (after && after->is_column() && after->begin == next->end && PickColumn(*after, true) &&
          SameTable(PickColumn(*after, true)->table->name, t->table->name)) {
        next->used = true;
        next = after;
      } else {
        bool entity_before = false;
        for (size_t j = k; j-- > 0;)
          if (entity_like(&items_[j])) entity_before = true;
        if (!entity_before) {
          entity_item = next;
          next->used = true;
          next = Next(index_of(next), false);
        }
      }
    }
    if (!entity_item) {
      for (size_t j = k; j-- > 0;) {
        if (entity_like(&items_[j])) {
          entity_item = &items_[j];
          break;
        }
      }
    }
    const TableEntry* entity_table = nullptr;
    const ColumnEntry* entity_column = nullptr;
    if (entity_item) {
      if (entity_item->is_table())
        entity_table = PickTable(*entity_item);
      else
        entity_column = PickColumn(*entity_item);
    }
    const TableEntry* entity_owner =
        entity_table ? entity_table
                     : (entity_column ? index_.FindTable(entity_column->table->name) : nullptr);
    // "the hotel name with the most rooms", "the title of the book with the fewest pages": a
    // column of the ranked rows' own table ranks those rows, as the table would.
    const TableEntry* ranked_rows = entity_table;
    if (!ranked_rows && entity_column && entity_owner) ranked_rows = entity_owner;

    // The measure: after "by"/"sorted by", right after a measure-taking superlative, or a
    // numeric column right after the entity; else the superlative's implied column.
    Item* measure_item = nullptr;
    Aggregate forced = Aggregate::kNone;
    Item* by = nullptr;
    for (size_t j = k + 1; j < items_.size(); ++j) {
      if (items_[j].used) continue;
      if (items_[j].kind == ItemKind::kGroup || items_[j].kind == ItemKind::kSort) {
        by = &items_[j];
        break;
      }
      if (items_[j].kind == ItemKind::kMention && !items_[j].is_value()) break;
    }
    // "the most number of stations" where the count was read already: that count is the
    // measure, not whatever is named after it.
    const bool measure_read = k + 1 < items_.size() && items_[k + 1].used &&
                              items_[k + 1].kind == ItemKind::kAgg && !measures_.empty();
    if (sup && sup->hint.empty() && !is_top && measure_read && entity_item) {
      measure_item = nullptr;
    } else if (sup && sup->hint.empty() && !is_top && !(entity_item && next == nullptr)) {
      measure_item = next;
    } else if (hinted_column) {
      measure_item = hinted_column;
    } else if (by) {
      measure_item = Next(index_of(by), false);
      if (measure_item) by->used = true;
    } else if (next && next->is_column()) {
      const ColumnEntry* c = PickColumn(*next, true);
      if (c && c->is_numeric) measure_item = next;
    }
    // "the largest number of rooms" where the number is a column (room_count): that column.
    if (measure_item && measure_item->kind == ItemKind::kAgg &&
        measure_item->agg == Aggregate::kCount) {
      Item* counted = Next(index_of(measure_item), false);
      const ColumnEntry* c = counted && counted->is_column() && !counted->is_value()
                                 ? PickColumn(*counted, true)
                                 : nullptr;
      if (c && c->is_numeric && !c->is_key) {
        measure_item->used = true;
        measure_item = counted;
      }
    }
    if (measure_item && measure_item->kind == ItemKind::kAgg) {
      forced = measure_item->agg;
      measure_item->used = true;
      measure_item = Next(index_of(measure_item), false);
    }
    if (measure_item && (measure_item->kind != ItemKind::kMention || measure_item->is_value()))
      measure_item = nullptr;

    std::optional<Expr> measure;
    bool attribute = false;  // a column of the ranked rows themselves: no grouping
    if (measure_item) {
      measure_item->used = true;
      if (measure_item->is_table()) {
        const TableEntry* t = PickTable(*measure_item);
        if (t != entity_table) {
          // "the most orders": how many related rows each has; "the most degrees" where
          // degrees hold a number of that name, its total.
          const ColumnEntry* n = Namesake(t);
          measure = n ? Expr::Agg(Aggregate::kSum, Ref(n)) : RowsOf(t);
          extra_tables_.push_back(t);
        }
      } else {
        const ColumnEntry* c = PickColumn(*measure_item, true);
        if (c && ranked_rows && SameTable(c->table->name, ranked_rows->table->name) &&
            forced == Aggregate::kNone && (entity_table || c->is_numeric || c->is_temporal)) {
          measure = Expr::Col(Ref(c));
          attribute = true;
        } else if (c && !entity_item && n > 1 && groups_.empty()) {
          // "the 3 highest salaries": those values, highest first.
          entity_column = c;
          entity_owner = index_.FindTable(c->table->name);
          measure = Expr::Col(Ref(c));
          attribute = true;
        } else if (c && !entity_item) {
          // "what is the highest salary": the extreme value itself.
          Aggregate a = sup ? sup->agg : Aggregate::kMax;
          measures_.push_back({Expr::Agg(a, Ref(c)), ""});
          if (c->is_numeric) MeasureListed(measure_item, a);
          continue;
        } else if (c && entity_table && forced == Aggregate::kNone && c->is_numeric &&
                   !IsTotalMeasure(c, measure_item->phrase)) {
          // "the reviewer with the best score": one row's value, on a related table; a
          // sum per entity only for amounts ("top customers by revenue").
          measure = Expr::Col(Ref(c));
          attribute = true;
          extra_tables_.push_back(index_.FindTable(c->table->name));
        } else if (c) {
          Aggregate a = forced != Aggregate::kNone ? forced : Aggregate::kSum;
          if (!c->is_numeric) a = Aggregate::kCountDistinct;
          measure = Expr::Agg(a, Ref(c));
        }
      }
    } else if (sup && sup->hint == "sold") {
      // "best-selling products": units sold, from a table that references the entity; with
      // no quantity there, how many of its rows refer to each ("most popular book": loans).
      if (entity_owner) {
        for (const auto& t : index_.tables()) {
          if (measure) break;
          for (const auto& fk : t.table->foreign_keys) {
            if (!SameTable(fk.ref_table, entity_owner->table->name)) continue;
            for (const ColumnEntry* c : t.columns) {
              if (!measure && c->is_numeric &&
                  std::find(c->words.begin(), c->words.end(), "quantity") != c->words.end()) {
                measure = Expr::Agg(Aggregate::kSum, Ref(c));
                extra_tables_.push_back(&t);
              }
            }
          }
        }
        for (const auto& t : index_.tables()) {
          if (measure) break;
          if (&t == entity_owner) continue;
          for (const auto& fk : t.table->foreign_keys) {
            if (measure || !SameTable(fk.ref_table, entity_owner->table->name)) continue;
            measure = RowsOf(&t);
            extra_tables_.push_back(&t);
          }
        }
      }
    } else if (sup && sup->hint == "frequency" && entity_table && next && next->is_table() &&
               PickTable(*next) != entity_table) {
      // "the most common style among the songs": how many of those rows each has.
      const TableEntry* t = PickTable(*next);
      next->used = true;
      measure = RowsOf(t);
      extra_tables_.push_back(t);
    } else if (sup && !sup->hint.empty()) {
      const TableEntry* owner = entity_owner ? entity_owner : subject_;
      const ColumnEntry* c = ColumnForHint(owner, sup->hint);
      Aggregate extreme = sup->agg;
      // "the oldest employee" with no age: the earliest date of birth; "the oldest order":
      // the earliest date.
      const ColumnEntry* born = nullptr;
      if (!c && sup->hint == "age" && owner) {
        for (const ColumnEntry* col : owner->columns)
          for (const auto& w : col->words)
            if (!born && col->is_temporal && (w == "birth" || w == "dob" || w == "born"))
              born = col;
      }
      if (!c && sup->hint == "age" && owner && (born || owner->date)) {
        c = born ? born : owner->date;
        dir = -dir;
        extreme = extreme == Aggregate::kMax ? Aggregate::kMin : Aggregate::kMax;
      }
      if (c) {
        // "the 3 most expensive" after a listing of products: the listed rows ranked, not
        // the extreme price.
        const bool ranks_listing = !entity_item && follow_up_ && previous_ &&
                                   !previous_->is_aggregated() && owner && owner == subject_;
        if (!entity_item && !ranks_listing) {
          measures_.push_back({Expr::Agg(extreme, Ref(c)), ""});
          continue;
        }
        if (ranks_listing) entity_table = owner;
        measure = Expr::Col(Ref(c));
        // "the oldest log id": a column of the ranked rows' own table names them too.
        attribute = entity_table != nullptr ||
                    (entity_column && SameTable(entity_column->table->name, c->table->name));
      }
    }
    if (!measure && !measure_item && !measures_.empty() && entity_item &&
        (!sup || sup->hint.empty())) {
      // "the highest average product price": the measure was read already.
      measure = measures_.back().expr;
      measures_.pop_back();
      // "the warehouse with the largest number of pallets": a number each ranked row holds
      // is ranked as it is, not added up per row.
      if (measure->agg == Aggregate::kSum && measure->column && ranked_rows &&
          SameTable(measure->column->table, ranked_rows->table->name)) {
        measure = Expr::Col(*measure->column);
        attribute = true;
      }
    }
    if (!entity_item && !entity_table && !entity_column) {
      if (!groups_.empty() && measure) {
        // "per country, top 5 by revenue".
        order_.push_back({*measure, dir >= 0});
        if (measure->is_aggregate()) measures_.push_back({*measure, ""});
        limit_ = n > 0 ? n : 10;
        top_ = &it;
        continue;
      }
      return std::unexpected(NotUnderstood("I could not tell what to rank"));
    }
    if (!measure) {
      if (entity_table) {
        auto m = DefaultRankMeasure(entity_table);
        if (!m) return std::unexpected(m.error());
        measure = *m;
        attribute = !measure->is_aggregate();
        confidence_ *= 0.85;
      } else {
        measure = Expr::CountStar();  // "top 5 countries": by how many rows each has
      }
    }
    if (dir == 0) dir = +1;
    top_ = &it;
    if ((entity_table || entity_column) && attribute) {
      if (!subject_) subject_ = entity_owner;
      // "the oldest log id": the rows ranked, showing the column that named them.
      if (!entity_table &&
          std::find(projection_.begin(), projection_.end(), entity_column) == projection_.end())
        projection_.push_back(entity_column);
      order_.push_back({*measure, dir > 0});
      projection_order_ = *measure;
    } else {
      if (entity_table) {
        if (!subject_) subject_ = entity_table;
        group_tables_.push_back(entity_table);
        for (auto& e : EntityKeys(entity_table)) groups_.push_back(e);
      } else {
        groups_.push_back(Expr::Col(Ref(entity_column)));
      }
      order_.push_back({*measure, dir > 0});
      measures_.push_back({*measure, ""});
    }
    // A mention of the ranking column itself ("hired" in "hired first") is now accounted for.
    if (measure && measure->column) {
      for (auto& m : items_) {
        if (m.used || !m.is_column()) continue;
        const ColumnEntry* c = PickColumn(m);
        if (c && Ref(c) == *measure->column) m.used = true;
      }
    }
    if (n <= 0) {
      // "top customers" -> 10; "the top customer", "the cheapest product" -> 1.
      n = (is_top && entity_item->phrase.ends_with("s")) ? 10 : 1;
    }
    limit_ = n;
  }
  return {};
}

db::Value NumberValue(double v, bool integer) {
  if (integer && std::fabs(v) < 9e15) return db::Value{static_cast<int64_t>(v)};
  return db::Value{v};
}

// "customers with more than 5 orders", "products priced over 100", "orders above $500",
// "countries with total revenue over 1000000".
Result<void> Builder::ReadConditions() {
  // The WHERE condition the last comparison became, for one joined to it by "or".
  std::optional<size_t> last_condition;
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kNumCond) continue;
    const std::optional<size_t> alternative_to =
        it.or_previous ? last_condition : std::optional<size_t>();
    last_condition.reset();
    if (it.hint == "average") {
      // "salary above the average", "a balance above the average balance": the column named
      // before (or after) against its mean over its table.
      Item* before = nullptr;
      Item* after = Next(k, false);
      if (after && !after->is_column()) after = nullptr;
      for (size_t j = k; j-- > 0;) {
        if (items_[j].is_column()) {
          before = &items_[j];
          break;
        }
        if (items_[j].kind != ItemKind::kMention && items_[j].kind != ItemKind::kWith &&
            items_[j].kind != ItemKind::kUnknown)
          break;
      }
      const ColumnEntry* col = nullptr;
      for (Item* m : {before, after}) {
        if (col || !m) continue;
        const ColumnEntry* c = PickColumn(*m, true);
        if (c && c->is_numeric) col = c;
      }
      if (!col) continue;
      for (Item* m : {before, after})
        if (m && PickColumn(*m, true) == col) m->used = true;
      sql::Query sub;
      sub.from = col->table->name;
      sub.select.push_back({Expr::Agg(Aggregate::kAvg, Ref(col)), ""});
      sql::Predicate p = Pred(Expr::Col(Ref(col)), it.op, {}, false, it.phrase);
      p.subquery.push_back(std::move(sub));
      where_.push_back(std::move(p));
      it.used = true;
      continue;
    }
    std::vector<db::Value> values;
    for (double v : it.nums) values.push_back(NumberValue(v, it.integers));
    Item* next = Next(k);
    Item* prev = Prev(k);
    // "a snatch score above 140", where the column is called snatch: the column right before
    // the word nothing explains.
    if (prev && prev->kind == ItemKind::kUnknown && !prev->used && prev->begin + 1 == it.begin) {
      Item* before = Prev(static_cast<size_t>(prev - items_.data()));
      const ColumnEntry* c =
          before && before->is_column() && !before->used && before->end == prev->begin
              ? PickColumn(*before, true)
              : nullptr;
      if (c && c->is_numeric) prev = before;
    }
    // "fewer than 3 vans or more than 8 trucks": the second comparison's column is the
    // one after it, not the first comparison's.
    if (prev && prev->is_column() && prev->used && next && next->is_column() && !next->used &&
        next->begin == it.end) {
      const ColumnEntry* c = PickColumn(*next, true);
      if (c && c->is_numeric) prev = nullptr;
    }
    // The entity the condition is about: the nearest table mentioned before it.
    // The entity the condition is about: the first table or categorical column named before
    // it ("categories whose average product price ..." is about categories).
    const TableEntry* entity = nullptr;
    const ColumnEntry* entity_column = nullptr;
    entity_item_for_condition_ = nullptr;
    for (size_t j = 0; j < k && !entity && !entity_column; ++j) {
      const Item& m = items_[j];
      if (m.kind != ItemKind::kMention || m.is_value()) continue;
      if (m.is_table()) {
        entity = PickTable(m);
      } else if (const ColumnEntry* c = PickColumn(m);
                 c && !c->is_numeric && !c->is_temporal && !c->is_flag && !m.used) {
        entity_column = c;
        entity_item_for_condition_ = const_cast<Item*>(&m);
      }
    }
    if (!entity && !entity_column && !group_tables_.empty()) entity = group_tables_.front();
    if (!entity && !entity_column && previous_) entity = index_.FindTable(previous_->from);
    bool negated = prev && prev->kind == ItemKind::kNot;
    // "hosts older than 50": the dimension's column of the table just named, else of the
    // entity, unless a numeric column is named right before ("whose age is older than 18").
    const ColumnEntry* dimension = nullptr;
    if (!it.hint.empty() && it.hint != "average" &&
        !(prev && prev->is_column() && PickColumn(*prev, true) &&
          PickColumn(*prev, true)->is_numeric)) {
      std::vector<const TableEntry*> owners;
      if (prev && prev->is_table()) owners.push_back(PickTable(*prev));
      if (entity) owners.push_back(entity);
      if (entity_column) owners.push_back(index_.FindTable(entity_column->table->name));
      for (const Item& m : items_)
        if (m.is_table()) owners.push_back(PickTable(m));
      for (const TableEntry* t : owners) {
        if ((dimension = ColumnForHint(t, it.hint))) break;
      }
    }

    auto having = [&](Expr agg) {
      sql::Predicate p = Pred(agg, it.op, values, false, it.phrase);
      having_.push_back(p);
    };
    auto group_by_entity = [&]() {
      if (!groups_.empty()) return;
      if (entity_column) {
        groups_.push_back(Expr::Col(Ref(entity_column)));
        if (entity_item_for_condition_) entity_item_for_condition_->used = true;
        if (!subject_) subject_ = index_.FindTable(entity_column->table->name);
        return;
      }
      if (!subject_) subject_ = entity;
      group_tables_.push_back(entity);
      for (auto& e : EntityKeys(entity)) groups_.push_back(e);
    };
    // "two or more corresponding races": a word nothing explains does not hide the counted
    // table.
    while (next && next->kind == ItemKind::kUnknown) {
      Item* after = Next(static_cast<size_t>(next - items_.data()));
      if (!after || !(after->is_table() || after->is_column())) break;
      next = after;
    }
    // "teams that have three or more players": a text column of the entity's own rows
    // names what is counted (the rows).
    if (!dimension && next && next->is_column() && entity_column && !next->used) {
      const ColumnEntry* c = PickColumn(*next);
      if (c && c->is_text && c != entity_column &&
          SameTable(c->table->name, entity_column->table->name)) {
        it.used = next->used = true;
        group_by_entity();
        having(Expr::CountStar());
        measures_.push_back({Expr::CountStar(), ""});
        continue;
      }
    }
    // "... with more than 5 orders", "countries with more than 300 customers": a count; not
    // when a number was named right before ("a height more than 5600 and peaks ...").
    const bool compares_column_before = [&] {
      if (!prev || !prev->is_column() || prev->used || prev->end != it.begin) return false;
      const ColumnEntry* c = PickColumn(*prev, true);
      return c && c->is_numeric;
    }();
    if (!dimension && next && next->is_table() && (entity || entity_column) &&
        !compares_column_before) {
      const TableEntry* t = PickTable(*next);
      if (t != entity) {
        it.used = next->used = true;
        group_by_entity();
        if (!entity_column || !SameTable(entity_column->table->name, t->table->name))
          extra_tables_.push_back(t);
        Expr count = RowsOf(t);
        having(count);
        measures_.push_back({count, "count_" + t->table->name});
        continue;
      }
    }
    // An aggregate right before: "total revenue over 1000000" (with grouping).
    const ColumnEntry* col = nullptr;
    Aggregate agg = Aggregate::kNone;
    Item* col_item = nullptr;
    if (dimension) {
      col = dimension;
    } else if (prev && prev->is_column()) {
      col = PickColumn(*prev, true);
      col_item = prev;
      Item* before = Prev(static_cast<size_t>(prev - items_.data()));
      if (before && before->is_table() && before->end == prev->begin) {
        // "average product price": the table names whose column it is.
        Item* agg_item = Prev(static_cast<size_t>(before - items_.data()));
        // A count is not such a measure: "how many products cost more than 5" counts the
        // products whose cost is over 5.
        if (agg_item && agg_item->kind == ItemKind::kAgg && !agg_item->used &&
            agg_item->agg != Aggregate::kCount && agg_item->end == before->begin) {
          before->used = true;
          before = agg_item;
        }
      }
      if (before && before->kind == ItemKind::kAgg && !before->used &&
          (before->end == prev->begin || before->is_table() == false) &&
          before->end + 1 >= prev->begin) {
        agg = before->agg;
        before->used = true;
      }
    } else if (next && next->is_column()) {
      const ColumnEntry* c = PickColumn(*next, true);
      if (c && c->is_numeric) {
        col = c;
        col_item = next;
      }
    } else if (prev && prev->is_table()) {
      const TableEntry* t = PickTable(*prev);
      if (t->money) col = t->money;
      if (col)
        notes_.push_back(fmt::format("compared {} of {}", col->column->name, t->table->name));
    }
    // "under 10 or over 90": an alternative with no column of its own compares the same one.
    std::optional<Expr> same_as_before;
    const bool comparable = col && (col->is_numeric || col == dimension);
    if (!comparable && alternative_to && it.right_after_or) {
      const sql::Predicate& before = where_[*alternative_to];
      same_as_before = before.is_any_of() ? before.any.back().lhs : before.lhs;
    }
    if (comparable || same_as_before) {
      it.used = true;
      if (col_item) col_item->used = true;
      // A condition on a related table's column is one on the entity's total only for
      // amounts ("customers who spent over 1000"); otherwise it is on rows ("wines with
      // scores above 90", "companies that operated flights with velocity below 200").
      bool other_table = !same_as_before && entity &&
                         !SameTable(col->table->name, entity->table->name) &&
                         index_.FansOut(entity->table->name, col->table->name) &&
                         IsTotalMeasure(col, col_item ? col_item->phrase : it.phrase);
      if ((!same_as_before && agg != Aggregate::kNone &&
           (entity || entity_column || !groups_.empty())) ||
          other_table) {
        // A condition on an aggregate per entity.
        if (agg == Aggregate::kNone) agg = Aggregate::kSum;
        if (entity || entity_column) group_by_entity();
        having(Expr::Agg(agg, Ref(col)));
        measures_.push_back({Expr::Agg(agg, Ref(col)), ""});
        continue;
      }
      sql::Predicate p = Pred(same_as_before ? *same_as_before : Expr::Col(Ref(col)), it.op, values,
                              false, it.phrase);
      if (negated) {
        if (p.op == CompareOp::kGt)
          p.op = CompareOp::kLe;
        else if (p.op == CompareOp::kLt)
          p.op = CompareOp::kGe;
        else if (p.op == CompareOp::kGe)
          p.op = CompareOp::kLt;
        else if (p.op == CompareOp::kLe)
          p.op = CompareOp::kGt;
        else if (p.op == CompareOp::kEq)
          p.op = CompareOp::kNe;
        prev->used = true;
      }
      if (alternative_to) {
        sql::Predicate& before = where_[*alternative_to];
        if (!before.is_any_of()) {
          sql::Predicate group;
          group.phrase = before.phrase + " or " + p.phrase;
          group.any.push_back(std::move(before));
          before = std::move(group);
        } else {
          before.phrase += " or " + p.phrase;
        }
        before.any.push_back(std::move(p));
        last_condition = alternative_to;
        continue;
      }
      where_.push_back(p);
      last_condition = where_.size() - 1;
      continue;
    }
    if (!measures_.empty() && !groups_.empty()) {
      it.used = true;
      having(measures_.front().expr);
      continue;
    }
    if (follow_up_ && previous_) {
      // "more than 400 instead": a new bound for the previous condition.
      it.used = true;
      numeric_edit_ = Pred(Expr{}, it.op, values, false, it.phrase);
      continue;
    }
    return std::unexpected(
        NotUnderstood(fmt::format("I could not tell what '{}' applies to", it.phrase)));
  }
  return {};
}

// Values ("in Germany", "delivered") and periods ("in 2024").
Result<void> Builder::ReadFilters() {
  std::optional<size_t> last_value_filter;  // where_ index of the last value's filter
  std::optional<size_t> last_period;        // where_ index of the last period's filter
  // A filter joined to the one before it of its kind by "or" is an alternative to it ("clients
  // from Lyon or whose surname is Dupont", "opened before 1995 or after 2010"); `last` is the
  // where_ index of that one.
  auto add_filter = [&](std::optional<size_t>& last, bool alternative, sql::Predicate p) {
    if (alternative && last && *last < where_.size() && !where_[*last].has_subquery()) {
      sql::Predicate& before = where_[*last];
      if (!before.is_any_of()) {
        sql::Predicate group;
        group.phrase = before.phrase;
        group.any.push_back(std::move(before));
        before = std::move(group);
      }
      before.phrase += " or " + p.phrase;
      before.any.push_back(std::move(p));
      return;
    }
    last = where_.size();
    where_.push_back(std::move(p));
  };
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used) continue;
    // "the employee with id 42", "editors of age 24 or 25", "room 101": a bare number right
    // after a column is a value of it; right after a table, a value of its key.
    // Numbers written as words ("the one with ...") are not values.
    if (it.kind == ItemKind::kTop && it.hint == "bare" && it.nums.size() == 1 && k > 0 &&
        !it.phrase.empty() && std::isdigit(static_cast<unsigned char>(it.phrase[0]))) {
      Item& before = items_[k - 1];
      const ColumnEntry* c = nullptr;
      if (before.is_column() && !before.used) {
        c = PickColumn(before);
      } else if (before.is_table() && before.end == it.begin) {
        const Item* after = Next(k, false);
        if (!(after && after->kind == ItemKind::kMention && !after->is_value()))
          c = PickTable(before)->primary_key;
      }
      if (c && !c->is_temporal && !c->is_flag) {
        auto value = [&](const Item& number) {
          return c->is_text ? db::Value{number.phrase}
                            : NumberValue(number.nums[0], number.integers);
        };
        std::vector<db::Value> values = {value(it)};
        std::string phrase = before.phrase + " " + it.phrase;
        it.used = true;
        if (before.is_column()) before.used = true;
        for (size_t j = k + 1; j < items_.size(); ++j) {
          Item& more = items_[j];
          if (more.used || more.kind != ItemKind::kTop || more.hint != "bare" || !more.or_previous)
            break;
          values.push_back(value(more));
          phrase += " or " + more.phrase;
          more.used = true;
        }
        CompareOp op = values.size() == 1 ? CompareOp::kEq : CompareOp::kIn;
        // "not majoring in 600", "not in room 101 or 102".
        if (Item* negation = NegationBefore(k)) {
          negation->used = true;
          op = op == CompareOp::kEq ? CompareOp::kNe : op;
          if (op == CompareOp::kIn) {
            where_.push_back(Pred(Expr::Col(Ref(c)), op, std::move(values), false, phrase));
            where_.back().negated = true;
            continue;
          }
        }
        // "above age 46", "under age 30": the comparison word before the column.
        if (values.size() == 1 && before.is_column() && k >= 2 &&
            items_[k - 2].kind == ItemKind::kUnknown && items_[k - 2].end == before.begin) {
          static const std::map<std::string, CompareOp> kBefore = {{"above", CompareOp::kGt},
                                                                   {"over", CompareOp::kGt},
                                                                   {"exceeding", CompareOp::kGt},
                                                                   {"under", CompareOp::kLt},
                                                                   {"below", CompareOp::kLt}};
          if (auto w = kBefore.find(text::ToLower(items_[k - 2].phrase)); w != kBefore.end()) {
            op = w->second;
            phrase = items_[k - 2].phrase + " " + phrase;
            items_[k - 2].kind = ItemKind::kWith;  // explained: part of the comparison
            items_[k - 2].used = true;
          }
        }
        where_.push_back(Pred(Expr::Col(Ref(c)), op, std::move(values), false, phrase));
        continue;
      }
    }
    if (it.is_column()) {
      // A yes/no column used as an adjective: "discontinued products", "not discontinued".
      const ColumnEntry* c = PickColumn(it);
      // "items sold with a discount": a numeric column after "with" means it is not zero.
      bool after_with = k > 0 && items_[k - 1].kind == ItemKind::kWith &&
                        items_[k - 1].end + 1 >= it.begin &&
                        text::ToLower(items_[k - 1].phrase) == "with";
      Item* following = Next(k, false);
      if (c && c->is_numeric && after_with &&
          !(following && following->kind == ItemKind::kNumCond)) {
        it.used = true;
        where_.push_back(Pred(Expr::Col(Ref(c)), CompareOp::kGt, {db::Value{int64_t{0}}}, false,
                              "with " + it.phrase));
        continue;
      }
      // A yes/no column followed by its value ("FDA approved 'No'"): the value is the filter.
      const Item* value_after = Next(k, true);
      while (value_after && value_after->kind == ItemKind::kUnknown)
        value_after = Next(static_cast<size_t>(value_after - items_.data()), true);
      const bool own_value_follows =
          value_after && value_after->is_value() &&
          std::any_of(value_after->values.begin(), value_after->values.end(),
                      [&](const ValueTarget& v) { return v.column == c; });
      if (c && c->is_flag && !own_value_follows) {
        it.used = true;
        bool negated = k > 0 && items_[k - 1].kind == ItemKind::kNot;
        if (negated) items_[k - 1].used = true;
        if (!c->flag_true.empty()) {
          // A text column of "Yes" and "No".
          const bool has_false = !c->flag_false.empty();
          where_.push_back(Pred(
              Expr::Col(Ref(c)), negated && !has_false ? CompareOp::kNe : CompareOp::kEq,
              {db::Value{negated && has_false ? c->flag_false : c->flag_true}}, false, it.phrase));
          continue;
        }
        where_.push_back(Pred(Expr::Col(Ref(c)), CompareOp::kEq,
                              {c->column->family == db::TypeFamily::kBoolean
                                   ? db::Value{!negated}
                                   : db::Value{static_cast<int64_t>(negated ? 0 : 1)}},
                              false, it.phrase));
        continue;
      }
    }
    if (it.kind == ItemKind::kMention && it.is_value()) {
      it.used = true;
      Item* negation = NegationBefore(k);
      bool negated = negation != nullptr;
      if (negated) negation->used = true;
      // "whose city is London": the column named before its value is part of the filter.
      if (Item* prev = Prev(k); prev && prev->is_column() && !prev->used && !it.values.empty()) {
        for (const auto& tg : prev->targets) {
          if (!tg.column) continue;
          for (const auto& v : it.values)
            if (v.column == tg.column) {
              prev->used = true;
              it.values = {v};
            }
        }
      }
      if (!it.quoted.empty()) {
        // A quoted string that is no stored value: equal to the nearest column named before it
        // ("the product named 'cumin'"), or inside it when the question says so ("titles
        // containing 'war'", "whose address includes the word 'Kentucky'").
        const ColumnEntry* c = nullptr;
        bool inside = false;
        for (size_t j = k; j-- > 0;) {
          Item& m = items_[j];
          if (m.kind == ItemKind::kUnknown || m.kind == ItemKind::kWith) {
            if (m.kind == ItemKind::kUnknown && IsContainsWord(m.phrase)) {
              inside = true;
              m.kind = ItemKind::kWith;  // accounted for
              m.used = true;
            }
            continue;
          }
          // "how many names contain 'x'": a column counted or shown is still the one the
          // text is inside.
          if (m.is_column() && (!m.used || inside)) {
            c = PickColumn(m);
            if (c && !c->is_text && m.used) c = nullptr;
            m.used = true;
          }
          break;
        }
        // "'war' in their titles": the column named right after, matched inside; so is
        // "'Lee' in part of the title".
        Item* after = Next(k, false);
        Item* part = nullptr;
        if (!c && after && after->kind == ItemKind::kUnknown && IsContainsWord(after->phrase)) {
          part = after;
          after = Next(static_cast<size_t>(after - items_.data()), false);
        }
        if (!c && after && after->is_column() && !after->used) {
          if (const ColumnEntry* ac = PickColumn(*after); ac && ac->is_text) {
            c = ac;
            after->used = true;
            inside = true;
            if (part) {
              part->kind = ItemKind::kWith;  // accounted for
              part->used = true;
            }
          }
        }
        if (!c && subject_) c = subject_->label;
        if (!c) {
          for (const auto* t : mentioned_)
            if (t->label) c = t->label;
        }
        if (!c)
          return std::unexpected(
              NotUnderstood("I could not tell which column '" + it.quoted + "' is in"));
        where_.push_back(Pred(Expr::Col(Ref(c)),
                              negated  ? CompareOp::kNe
                              : inside ? CompareOp::kContains
                                       : CompareOp::kEq,
                              {db::Value{it.quoted}}, true, it.phrase));
        confidence_ *= 0.9;
        continue;
      }
      const ValueTarget* v = PickValue(it);
      if (it.values.size() > 1) confidence_ *= 0.95;
      ColumnRef col = Ref(v->column);
      // "Germany or France": several values of one column become IN.
      bool merged = false;
      for (auto& p : where_) {
        if (p.lhs.column && *p.lhs.column == col && !negated &&
            (p.op == CompareOp::kEq || p.op == CompareOp::kIn) && p.case_insensitive) {
          merged = true;
          // "won (has a result of 'win')": the value named again is one value, not two.
          if (std::find(p.values.begin(), p.values.end(), db::Value{v->value}) != p.values.end())
            continue;
          if (both_ && p.values.size() == 1 && !both_column_) both_column_ = col;
          p.op = CompareOp::kIn;
          p.values.push_back(db::Value{v->value});
          p.phrase += (both_column_ == col ? " and " : " or ") + it.phrase;
        }
      }
      if (merged) continue;
      sql::Predicate p = Pred(Expr::Col(col), negated ? CompareOp::kNe : CompareOp::kEq,
                              {db::Value{v->value}}, true, it.phrase);
      add_filter(last_value_filter, it.or_previous, std::move(p));
      continue;
    }
    if (it.kind == ItemKind::kDate) {
      it.used = true;
      // A year held as a number ("tracks opened after 2000": year_opened).
      // (A year may be part of a table's key: the rows of a campus and a year.)
      auto is_year = [](const ColumnEntry* cc) {
        return cc && (cc->is_numeric || cc->column->family == db::TypeFamily::kInteger) &&
               std::find(cc->words.begin(), cc->words.end(), "year") != cc->words.end();
      };
      auto year_of = [&](const TableEntry* t) -> const ColumnEntry* {
        if (t)
          for (const ColumnEntry* cc : t->columns)
            if (is_year(cc)) return cc;
        return nullptr;
      };
      auto whole_year = [](const std::string& d) {
        return d.size() == 10 && d.substr(4) == "-01-01";
      };
      const bool whole = (it.date.begin.empty() || whole_year(it.date.begin)) &&
                         (it.date.end.empty() || whole_year(it.date.end)) &&
                         !(it.date.begin.empty() && it.date.end.empty());
      const ColumnEntry* c = nullptr;
      const ColumnEntry* year = nullptr;
      // A date column named next to the period ("hired after 2020", "order date in 2024"), or
      // a year column ("in year 2004") for whole years.
      Item* prev = Prev(k);
      Item* next = k + 1 < items_.size() ? &items_[k + 1] : nullptr;
      for (Item* m : {prev, next}) {
        if (c || year || !m || !m->is_column()) continue;
        const ColumnEntry* cc = PickColumn(*m, false, true);
        if (cc && cc->is_temporal) {
          c = cc;
          m->used = true;
        } else if (const ColumnEntry* y = PickColumn(*m, true); whole && is_year(y)) {
          year = y;
          m->used = true;
          // "the fee in year 1996" where several tables have a year: the fee's own.
          for (const Item& other : items_) {
            if (&other == m || !other.is_column()) continue;
            const ColumnEntry* n = PickColumn(other, true);
            if (!n || !n->is_numeric || is_year(n) || SameTable(n->table->name, y->table->name))
              continue;
            for (const SchemaTarget& target : m->targets)
              if (target.column && is_year(target.column) &&
                  SameTable(target.column->table->name, n->table->name))
                year = target.column;
            break;
          }
        }
      }
      // "exhibitions that happened in 2004": the table named last before the period, when it
      // holds its own year and no date.
      for (size_t j = k; j-- > 0 && !c && !year && whole;) {
        if (!items_[j].is_table()) continue;
        if (const TableEntry* t = PickTable(items_[j]); t && !t->date) year = year_of(t);
        break;
      }
      // A table named right before the period ("customers who ordered in 2024" dates the
      // orders); then the table of a measure ("revenue in 2024"); then the first table the
      // question names; then any table mentioned. A table without a date borrows one from a
      // table it references ("quantity sold in 2024" dates order items by their order).
      if (!c && !year && k > 0 && items_[k - 1].is_table() && items_[k - 1].end == it.begin)
        c = DateOf(PickTable(items_[k - 1]));
      for (size_t j = 0; j < items_.size() && !c && !year; ++j) {
        if (!items_[j].is_column()) continue;
        const ColumnEntry* m = PickColumn(items_[j], true);
        if (m && m->is_numeric) c = DateOf(index_.FindTable(m->table->name));
      }
      for (const auto& m : measures_)
        if (!c && !year && m.expr.column) c = DateOf(index_.FindTable(m.expr.column->table));
      if (!c && !year && subject_) c = DateOf(subject_);
      for (size_t j = 0; j < items_.size() && !c && !year; ++j)
        if (items_[j].is_table()) c = DateOf(PickTable(items_[j]));
      for (size_t j = 0; j < items_.size() && !c && !year; ++j)
        if (items_[j].is_value()) {
          if (const ValueTarget* v = PickValue(items_[j]))
            c = DateOf(index_.FindTable(v->column->table->name));
        }
      if (!c && !year && previous_) {
        for (const auto& name : previous_->OwnTables())
          if (!c) c = DateOf(index_.FindTable(name));
      }
      if (!c) {
        // No date, but a year held as a number: the table of a number the question names
        // ("the fee in 1996" is the fee of that year), of a measure, the subject, then any
        // table mentioned.
        for (size_t j = 0; j < items_.size() && !year; ++j) {
          if (!items_[j].is_column()) continue;
          const ColumnEntry* m = PickColumn(items_[j], true);
          if (m && m->is_numeric && !is_year(m)) year = year_of(index_.FindTable(m->table->name));
        }
        for (const auto& m : measures_)
          if (!year && m.expr.column) year = year_of(index_.FindTable(m.expr.column->table));
        if (!year) year = year_of(subject_);
        for (const TableEntry* t : mentioned_)
          if (!year) year = year_of(t);
        if (year && whole) {
          const int64_t from = it.date.begin.empty() ? 0 : std::stoll(it.date.begin.substr(0, 4));
          const int64_t to = it.date.end.empty() ? 0 : std::stoll(it.date.end.substr(0, 4)) - 1;
          sql::Predicate p = Pred(Expr::Col(Ref(year)), CompareOp::kEq, {}, false, it.phrase);
          if (from && to) {
            p.op = from == to ? CompareOp::kEq : CompareOp::kBetween;
            p.values = from == to ? std::vector<db::Value>{db::Value{from}}
                                  : std::vector<db::Value>{db::Value{from}, db::Value{to}};
          } else if (from) {
            p.op = CompareOp::kGe;
            p.values = {db::Value{from}};
          } else {
            p.op = CompareOp::kLe;
            p.values = {db::Value{to}};
          }
          Item* before = k > 0 ? &items_[k - 1] : nullptr;
          if (before && before->kind == ItemKind::kNot && !before->used) {
            before->used = true;
            p.negated = true;
          }
          add_filter(last_period, it.or_previous, std::move(p));
          continue;
        }
        return std::unexpected(
            NotUnderstood("'" + it.phrase + "' names a period, but I found no date column for it"));
      }
      sql::Predicate p = Pred(Expr::Col(Ref(c)), CompareOp::kRange, {}, false, it.phrase);
      if (!it.date.begin.empty() && !it.date.end.empty()) {
        p.values = {db::Value{it.date.begin}, db::Value{it.date.end}};
      } else if (!it.date.begin.empty()) {
        p.op = CompareOp::kGe;
        p.values = {db::Value{it.date.begin}};
      } else {
        p.op = CompareOp::kLt;
        p.values = {db::Value{it.date.end}};
      }
      // "not in 2024", "not after 1900", "not published after 1900".
      Item* before = k > 0 ? &items_[k - 1] : nullptr;
      if (before && before->is_column() && k > 1) before = &items_[k - 2];
      if (before && before->kind == ItemKind::kNot && !before->used) {
        before->used = true;
        if (p.op == CompareOp::kGe)
          p.op = CompareOp::kLt;
        else if (p.op == CompareOp::kLt)
          p.op = CompareOp::kGe;
        else
          p.negated = true;
      }
      add_filter(last_period, it.or_previous, std::move(p));
    }
  }
  return {};
}

// "students who never enrolled", "customers without orders", "products with no reviews": the
// rows of an entity that no row of a related table refers to, as NOT IN (SELECT ...) over the
// referring column (with its NULLs left out, which would make NOT IN keep nothing).
Result<void> Builder::ReadAbsence() {
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& neg = items_[k];
    if (neg.used || neg.kind != ItemKind::kNot) continue;
    Item* target = Next(k, true);
    while (target && target->kind == ItemKind::kUnknown)
      target = Next(static_cast<size_t>(target - items_.data()), true);
    if (!target || !(target->is_table() || target->is_column())) continue;
    // The entity: the nearest table named before the negation.
    Item* entity_item = nullptr;
    for (size_t j = k; j-- > 0;) {
      if (items_[j].is_table()) {
        entity_item = &items_[j];
        break;
      }
    }
    const TableEntry* entity = entity_item ? PickTable(*entity_item) : subject_;
    if (!entity || !entity->primary_key) continue;
    // A verb may name the table of the relation ("never attends courses": the attendance
    // table's column): then that table, and the table after it is the one it links to.
    Item* also = nullptr;
    const TableEntry* related = nullptr;
    if (target->is_column()) {
      const ColumnEntry* c = PickColumn(*target);
      if (!c) continue;
      related = index_.FindTable(c->table->name);
      Item* after = Next(static_cast<size_t>(target - items_.data()), true);
      if (after && after->is_table()) also = after;
    } else {
      related = PickTable(*target);
    }
    if (!related || entity == related) continue;
    const std::string& key = entity->primary_key->column->name;
    // The column that refers to the entity: in the related table itself, or in a table that
    // links the two ("students who have no allergies": has_allergy links them).
    const TableEntry* from = nullptr;
    std::string column;
    auto refers = [&](const TableEntry* t, const TableEntry* to) -> std::string {
      for (const auto& fk : t->table->foreign_keys)
        if (SameTable(fk.ref_table, to->table->name) &&
            text::EqualsIgnoreCase(fk.ref_column,
                                   to->primary_key ? to->primary_key->column->name : fk.ref_column))
          return fk.column;
      // A foreign key through another table that carries the same key ("student_id" of an
      // attendance table that references registrations).
      if (to->primary_key && !t->table->foreign_keys.empty())
        for (const ColumnEntry* c : t->columns)
          if (c->is_key && text::EqualsIgnoreCase(c->column->name, to->primary_key->column->name) &&
              std::any_of(t->table->foreign_keys.begin(), t->table->foreign_keys.end(),
                          [&](const db::ForeignKey& fk) {
                            return text::EqualsIgnoreCase(fk.column, c->column->name);
                          }))
            return c->column->name;
      return {};
    };
    if (std::string c = refers(related, entity); !c.empty()) {
      from = related;
      column = c;
    } else {
      for (const auto& t : index_.tables()) {
        if (&t == entity || &t == related) continue;
        std::string c = refers(&t, entity);
        if (!c.empty() && !refers(&t, related).empty()) {
          from = &t;
          column = c;
          break;
        }
      }
    }
    if (!from) continue;
    sql::Query sub;
    sub.from = from->table->name;
    sub.select.push_back({Expr::Col({from->table->name, column}), ""});
    sub.where.push_back(
        Pred(Expr::Col({from->table->name, column}), CompareOp::kIsNotNull, {}, false, ""));
    sql::Predicate p = Pred(Expr::Col({entity->table->name, key}), CompareOp::kIn, {}, false,
                            neg.phrase + " " + target->phrase);
    p.negated = true;
    p.subquery.push_back(std::move(sub));
    absences_.push_back({where_.size(), entity});
    where_.push_back(std::move(p));
    neg.used = target->used = true;
    if (also && from == related && !refers(related, PickTable(*also)).empty()) also->used = true;
    if (!subject_) subject_ = entity;
    mentioned_.insert(entity);
  }
  return {};
}

// "sort by revenue", "ordered by name descending", "highest first".
Result<void> Builder::ReadSort() {
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used) continue;
    if (it.kind == ItemKind::kDir) {
      it.used = true;
      direction_ = it.dir;
      if (it.hint == "alpha") alpha_ = true;
      // "in ascending order of price": the column one word ("of") after the order.
      Item* next = Next(k, false);
      // "listed by descending age": the column right after the direction.
      const bool of_column = it.phrase.ends_with("order") ? next && next->begin == it.end + 1
                                                          : next && next->begin == it.end;
      if (of_column && next->is_column() && !next->used) {
        next->used = true;
        const ColumnEntry* c = PickColumn(*next);
        if (c) order_.push_back({Expr::Col(Ref(c)), it.dir > 0});
        if (k > 0 && !items_[k - 1].used && items_[k - 1].kind == ItemKind::kGroup &&
            items_[k - 1].end == it.begin)
          items_[k - 1].used = true;  // the "by" before it
      }
      continue;
    }
    if (it.kind != ItemKind::kSort) continue;
    it.used = true;
    Item* next = Next(k, false);
    if (next && next->kind == ItemKind::kDir && !next->used) {
      // "sorted by descending age".
      next->used = true;
      direction_ = next->dir;
      if (next->hint == "alpha") alpha_ = true;
      next = Next(static_cast<size_t>(next - items_.data()), false);
    }
    if (next && next->kind == ItemKind::kAgg) {
      Aggregate a = next->agg;
      next->used = true;
      Item* m = Next(static_cast<size_t>(next - items_.data()), false);
      if (m && m->is_column()) {
        m->used = true;
        order_.push_back({Expr::Agg(a, Ref(PickColumn(*m, true))), true});
      } else if (m && m->is_table() && a == Aggregate::kCount) {
        m->used = true;
        order_.push_back({Expr::CountStar(), true});
      }
      continue;
    }
    if (next && next->is_column()) {
      next->used = true;
      const ColumnEntry* c = PickColumn(*next);
      bool grouped = !groups_.empty() || (previous_ && previous_->is_aggregated());
      Expr e = Expr::Col(Ref(c));
      if (grouped && c->is_numeric) {
        // In a grouped answer, sort by the measure over that column.
        e = Expr::Agg(Aggregate::kSum, Ref(c));
        if (previous_)
          for (const auto& s : previous_->select)
            if (s.expr.column && *s.expr.column == Ref(c) && s.expr.is_aggregate()) e = s.expr;
        for (const auto& m : measures_)
          if (m.expr.column && *m.expr.column == Ref(c)) e = m.expr;
      }
      // "ordered by price" is ascending, as in SQL; a measure of groups ("sorted by
      // revenue" per country) highest first.
      order_.push_back({e, e.is_aggregate()});
      continue;
    }
    if (next && next->is_table()) {
      next->used = true;
      const TableEntry* t = PickTable(*next);
      if (t->label) order_.push_back({Expr::Col(Ref(t->label)), false});
    }
  }
  if (direction_ != 0) {
    for (auto& o : order_) o.descending = direction_ > 0;
  }
  return {};
}

// The words of a foreign key that say the referenced row's role: "dst_stop_id" referring to
// stop(stop_id) is the "destination" stop, "home_team_id" referring to team(id) the "home"
// team. Words of the referenced key and table are not part of the role.
std::vector<std::string> RoleWords(const FkEdge& e) {
  std::set<std::string> other;
  for (const auto& name : {e.to_column, e.to_table})
    for (const auto& w : text::SplitIdentifier(name)) other.insert(Key(w));
  std::vector<std::string> role;
  for (const auto& w : text::SplitIdentifier(e.from_column)) {
    const auto& expanded = ExpandAbbreviation(w);
    for (const auto& x : expanded.empty() ? std::vector<std::string>{w} : expanded)
      if (x != "id" && !other.contains(Key(x))) role.push_back(Key(x));
  }
  return role;
}

// "legs whose destination stops are on an island": of several foreign keys between the same
// two tables (a leg's source and destination stops), the join takes the one whose role the
// question says, when it says the role of exactly one. The word is then accounted for.
void Builder::ChooseForeignKeysByRole(sql::Query& q) {
  for (sql::Join& j : q.joins) {
    const std::vector<FkEdge> edges = index_.EdgesBetween(j.left.table, j.right.table);
    if (edges.size() < 2) continue;
    const FkEdge* chosen = nullptr;
    std::vector<Item*> said;
    bool several = false;
    for (const FkEdge& e : edges) {
      const std::vector<std::string> role = RoleWords(e);
      for (Item& it : items_) {
        if (it.kind != ItemKind::kUnknown ||
            std::find(role.begin(), role.end(), Key(it.phrase)) == role.end())
          continue;
        if (chosen && chosen != &e) several = true;
        chosen = &e;
        said.push_back(&it);
      }
    }
    if (!chosen || several) continue;
    if (SameTable(j.left.table, chosen->from_table)) {
      j.left.column = chosen->from_column;
      j.right.column = chosen->to_column;
    } else {
      j.left.column = chosen->to_column;
      j.right.column = chosen->from_column;
    }
    for (Item* it : said) {
      it->used = true;
      it->kind = ItemKind::kWith;  // consumed
    }
  }
}

Result<void> Builder::FinishJoins(sql::Query& q) {
  std::vector<std::string> tables = q.OwnTables();
  // The rows an absence says are not there ("departments no student minors in"): a join to
  // them, or through them, would keep only the rows that have them and answer nothing. Tables
  // named without a column to show are left out then; a column of the absent rows shown or
  // compared contradicts the absence.
  std::vector<std::string> absent;
  for (const auto& p : q.where)
    if (p.negated && p.op == CompareOp::kIn && p.has_subquery())
      absent.push_back(p.subquery.front().from);
  for (const auto& a : absent)
    for (const auto& t : tables)
      if (SameTable(a, t) && !SameTable(a, q.from))
        return std::unexpected(NotUnderstood(
            fmt::format("the question asks for {} rows and for their absence at once", a)));
  if (absent.empty())
    for (const auto* t : extra_tables_) tables.push_back(t->table->name);
  std::vector<std::string> others;
  for (const auto& t : tables)
    if (!SameTable(t, q.from) &&
        std::find_if(others.begin(), others.end(),
                     [&](const std::string& o) { return SameTable(o, t); }) == others.end())
      others.push_back(t);
  q.joins.clear();
  auto joins = index_.PlanJoins(q.from, others);
  if (!joins)
    return std::unexpected(
        NotUnderstood(fmt::format("the tables {} and {} are not connected by foreign keys", q.from,
                                  text::Join(others, ", "))));
  q.joins = std::move(*joins);
  ChooseForeignKeysByRole(q);
  // Sums and averages must not count a row twice: refuse a measure whose table is joined
  // to a "many" side.
  for (const auto& s : q.select) {
    const Expr& e = s.expr;
    if (!e.column || (e.agg != Aggregate::kSum && e.agg != Aggregate::kAvg)) continue;
    for (const auto& j : q.joins) {
      if (index_.FansOut(e.column->table, j.table)) {
        return std::unexpected(NotUnderstood(fmt::format(
            "{} of {}.{} broken down by {} would count each {} row once per matching {} row",
            sql::AggregateName(e.agg), e.column->table, e.column->column, j.table, e.column->table,
            j.table)));
      }
    }
  }
  // A plain listing joined to a "many" side would repeat rows: list each once.
  if (!q.is_aggregated()) {
    for (const auto& j : q.joins)
      if (index_.FansOut(q.from, j.table)) q.distinct = true;
  }
  // COUNT(*) counts rows of the main table; with a fan-out join count its keys instead.
  const TableEntry* from = index_.FindTable(q.from);
  bool fans_out = std::any_of(q.joins.begin(), q.joins.end(),
                              [&](const sql::Join& j) { return index_.FansOut(q.from, j.table); });
  if (fans_out && from && from->primary_key) {
    Expr distinct_rows = Expr::Agg(Aggregate::kCountDistinct, Ref(from->primary_key));
    auto fix = [&](Expr& e) {
      if (e.agg == Aggregate::kCount && !e.column) e = distinct_rows;
    };
    for (auto& s : q.select) fix(s.expr);
    for (auto& o : q.order_by) fix(o.expr);
    for (auto& h : q.having) fix(h.lhs);
  }
  return {};
}

Result<void> Builder::Assemble() {
  // "the distinct names", "different cities": the rows listed once each.
  for (auto& it : items_) {
    if (it.used || it.kind != ItemKind::kDistinct) continue;
    it.used = true;
    distinct_ = true;
  }
  // "all the information about the cheapest books": every column of the rows listed.
  for (auto& it : items_) {
    if (it.used || it.kind != ItemKind::kEverything) continue;
    it.used = true;
    everything_ = true;
  }
  // "allergy to milk or cat": the column named beside values it is filtered on by IN is the
  // filter's, not one more column to show (it would list each row once per value).
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || !it.is_column()) continue;
    const ColumnEntry* c = PickColumn(it);
    if (!c) continue;
    const bool in_filter = std::any_of(where_.begin(), where_.end(), [&](const sql::Predicate& p) {
      return p.op == CompareOp::kIn && p.lhs.column && *p.lhs.column == Ref(c);
    });
    if (!in_filter) continue;
    for (size_t j = k > 2 ? k - 2 : 0; j < std::min(items_.size(), k + 3); ++j) {
      if (j != k && items_[j].is_value()) {
        it.used = true;
        break;
      }
    }
  }
  // "authors without a book in print": the filters on the related rows belong inside the
  // absence's subquery, not on the entity's rows.
  if (!absences_.empty()) {
    auto [index, entity] = absences_.front();
    std::vector<sql::Predicate> moved, kept;
    size_t kept_index = 0;
    for (size_t i = 0; i < where_.size(); ++i) {
      const sql::Predicate& p = where_[i];
      const bool other = p.lhs.column && !SameTable(p.lhs.column->table, entity->table->name);
      const bool absence = std::any_of(absences_.begin(), absences_.end(),
                                       [&](const auto& a) { return a.first == i; });
      if (i == index) kept_index = kept.size();
      (other && !absence ? moved : kept).push_back(p);
    }
    sql::Query& sub = kept[kept_index].subquery.front();
    if (!moved.empty()) {
      std::vector<std::string> tables;
      for (const auto& p : moved)
        if (!SameTable(p.lhs.column->table, sub.from)) tables.push_back(p.lhs.column->table);
      if (auto joins = index_.PlanJoins(sub.from, tables)) {
        sub.joins = *joins;
        for (auto& p : moved) sub.where.push_back(std::move(p));
        where_ = std::move(kept);
        absences_.clear();
      }
    }
  }
  // The subject: what the question is about.
  if (!subject_) {
    for (const auto& m : measures_) {
      if (m.expr.column) {
        subject_ = index_.FindTable(m.expr.column->table);
        break;
      }
    }
  }
  if (!subject_) {
    for (size_t k = 0; k < items_.size(); ++k) {
      const Item& it = items_[k];
      if (it.used || !it.is_table()) continue;
      // "product categories": in a compound noun the last word is the thing.
      if (k + 1 < items_.size() && items_[k + 1].is_table() && !items_[k + 1].used &&
          items_[k + 1].begin == it.end)
        continue;
      subject_ = PickTable(it);
      break;
    }
  }
  if (!subject_) {
    for (const auto& it : items_)
      if (!it.used && it.is_column()) {
        const ColumnEntry* c = PickColumn(it);
        subject_ = index_.FindTable(c->table->name);
        break;
      }
  }
  if (!subject_ && !group_tables_.empty()) subject_ = group_tables_.front();
  if (!subject_) {
    for (const auto& it : items_)
      if (it.is_table()) {
        subject_ = PickTable(it);
        break;
      }
  }
  if (!subject_ && !where_.empty() && where_[0].lhs.column)
    subject_ = index_.FindTable(where_[0].lhs.column->table);
  if (!subject_) return std::unexpected(NotUnderstood("I could not tell which table it is about"));

  // Remaining mentions: tables to join, columns to show (or to measure, when grouped).
  bool grouped = !groups_.empty() || grain_ != TimeGrain::kNone;
  for (auto& it : items_) {
    if (it.used || it.kind != ItemKind::kMention) continue;
    if (it.is_table()) {
      const TableEntry* t = PickTable(it);
      it.used = true;
      // "the address and phone of each client": a table named like one of its columns
      // (address.address), asked for beside other columns, is that column.
      const ColumnEntry* same = nullptr;
      for (const ColumnEntry* c : t->columns)
        if (c->words == t->words && !c->is_key) same = c;
      const bool other_columns =
          !projection_.empty() || std::any_of(items_.begin(), items_.end(), [](const Item& m) {
            return m.is_column() && !m.used;
          });
      if (t != subject_ && same && other_columns) {
        projection_.push_back(same);
        continue;
      }
      // "the titles of books and their authors": a table listed after the columns asked
      // for is shown by its label beside them.
      const size_t at = static_cast<size_t>(&it - items_.data());
      size_t first = at;  // past words nothing explains ("and their respective authors")
      while (first > 0 && items_[first - 1].kind == ItemKind::kUnknown && !items_[first].and_before)
        --first;
      size_t before = first;  // the column listed last, past words merged into it
      while (before > 0 && items_[before - 1].kind == ItemKind::kWith && items_[before - 1].used)
        --before;
      // The columns end right before: "the names of members and ..." or "the names and
      // ages of the climbers and ...".
      auto ends_columns = [&](const Item& m) {
        if (!m.used || projection_.empty()) return false;
        if (m.is_column()) return true;
        return m.is_table() && PickTable(m) == index_.FindTable(projection_.back()->table->name);
      };
      const bool listed = items_[first].and_before && before > 0 &&
                          ends_columns(items_[before - 1]) && measures_.empty() && !grouped &&
                          where_.empty() &&
                          !SameTable(projection_.back()->table->name, t->table->name);
      if (listed && t->label &&
          std::find(projection_.begin(), projection_.end(), t->label) == projection_.end()) {
        if (t == subject_) subject_ = index_.FindTable(projection_.back()->table->name);
        projection_.push_back(t->label);
        extra_tables_.push_back(t);
        continue;
      }
      if (t != subject_) extra_tables_.push_back(t);
      continue;
    }
    if (it.is_column()) {
      const ColumnEntry* c = PickColumn(it);
      it.used = true;
      // "the names of all movies": the name of the table named right after, its label,
      // not a column called "name" of a table the question never names.
      // "list each river name and the name of its town": a column of the table named
      // right after it (or after the list of columns it starts: "the names and places of
      // shows"), when that table has one of the name.
      const Item* after = Next(static_cast<size_t>(&it - items_.data()), false);
      size_t list_end = it.end;
      while (after && after->is_column() && after->begin <= list_end + 2) {
        list_end = after->end;
        after = Next(static_cast<size_t>(after - items_.data()), false);
      }
      if (after && after->is_table()) {
        const TableEntry* t = PickTable(*after);
        const std::string word = Lemma(text::ToLower(it.phrase));
        const ColumnEntry* own = nullptr;
        int own_score = -1;
        for (const auto& tg : it.targets) {
          if (!tg.column || tg.table != t) continue;
          const int score = tg.quality * 10 + (tg.column == t->label ? 2 : 0);
          if (score > own_score) {
            own_score = score;
            own = tg.column;
          }
        }
        if (own && after->begin <= list_end + 2) {
          c = own;
        } else if (!mentioned_.contains(index_.FindTable(c->table->name)) && t && t->label &&
                   (word == "name" || word == "title")) {
          c = t->label;
        }
      }
      if (c->is_numeric && (grouped || ImpliesTotal(it.phrase))) {
        // "revenue by country", "revenue from small business customers": a bare measure in a
        // grouped question, or one named by a word that means a total, is summed.
        measures_.push_back({Expr::Agg(Aggregate::kSum, Ref(c)), ""});
        continue;
      }
      // In a total over everything ("how many distinct members borrowed"), a word that
      // only loosely names a column (one word of it, or a synonym) is not a column to group by.
      int quality = 0;
      for (const auto& tg : it.targets)
        if (tg.column == c) quality = std::max(quality, tg.quality);
      if (!grouped && !measures_.empty() && quality < kHead) continue;
      if (std::find(projection_.begin(), projection_.end(), c) == projection_.end())
        projection_.push_back(c);
    }
  }
  // "average price per product" is an average over products, not one group per product.
  for (const TableEntry* g : std::vector<const TableEntry*>(group_tables_)) {
    bool own = !measures_.empty();
    for (const auto& m : measures_)
      if (!m.expr.column || m.expr.agg == Aggregate::kCount ||
          m.expr.agg == Aggregate::kCountDistinct ||
          !SameTable(m.expr.column->table, g->table->name))
        own = false;
    if (!own || top_ || !having_.empty() || !per_tables_.contains(g)) continue;
    for (const auto& key : EntityKeys(g)) std::erase(groups_, key);
    std::erase(group_tables_, g);
  }
  // Time grain: group by the period of the relevant date column.
  if (grain_ != TimeGrain::kNone) {
    const ColumnEntry* c = grain_column_;
    if (!c && !measures_.empty() && measures_[0].expr.column)
      c = DateOf(index_.FindTable(measures_[0].expr.column->table));
    if (!c) c = DateOf(subject_);
    for (const auto* t : mentioned_)
      if (!c) c = DateOf(t);
    if (!c) return std::unexpected(NotUnderstood("I found no date column to group by period"));
    Expr g{Aggregate::kNone, Ref(c), grain_};
    groups_.insert(groups_.begin(), g);
    if (order_.empty() && !limit_) order_.push_back({g, false});
  }
  grouped = !groups_.empty();
  if (grouped && measures_.empty()) measures_.push_back({Expr::CountStar(), "count"});
  if (!grouped && !measures_.empty() && !projection_.empty()) {
    // "average price and name"? Mixed lists: group by the named columns.
    for (const ColumnEntry* c : projection_) groups_.push_back(Expr::Col(Ref(c)));
    grouped = true;
    projection_.clear();
  }

  sql::Query q;
  q.from = subject_->table->name;
  // Measures decide the main table when they all come from one.
  if (!measures_.empty()) {
    for (const auto& m : measures_) {
      if (m.expr.column) {
        q.from = m.expr.column->table;
        break;
      }
    }
  }
  if (grouped || !measures_.empty()) {
    for (const auto& g : groups_) {
      // Entity keys are grouped by; show the label (and the key, for uniqueness).
      q.select.push_back(
          {g, g.grain != TimeGrain::kNone ? std::string(TimeGrainName(g.grain)) : ""});
    }
    for (const ColumnEntry* c : projection_) {
      Expr e = Expr::Col(Ref(c));
      q.select.push_back({e, ""});
      q.group_by.push_back(e);
    }
    for (const auto& m : measures_) {
      bool dup = std::any_of(q.select.begin(), q.select.end(),
                             [&](const sql::SelectItem& s) { return s.expr == m.expr; });
      if (!dup) q.select.push_back(m);
    }
    q.group_by.insert(q.group_by.begin(), groups_.begin(), groups_.end());
    // The primary key of an entity is grouped by but need not be shown twice.
    q.distinct = false;
  } else {
    // "the degrees conferred in 2001" where the table degrees holds a number called degrees:
    // that number, not every column of its rows.
    const ColumnEntry* namesake =
        projection_.empty() && !everything_ ? Namesake(subject_) : nullptr;
    if (namesake) {
      q.select.push_back({Expr::Col(Ref(namesake)), ""});
    } else if (projection_.empty() || everything_) {
      q.select.push_back({Expr::Col({subject_->table->name, "*"}), ""});
    } else {
      for (const ColumnEntry* c : projection_) {
        // A person's name is two columns: show the first name beside the last.
        const TableEntry* t = index_.FindTable(c->table->name);
        if (t && c == t->label && t->second_label &&
            std::find(projection_.begin(), projection_.end(), t->second_label) == projection_.end())
          q.select.push_back({Expr::Col(Ref(t->second_label)), ""});
        if (t && c == t->second_label && t->label &&
            std::find(projection_.begin(), projection_.end(), t->label) == projection_.end()) {
          q.select.push_back({Expr::Col(Ref(c)), ""});
          q.select.push_back({Expr::Col(Ref(t->label)), ""});
          continue;
        }
        q.select.push_back({Expr::Col(Ref(c)), ""});
      }
      // One column that does not name the row itself: list its different values.
      if (projection_.size() == 1 && projection_[0] != subject_->label && !projection_[0]->is_key &&
          !projection_[0]->is_numeric && !top_ && order_.empty())
        q.distinct = true;
      if (projection_order_) {
        bool shown = std::any_of(q.select.begin(), q.select.end(), [&](const sql::SelectItem& s) {
          return s.expr == *projection_order_;
        });
        if (!shown) q.select.push_back({*projection_order_, ""});
      }
    }
    if (distinct_) q.distinct = true;
  }
  // The same column asked for twice is shown once.
  std::vector<sql::SelectItem> unique;
  for (const auto& item : q.select)
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const sql::SelectItem& u) { return u.expr == item.expr; }))
      unique.push_back(item);
  q.select = std::move(unique);
  // "films made in 1987 or 1993" read as two equalities of one column, which no row meets at
  // once: either value (IN).
  std::vector<sql::Predicate> where;
  for (auto& p : where_) {
    const bool plain = p.op == CompareOp::kEq && !p.negated && !p.has_subquery() &&
                       !p.is_any_of() && p.values.size() == 1;
    auto same = std::find_if(where.begin(), where.end(), [&](const sql::Predicate& w) {
      return plain && (w.op == CompareOp::kEq || w.op == CompareOp::kIn) && !w.negated &&
             !w.has_subquery() && !w.is_any_of() && w.lhs == p.lhs &&
             w.case_insensitive == p.case_insensitive;
    });
    if (same == where.end()) {
      where.push_back(std::move(p));
      continue;
    }
    if (std::find(same->values.begin(), same->values.end(), p.values[0]) == same->values.end())
      same->values.push_back(p.values[0]);
    same->op = same->values.size() > 1 ? CompareOp::kIn : CompareOp::kEq;
    // "in both the team with id 4 and the team with id 7": rows for each, intersected.
    const bool both = both_ && !both_column_ && same->values.size() == 2;
    if (both) both_column_ = same->lhs.column;
    if (!p.phrase.empty())
      same->phrase += (same->phrase.empty() ? "" : both ? " and " : " or ") + p.phrase;
  }
  where_ = std::move(where);
  q.where = where_;
  q.having = having_;
  q.order_by = order_;
  q.limit = limit_;
  if (alpha_ && q.order_by.empty()) {
    // "all program origins in alphabetical order": the text listed, else the rows' names.
    const ColumnEntry* by = nullptr;
    for (const ColumnEntry* c : projection_)
      if (!by && c->is_text) by = c;
    if (!by) by = subject_->label;
    if (by) q.order_by.push_back({Expr::Col(Ref(by)), direction_ > 0});
  }
  if (q.order_by.empty() && direction_ != 0 && !measures_.empty())
    q.order_by.push_back({measures_.front().expr, direction_ > 0});
  // "the total scores in ascending order": the column listed.
  if (q.order_by.empty() && direction_ != 0 && measures_.empty() && projection_.size() == 1)
    q.order_by.push_back({Expr::Col(Ref(projection_.front())), direction_ > 0});
  // "the most expensive book by each author" asks for the top row within each group, which
  // one grouped SELECT cannot express; ordering a grouped answer by a plain column that is not
  // grouped would also be invalid SQL outside SQLite.
  if (!q.group_by.empty()) {
    for (const auto& o : q.order_by) {
      if (o.expr.is_aggregate()) continue;
      if (std::find(q.group_by.begin(), q.group_by.end(), o.expr) == q.group_by.end())
        return std::unexpected(NotUnderstood(
            "ranking rows within each group (the top row per group) is not supported yet"));
    }
  }
  AntiJoinNegations(q);
  auto joined = FinishJoins(q);
  if (!joined) return std::unexpected(joined.error());
  if (both_column_) {
    auto both = BothValues(q);
    if (!both) return std::unexpected(both.error());
  }
  if (!q.is_compound()) {
    auto disjoint = DisjointRanges(q);
    if (!disjoint) return std::unexpected(disjoint.error());
  }
  result_ = std::move(q);
  return {};
}

// "the nick names used by both members and trainers", "the nick names common to members and
// trainers", "the phone numbers of all members and trainers": one attribute that each of two
// tables has, asked of both. Rows of two tables that no foreign key links directly are compared
// by that attribute's values (INTERSECT, when the question asks what they share) or their lists
// are put together (UNION), never joined through whatever third table happens to link them.
std::optional<sql::Query> Builder::SharedColumn() {
  if (!tokens_) return std::nullopt;
  std::vector<Item*> mentions;
  std::vector<Item*> cues;
  bool by_and = false;
  for (auto& it : items_) {
    if (it.kind == ItemKind::kUnknown) {
      static const std::set<std::string_view> kCues = {"common", "shared", "share", "used",
                                                       "together"};
      if (kCues.contains(it.phrase)) cues.push_back(&it);
      continue;
    }
    if (it.kind == ItemKind::kWith) continue;
    // "used by members and by trainers"
    if (it.kind == ItemKind::kGroup && it.phrase == "by" &&
        (mentions.size() == 1 || mentions.size() == 2)) {
      if (mentions.size() == 2) by_and = it.and_before || it.right_after_and;
      cues.push_back(&it);
      continue;
    }
    if (it.kind != ItemKind::kMention || it.is_value() || it.targets.empty()) return std::nullopt;
    mentions.push_back(&it);
  }
  if (mentions.size() != 3 || !mentions[0]->is_column() || !mentions[1]->is_table() ||
      !mentions[2]->is_table() ||
      !(by_and || mentions[2]->and_before || mentions[2]->right_after_and))
    return std::nullopt;
  const TableEntry* a = PickTable(*mentions[1]);
  const TableEntry* b = PickTable(*mentions[2]);
  if (!a || !b || a == b) return std::nullopt;
  const int quality = mentions[0]->targets.front().quality;
  auto column_of = [&](const TableEntry* t) -> const ColumnEntry* {
    for (const auto& tg : mentions[0]->targets)
      if (tg.column && tg.table == t && tg.quality == quality) return tg.column;
    return nullptr;
  };
  const ColumnEntry* ca = column_of(a);
  const ColumnEntry* cb = column_of(b);
  if (!ca || !cb || ca->is_text != cb->is_text || ca->is_numeric != cb->is_numeric)
    return std::nullopt;
  // Tables a foreign key links directly are related rows ("the names of departments and their
  // employees"), read by the usual path.
  auto joins = index_.PlanJoins(a->table->name, {b->table->name});
  if (joins && joins->size() <= 1) return std::nullopt;
  const std::vector<Token>& t = *tokens_;
  auto word = [&](size_t i, std::string_view w) { return i < t.size() && t[i].text == w; };
  bool shared = false, listed = false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (word(i, "common") || word(i, "shared") || word(i, "share") || word(i, "both") ||
        (word(i, "used") && word(i + 1, "by")))
      shared = true;
    if (word(i, "either") || word(i, "together")) listed = true;
  }
  // "of all members and trainers": every row of each.
  const size_t first = mentions[1]->begin;
  if (first >= 1 && (word(first - 1, "all") || (first >= 2 && word(first - 2, "all"))))
    listed = true;
  if (shared == listed) return std::nullopt;
  for (Item* m : mentions) m->used = true;
  for (Item* c : cues) {
    if (c->kind == ItemKind::kUnknown) c->kind = ItemKind::kWith;  // said how the lists combine
    c->used = true;
  }
  subject_ = a;
  sql::Query left;
  left.from = a->table->name;
  left.select.push_back({Expr::Col(Ref(ca)), ""});
  sql::Query right;
  right.from = b->table->name;
  right.select.push_back({Expr::Col(Ref(cb)), ""});
  left.set_op = shared ? sql::SetOp::kIntersect : sql::SetOp::kUnion;
  left.set_rhs = {std::move(right)};
  return left;
}

// "both A and B": the rows listed for A that are also listed for B (INTERSECT), each side with
// one of the values; the filter's column is not shown (it differs between the sides).
Result<void> Builder::BothValues(sql::Query& q) {
  auto it = std::find_if(q.where.begin(), q.where.end(), [&](const sql::Predicate& p) {
    return p.lhs.column == both_column_ && p.op == CompareOp::kIn && p.values.size() == 2;
  });
  if (it == q.where.end()) return {};
  if (q.is_aggregated() || q.limit || !q.order_by.empty())
    return std::unexpected(NotUnderstood("I cannot yet count or rank rows that have both values"));
  std::erase_if(q.select, [&](const sql::SelectItem& s) {
    return s.expr.column == both_column_ && s.expr.agg == Aggregate::kNone;
  });
  if (q.select.empty() || std::any_of(q.select.begin(), q.select.end(), [](const auto& s) {
        return s.expr.column && s.expr.column->column == "*";
      }))
    return std::unexpected(NotUnderstood("I could not tell what to list for both values"));
  const size_t at = static_cast<size_t>(it - q.where.begin());
  sql::Query right = q;
  q.where[at].op = right.where[at].op = CompareOp::kEq;
  q.where[at].values = {it->values[0]};
  right.where[at].values = {right.where[at].values[1]};
  q.distinct = right.distinct = false;
  q.set_op = sql::SetOp::kIntersect;
  q.set_rhs = {std::move(right)};
  return {};
}

// "dorms that do not have a gym", "customers not living in Ohio": a negated filter on a table
// each row has many of asks for the rows none of whose related rows match (NOT IN), not for
// the related rows that differ (which would keep a dorm with a gym and a pool).
void Builder::AntiJoinNegations(sql::Query& q) {
  const TableEntry* from = index_.FindTable(q.from);
  if (!from || !from->primary_key) return;
  for (auto& p : q.where) {
    if (p.is_any_of() || p.has_subquery() || !p.lhs.column || p.lhs.is_aggregate()) continue;
    const bool negated_match = p.negated && (p.op == CompareOp::kEq || p.op == CompareOp::kIn);
    const bool not_equal = !p.negated && p.op == CompareOp::kNe;
    if (!negated_match && !not_equal) continue;
    const std::string related = p.lhs.column->table;
    if (SameTable(related, q.from) || !index_.FansOut(q.from, related)) continue;
    auto joins = index_.PlanJoins(q.from, {related});
    if (!joins) continue;
    sql::Query sub;
    sub.from = q.from;
    sub.joins = std::move(*joins);
    sub.select.push_back({Expr::Col(Ref(from->primary_key)), ""});
    sql::Predicate match = p;
    match.negated = false;
    if (not_equal) match.op = CompareOp::kEq;
    sub.where.push_back(std::move(match));
    sql::Predicate none =
        Pred(Expr::Col(Ref(from->primary_key)), CompareOp::kIn, {}, false, p.phrase);
    none.negated = true;
    none.subquery.push_back(std::move(sub));
    p = std::move(none);
    std::erase_if(extra_tables_,
                  [&](const TableEntry* t) { return SameTable(t->table->name, related); });
  }
}

// "hometowns of people older than 60 and younger than 20": no row is both, so the question
// asks for what rows of each kind share (INTERSECT), each side with one of the ranges; the
// compared column is not shown (it differs between the sides).
Result<void> Builder::DisjointRanges(sql::Query& q) {
  auto bound = [](const sql::Predicate& p) -> std::optional<double> {
    if (p.is_any_of() || p.has_subquery() || p.negated || p.values.size() != 1 || !p.lhs.column ||
        p.lhs.is_aggregate())
      return std::nullopt;
    return db::AsDouble(p.values[0]);
  };
  auto lower = [](CompareOp op) { return op == CompareOp::kGt || op == CompareOp::kGe; };
  auto upper = [](CompareOp op) { return op == CompareOp::kLt || op == CompareOp::kLe; };
  for (size_t i = 0; i < q.where.size(); ++i) {
    for (size_t j = 0; j < q.where.size(); ++j) {
      const sql::Predicate& lo = q.where[i];
      const sql::Predicate& hi = q.where[j];
      if (i == j || !lower(lo.op) || !upper(hi.op) || lo.lhs != hi.lhs) continue;
      auto a = bound(lo), b = bound(hi);
      if (!a || !b) continue;
      const bool empty =
          *b < *a || (*b == *a && !(lo.op == CompareOp::kGe && hi.op == CompareOp::kLe));
      if (!empty) continue;
      if (q.is_aggregated() || q.limit || !q.order_by.empty())
        return std::unexpected(
            NotUnderstood("I cannot yet count or rank what rows of two kinds have in common"));
      const Expr compared = lo.lhs;
      std::erase_if(q.select, [&](const sql::SelectItem& s) { return s.expr == compared; });
      if (q.select.empty() || std::any_of(q.select.begin(), q.select.end(), [](const auto& s) {
            return s.expr.column && s.expr.column->column == "*";
          }))
        return std::unexpected(
            NotUnderstood("I could not tell what to list for both kinds of rows"));
      sql::Query right = q;
      q.where.erase(q.where.begin() + static_cast<std::ptrdiff_t>(j));
      right.where.erase(right.where.begin() + static_cast<std::ptrdiff_t>(i));
      q.distinct = right.distinct = false;
      q.set_op = sql::SetOp::kIntersect;
      q.set_rhs = {std::move(right)};
      return {};
    }
  }
  return {};
}

// A follow-up edits the previous query rather than starting over.
Result<void> Builder::ApplyFollowUp() {
  // A combined answer ("both ... and ...") has more than one SELECT to edit; the question is
  // read on its own instead.
  if (previous_->is_compound())
    return std::unexpected(NotUnderstood("I cannot change an answer that combines two queries"));
  sql::Query q = *previous_;
  subject_ = index_.FindTable(q.from);
  // "top 5 instead", "just the top 3", "bottom 3": a new limit (and direction).
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kTop) continue;
    Item* next = Next(k, false);
    if (next && next->kind == ItemKind::kSuperlative && !q.is_aggregated()) {
      // "the 3 most expensive" after a listing: the ranking reads the count with the rows.
      next->n = it.n;
      it.used = true;
      continue;
    }
    bool has_target = next && next->kind == ItemKind::kMention && !next->is_value();
    if (has_target && !(next->is_table() && PickTable(*next) == subject_)) continue;
    if (has_target) next->used = true;
    it.used = true;
    if (it.n > 0) q.limit = it.n;
    if (q.order_by.empty()) {
      // "only the top 3" of a grouped answer: the largest by its measure.
      for (const auto& sel : q.select)
        if (sel.expr.is_aggregate() && q.order_by.empty())
          q.order_by.push_back({sel.expr, it.dir >= 0});
    } else if (it.dir != 0) {
      for (auto& o : q.order_by) o.descending = it.dir > 0;
    }
  }
  // "and the average?": change the aggregate of the measure.
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kAgg) continue;
    Item* next = Next(k, false);
    if (next && next->kind == ItemKind::kMention && !next->is_value()) continue;
    it.used = true;
    bool changed = false;
    for (auto& s : q.select) {
      if (!s.expr.is_aggregate() || !s.expr.column || changed) continue;
      Expr old = s.expr;
      if (it.agg == Aggregate::kCount) continue;
      s.expr.agg = it.agg;
      s.alias.clear();
      for (auto& o : q.order_by)
        if (o.expr == old) o.expr = s.expr;
      for (auto& h : q.having)
        if (h.lhs == old) h.lhs = s.expr;
      changed = true;
    }
    if (!changed && it.agg == Aggregate::kCount) {
      // "how many are there?": count the rows the previous answer listed.
      if (!q.is_aggregated()) {
        q.select = {{Expr::CountStar(), "count"}};
        q.order_by.clear();
        q.limit.reset();
        q.distinct = false;
        changed = true;
      }
    }
    if (!changed && subject_ && subject_->money) {
      for (auto& s : q.select) {
        if (s.expr.agg == Aggregate::kCount && !changed) {
          Expr old = s.expr;
          s.expr = Expr::Agg(it.agg, Ref(subject_->money));
          s.alias.clear();
          for (auto& o : q.order_by)
            if (o.expr == old) o.expr = s.expr;
          changed = true;
        }
      }
    }
    if (!changed) return std::unexpected(NotUnderstood("I could not tell which measure to change"));
  }
  // New groupings replace the old ones ("by month instead", "per category instead").
  subject_ = index_.FindTable(q.from);
  auto groups = ReadGroups();
  if (!groups) return groups;
  auto conditions = ReadConditions();
  if (!conditions) return conditions;
  auto measures = ReadMeasures();
  if (!measures) return measures;
  auto ranking = ReadRanking();
  if (!ranking) return ranking;
  auto filters = ReadFilters();
  if (!filters) return filters;
  auto sort = ReadSort();
  if (!sort) return sort;

  if (!groups_.empty() || grain_ != TimeGrain::kNone) {
    std::vector<sql::SelectItem> kept;
    for (const auto& s : q.select)
      if (s.expr.is_aggregate()) kept.push_back(s);
    std::vector<sql::SelectItem> select;
    std::vector<Expr> group_by;
    if (grain_ != TimeGrain::kNone) {
      const ColumnEntry* c = grain_column_;
      for (const auto& g : q.group_by)
        if (!c && g.grain != TimeGrain::kNone && g.column)
          c = index_.FindColumn(g.column->table, g.column->column);
      if (!c && subject_) c = DateOf(subject_);
      if (!c) return std::unexpected(NotUnderstood("I found no date column to group by period"));
      Expr g{Aggregate::kNone, Ref(c), grain_};
      group_by.push_back(g);
      select.push_back({g, std::string(TimeGrainName(grain_))});
    }
    for (const auto& g : groups_) {
      group_by.push_back(g);
      select.push_back({g, ""});
    }
    // Orders that referred to old groups go; orders on measures stay.
    std::vector<sql::OrderItem> order;
    for (const auto& o : q.order_by)
      if (o.expr.is_aggregate()) order.push_back(o);
    if (order.empty() && grain_ != TimeGrain::kNone) order.push_back({group_by.front(), false});
    select.insert(select.end(), kept.begin(), kept.end());
    if (kept.empty()) select.push_back({Expr::CountStar(), "count"});
    q.select = select;
    q.group_by = group_by;
    q.order_by = order;
  }
  for (const auto& m : measures_) {
    bool dup = std::any_of(q.select.begin(), q.select.end(),
                           [&](const sql::SelectItem& s) { return s.expr == m.expr; });
    if (!dup) q.select.push_back(m);
  }
  // Filters: a new filter on a column replaces the old one on it ("what about 2023?"), unless
  // the question adds to it ("and in Paris too?", "also France"): then both values count.
  for (const auto& p : where_) {
    if (additive_ && p.op == CompareOp::kEq && p.case_insensitive && p.lhs.column) {
      auto same = std::find_if(q.where.begin(), q.where.end(), [&](const sql::Predicate& old) {
        return old.lhs == p.lhs && (old.op == CompareOp::kEq || old.op == CompareOp::kIn) &&
               old.case_insensitive && !old.negated;
      });
      if (same != q.where.end()) {
        same->op = CompareOp::kIn;
        if (std::find(same->values.begin(), same->values.end(), p.values[0]) == same->values.end())
          same->values.push_back(p.values[0]);
        same->phrase += " or " + p.phrase;
        continue;
      }
    }
    const ColumnEntry* pc =
        p.lhs.column ? index_.FindColumn(p.lhs.column->table, p.lhs.column->column) : nullptr;
    std::erase_if(q.where, [&](const sql::Predicate& old) {
      if (!old.lhs.column || !p.lhs.column) return false;
      if (*old.lhs.column == *p.lhs.column) return true;
      // Two periods replace each other even on different date columns of one table.
      const ColumnEntry* oc = index_.FindColumn(old.lhs.column->table, old.lhs.column->column);
      return oc && pc && oc->is_temporal && pc->is_temporal && p.op == CompareOp::kRange &&
             old.op == CompareOp::kRange;
    });
    q.where.push_back(p);
  }
  for (const auto& h : having_) {
    std::erase_if(q.having, [&](const sql::Predicate& old) { return old.lhs == h.lhs; });
    q.having.push_back(h);
  }
  if (numeric_edit_) {
    auto is_number = [](const db::Value& v) { return db::IsNumber(v); };
    sql::Predicate* target = q.having.empty() ? nullptr : &q.having.front();
    for (auto& p : q.where)
      if (!target && !p.values.empty() && is_number(p.values[0])) target = &p;
    if (!target)
      return std::unexpected(NotUnderstood("there is no earlier condition for '" +
                                           numeric_edit_->phrase + "' to replace"));
    target->op = numeric_edit_->op;
    target->values = numeric_edit_->values;
    target->phrase = numeric_edit_->phrase;
  }
  if (!order_.empty()) q.order_by = order_;
  if (limit_) q.limit = limit_;
  if (projection_order_ && !q.is_aggregated()) {
    // The listed rows ranked by a column they do not show yet: show it beside them.
    const bool shown = std::any_of(q.select.begin(), q.select.end(), [&](const sql::SelectItem& s) {
      return s.expr == *projection_order_ ||
             (s.expr.column && s.expr.column->column == "*" && projection_order_->column &&
              SameTable(s.expr.column->table, projection_order_->column->table));
    });
    if (!shown) q.select.push_back({*projection_order_, ""});
  }
  if (direction_ != 0) {
    if (q.order_by.empty()) {
      for (const auto& s : q.select)
        if (s.expr.is_aggregate()) {
          q.order_by.push_back({s.expr, direction_ > 0});
          break;
        }
    }
    for (auto& o : q.order_by) o.descending = direction_ > 0;
  }
  if (alpha_) {
    const TableEntry* t = index_.FindTable(q.from);
    if (t && t->label) q.order_by = {{Expr::Col(Ref(t->label)), false}};
  }
  // Remaining mentions: "and their emails?" adds columns; a table adds a join.
  for (auto& it : items_) {
    if (it.used || it.kind != ItemKind::kMention) continue;
    it.used = true;
    if (it.is_column()) {
      const ColumnEntry* c = PickColumn(it);
      Expr e = Expr::Col(Ref(c));
      bool present = std::any_of(q.select.begin(), q.select.end(),
                                 [&](const sql::SelectItem& s) { return s.expr == e; });
      bool star = std::any_of(q.select.begin(), q.select.end(), [&](const sql::SelectItem& s) {
        return s.expr.column && s.expr.column->column == "*" &&
               SameTable(s.expr.column->table, c->table->name);
      });
      if (present) continue;
      if (star) {
        // Listing every column already: show just the asked-for ones with the row's name.
        std::vector<sql::SelectItem> select;
        const TableEntry* t = index_.FindTable(c->table->name);
        if (t && t->second_label && t->second_label != c)
          select.push_back({Expr::Col(Ref(t->second_label)), ""});
        if (t && t->label && t->label != c) select.push_back({Expr::Col(Ref(t->label)), ""});
        select.push_back({e, ""});
        q.select = select;
        continue;
      }
      if (q.is_aggregated()) {
        if (c->is_numeric && !c->is_key) {
          q.select.push_back({Expr::Agg(Aggregate::kSum, Ref(c)), ""});
        } else {
          // Insert before the measures, and group by it.
          auto pos = std::find_if(q.select.begin(), q.select.end(),
                                  [](const sql::SelectItem& s) { return s.expr.is_aggregate(); });
          q.select.insert(pos, {e, ""});
          q.group_by.push_back(e);
        }
      } else {
        q.select.push_back({e, ""});
      }
    } else if (it.is_table()) {
      extra_tables_.push_back(PickTable(it));
    }
  }
  // A measure added to a plain list ("what is their average price?") replaces the listed
  // columns: a column neither grouped nor aggregated has no single value per result row, and
  // PostgreSQL and MySQL refuse such SQL where SQLite would pick an arbitrary row's value.
  if (q.is_aggregated()) {
    auto ungrouped = [&q](const Expr& e) {
      return !e.is_aggregate() &&
             std::find(q.group_by.begin(), q.group_by.end(), e) == q.group_by.end();
    };
    std::erase_if(q.select, [&](const sql::SelectItem& s) { return ungrouped(s.expr); });
    std::erase_if(q.order_by, [&](const sql::OrderItem& o) { return ungrouped(o.expr); });
    if (q.select.empty()) q.select.push_back({Expr::CountStar(), "count"});
  }
  auto joined = FinishJoins(q);
  if (!joined) return std::unexpected(joined.error());
  result_ = std::move(q);
  return {};
}

// Two mentions side by side that can name one column are one mention: "units in stock" is
// stock_quantity, not units and then stock. A structural word that is also the word of a
// column right after its table ("order total") names that column.
// The mention b, said right after a, is part of it: a spans both, and b adds nothing further.
void Absorb(Item& a, Item& b) {
  a.end = b.end;
  a.phrase += " " + b.phrase;
  b.used = true;
  b.kind = ItemKind::kWith;
}

void Builder::MergeMentions() {
  // "the member called Jerry Prince": "called" or "named" before a known value says that the
  // value follows; it names a column only when the value is one of that column's.
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& a = items_[k];
    const Item& b = items_[k + 1];
    if (a.used || b.used || !a.is_column() || b.values.empty() || b.begin != a.end) continue;
    const std::string word = text::ToLower(a.phrase);
    if (word != "called" && word != "named") continue;
    const bool holds = std::any_of(b.values.begin(), b.values.end(), [&](const ValueTarget& v) {
      return std::any_of(a.targets.begin(), a.targets.end(),
                         [&](const SchemaTarget& t) { return t.column == v.column; });
    });
    if (holds) continue;
    a.kind = ItemKind::kWith;
    a.used = true;
  }
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& a = items_[k];
    Item& b = items_[k + 1];
    if (a.used || b.used || a.kind != ItemKind::kMention || b.kind != ItemKind::kMention ||
        a.is_value() || b.is_value() || b.begin > a.end + 1)
      continue;
    // "the names and trade names": two columns said one after the other, not one.
    if (b.begin == a.end + 1 && b.right_after_and) continue;
    std::vector<SchemaTarget> both;
    for (const auto& ta : a.targets) {
      if (!ta.column) continue;
      for (const auto& tb : b.targets)
        if (tb.column == ta.column) both.push_back({ta.table, ta.column, ta.quality + tb.quality});
    }
    if (both.empty()) continue;
    std::stable_sort(both.begin(), both.end(), [](const SchemaTarget& x, const SchemaTarget& y) {
      return x.quality > y.quality;
    });
    a.targets = both;
    Absorb(a, b);
  }
  // "phone numbers" where the column is just "phone": "number" adds nothing to the column
  // before it, and names no column of that column's table; "phone number of the students"
  // is no count.
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& a = items_[k];
    Item& b = items_[k + 1];
    if (a.used || b.used || !a.is_column() || b.begin != a.end) continue;
    const std::string word = text::ToLower(b.phrase);
    const bool number_word = word == "number" || word == "numbers";
    const bool count_word = b.kind == ItemKind::kAgg && b.agg == Aggregate::kCount &&
                            word == "number of" && k + 2 < items_.size() &&
                            items_[k + 2].is_table();
    if (!(number_word && b.kind == ItemKind::kMention && !b.is_value()) && !count_word) continue;
    const ColumnEntry* c = a.targets[0].column;
    if (std::find(c->words.begin(), c->words.end(), "number") != c->words.end() ||
        std::find(c->words.begin(), c->words.end(), "phone") == c->words.end())
      continue;
    const bool own = std::any_of(b.targets.begin(), b.targets.end(), [&](const SchemaTarget& t) {
      return t.column && SameTable(t.column->table->name, c->table->name);
    });
    if (own) continue;
    Absorb(a, b);
  }
  // "Los Angeles county": a value then the column that holds it says which column it is a
  // value of, when it is found in several.
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& a = items_[k];
    Item& b = items_[k + 1];
    if (a.used || b.used || a.values.size() < 2 || !b.is_column() || b.begin != a.end) continue;
    std::vector<ValueTarget> held;
    for (const auto& v : a.values)
      for (const auto& tg : b.targets)
        if (tg.column == v.column) {
          held.push_back(v);
          break;
        }
    if (held.empty() || held.size() == a.values.size()) continue;
    a.values = std::move(held);
    Absorb(a, b);
  }
  // "author country", "customer names": a table then one of its columns names that column.
  for (size_t k = 0; k + 1 < items_.size(); ++k) {
    Item& a = items_[k];
    Item& b = items_[k + 1];
    if (a.used || b.used || !a.is_table() || !b.is_column() || b.begin != a.end) continue;
    // "how many products cost more than 5": a column right before a comparison is the verb
    // the table's rows are compared by, and the table stays the subject (to count or list).
    if (k + 2 < items_.size() && items_[k + 2].kind == ItemKind::kNumCond &&
        items_[k + 2].begin == b.end)
      continue;
    const TableEntry* t = PickTable(a);
    std::vector<SchemaTarget> own;
    // Only a column named by its head word: "customers signed up" is a verb, not a property.
    // Flags and dates are adjectives and verbs ("books in print", "hired"), not properties.
    for (const auto& tg : b.targets)
      if (tg.column && tg.table == t && tg.quality >= kSynonym && !tg.column->is_flag &&
          !tg.column->is_temporal)
        own.push_back({t, tg.column, tg.quality + kExact});
    if (own.empty()) continue;
    a.targets = own;
    Absorb(a, b);
  }
  for (size_t k = 1; k < items_.size(); ++k) {
    Item& it = items_[k];
    if (it.used || it.kind != ItemKind::kAgg || !items_[k - 1].is_table()) continue;
    if (k + 1 < items_.size() && items_[k + 1].kind == ItemKind::kMention) continue;
    const TableEntry* t = PickTable(items_[k - 1]);
    std::string word = text::ToLower(it.phrase);
    for (const ColumnEntry* c : t->columns) {
      if (!c->is_numeric || std::find(c->words.begin(), c->words.end(), word) == c->words.end())
        continue;
      it.kind = ItemKind::kMention;
      it.targets = {{t, c, kExact}};
      items_[k - 1].used = true;
      break;
    }
  }
}

// "hotels in the city of Utrecht", "the word love in their titles": a word that no stored
// value or schema name explains, capitalised (or with digits: and the capitalised words after
// it) right after a text column, or any word right after one saying a text is inside another,
// is a value of that column as if it were quoted. The column may hold too many values for the index
// to know them all.
void Builder::ReadUnindexedValues() {
  auto name_like = [](const Item& m) {
    if (m.kind != ItemKind::kUnknown || m.used || m.begin == 0 || m.phrase.empty()) return false;
    const auto first = static_cast<unsigned char>(m.phrase[0]);
    return std::isupper(first) || std::any_of(m.phrase.begin(), m.phrase.end(), [](char ch) {
             return std::isdigit(static_cast<unsigned char>(ch));
           });
  };
  for (size_t k = 1; k < items_.size(); ++k) {
    Item& it = items_[k];
    // "containing the letter": the word saying so is no value.
    if (it.kind != ItemKind::kUnknown || it.used || IsContainsWord(it.phrase)) continue;
    const Item& before = items_[k - 1];
    bool after_column = false;
    if (before.is_column() && !before.used && it.begin <= before.end + 1) {
      const ColumnEntry* c = PickColumn(before);
      after_column = c && c->is_text;
    }
    const bool after_inside = before.kind == ItemKind::kUnknown && !before.used &&
                              before.end == it.begin && IsContainsWord(before.phrase);
    // After a column the value must look like a name; "the word love" says so itself.
    if (!(after_column && name_like(it)) && !after_inside) continue;
    // "New York": the capitalised words that follow are the same value.
    for (size_t j = k + 1; j < items_.size(); ++j) {
      Item& more = items_[j];
      if (!name_like(more) || more.begin != it.end) break;
      it.phrase += " " + more.phrase;
      it.end = more.end;
      more.used = true;
      more.kind = ItemKind::kWith;  // consumed
    }
    it.kind = ItemKind::kMention;
    it.quoted = it.phrase;
  }
}

Result<Understanding> Builder::Build(bool follow_up) {
  follow_up_ = follow_up;
  for (const auto& tok_item : items_)
    if (IsSoldWord(tok_item.phrase)) prefer_fact_ = true;
  CollectMentionedTables();
  MergeMentions();
  ReadUnindexedValues();
  if (follow_up) {
    auto r = ApplyFollowUp();
    if (!r) return std::unexpected(r.error());
  } else if (auto shared = SharedColumn()) {
    result_ = std::move(*shared);
  } else {
    for (auto step : {&Builder::ReadAbsence, &Builder::ReadGroups, &Builder::ReadConditions,
                      &Builder::ReadMeasures, &Builder::ReadRanking, &Builder::ReadFilters,
                      &Builder::ReadSort, &Builder::Assemble}) {
      auto r = (this->*step)();
      if (!r) return std::unexpected(r.error());
    }
  }
  // Every content word must be accounted for; each one that is not lowers the confidence.
  std::vector<std::string> unknown;
  for (const auto& it : items_) {
    if (it.kind == ItemKind::kUnknown) {
      unknown.push_back(it.phrase);
      confidence_ *= 0.5;
    } else if (!it.used && (it.kind == ItemKind::kAgg || it.kind == ItemKind::kNumCond ||
                            it.kind == ItemKind::kSuperlative || it.kind == ItemKind::kTop ||
                            it.kind == ItemKind::kNot)) {
      // A structural word that found no place would silently change the meaning.
      return std::unexpected(NotUnderstood(fmt::format("I could not place '{}'", it.phrase)));
    }
  }
  bool asked_something = std::any_of(items_.begin(), items_.end(), [](const Item& it) {
    return it.kind == ItemKind::kMention || it.kind == ItemKind::kAgg;
  });
  // A follow-up that leaves the query as it was is declined when it stated nothing the engine
  // could apply. One that restates what the answer already shows ("what about 2024?" when it is
  // for 2024 already; also a question asked again after its answer was lost on the way, while
  // its turn was kept) is answered with the same query.
  const bool stated_something = asked_something || !where_.empty() || !having_.empty() ||
                                !groups_.empty() || grain_ != TimeGrain::kNone;
  if (previous_ && follow_up && *result_ == *previous_ && !stated_something)
    return std::unexpected(NotUnderstood("I could not tell what to change in the previous answer"));
  Understanding u;
  u.query = std::move(*result_);
  u.heuristic_confidence = confidence_;
  u.features = Features(u.query, unknown.size());
  u.follow_up = follow_up;
  u.notes = notes_;
  if (!unknown.empty()) u.notes.push_back("ignored the words: " + text::Join(unknown, ", "));
  return u;
}

std::vector<double> Builder::Features(const sql::Query& q, size_t unknown) const {
  FeatureVector f;
  f.Set("heuristic_log", std::log(std::max(confidence_, 1e-6)));
  f.Set("unknown_words", static_cast<double>(unknown));
  int weakest = kExact + 1;
  for (const auto& it : items_) {
    switch (it.kind) {
      case ItemKind::kMention: {
        f.Add("mentions", 1);
        if (!it.quoted.empty()) f.Add("quoted_mentions", 1);
        if (it.is_value() && it.targets.empty()) f.Add("value_mentions", 1);
        if (it.is_table()) f.Add("table_mentions", 1);
        if (it.is_column()) f.Add("column_mentions", 1);
        if (!it.used) f.Add("unused_mentions", 1);
        if (it.targets.size() > 1 && it.targets[1].quality == it.targets[0].quality)
          f.Add("ambiguous_mentions", 1);
        if (!it.targets.empty()) weakest = std::min(weakest, it.targets[0].quality);
        break;
      }
      case ItemKind::kAgg:
        f.Add("aggregate_words", 1);
        break;
      case ItemKind::kSuperlative:
        f.Add("superlative_words", 1);
        break;
      case ItemKind::kTop:
        f.Add("top_words", 1);
        break;
      case ItemKind::kGroup:
      case ItemKind::kGrain:
        f.Add("group_words", 1);
        break;
      case ItemKind::kNumCond:
        f.Add("numeric_conditions", 1);
        break;
      case ItemKind::kDate:
        f.Add("date_words", 1);
        break;
      case ItemKind::kNot:
        f.Add("negation_words", 1);
        break;
      case ItemKind::kSort:
      case ItemKind::kDir:
        f.Add("sort_words", 1);
        break;
      case ItemKind::kDistinct:
        f.Add("distinct_words", 1);
        break;
      case ItemKind::kEverything:
        f.Add("everything_words", 1);
        break;
      case ItemKind::kWith:
        f.Add("with_words", 1);
        break;
      case ItemKind::kUnknown:
        break;
    }
  }
  if (weakest == kExact) f.Set("weakest_exact", 1);
  if (weakest == kHead) f.Set("weakest_head", 1);
  if (weakest == kSynonym) f.Set("weakest_synonym", 1);
  if (weakest <= kModifier) f.Set("weakest_modifier", 1);
  f.Set("follow_up", follow_up_ ? 1 : 0);
  f.Set("joins", static_cast<double>(q.joins.size()));
  f.Set("select_items", static_cast<double>(q.select.size()));
  f.Set("where_predicates", static_cast<double>(q.where.size()));
  f.Set("group_by", static_cast<double>(q.group_by.size()));
  f.Set("having", static_cast<double>(q.having.size()));
  f.Set("order_by", static_cast<double>(q.order_by.size()));
  f.Set("limit", q.limit ? 1 : 0);
  f.Set("distinct", q.distinct ? 1 : 0);
  f.Set("aggregated", q.is_aggregated() ? 1 : 0);
  for (const auto& p : q.where) {
    if (p.op == CompareOp::kContains) f.Add("contains_predicates", 1);
    if (p.op == CompareOp::kIn) f.Add("in_predicates", 1);
  }
  for (const auto& s : q.select)
    if (s.expr.agg == Aggregate::kCount && !s.expr.column) f.Set("count_star", 1);
  f.Set("tables_in_schema", std::log1p(static_cast<double>(index_.tables().size())));
  return f.Take();
}

// Structural words of the question, for the confidence model.
void AddWordFeatures(const std::vector<Token>& tokens, std::vector<double>& features) {
  if (features.size() != ConfidenceFeatureNames().size()) return;
  auto add = [&](std::string_view name) {
    int i = ConfidenceFeatureIndex(name);
    if (i >= 0) features[static_cast<size_t>(i)] += 1;
  };
  static const std::vector<std::pair<std::string_view, std::string_view>> kWords = {
      {"both", "w_both"},
      {"never", "w_never"},
      {"not", "w_not"},
      {"no", "w_no"},
      {"without", "w_without"},
      {"except", "w_except"},
      {"than", "w_than"},
      {"average", "w_average"},
      {"each", "w_each"},
      {"every", "w_every"},
      {"all", "w_all"},
      {"most", "w_most"},
      {"least", "w_least"},
      {"and", "w_and"},
      {"or", "w_or"},
      {"who", "w_who"},
      {"whose", "w_whose"},
      {"which", "w_which"},
      {"have", "w_have"},
      {"has", "w_have"},
      {"had", "w_have"},
      {"same", "w_same"},
      {"different", "w_different"},
      {"distinct", "w_different"},
      {"only", "w_only"},
      {"per", "w_per"},
      {"by", "w_by"},
      {"order", "w_order"},
      {"sorted", "w_order"},
      {"first", "w_first"},
      {"last", "w_last"},
      {"top", "w_top"},
      {"total", "w_total"},
      {"number", "w_number"},
      {"what", "w_what"},
      {"list", "w_list"},
      {"name", "w_name"},
      {"names", "w_name"},
      {"any", "w_any"},
      {"between", "w_between"},
      {"for", "w_for"},
      {"of", "w_of"},
      {"in", "w_in"},
      {"with", "w_with"},
      {"from", "w_from"},
      {"did", "w_did"},
      {"do", "w_did"},
      {"does", "w_did"},
      {"also", "w_also"},
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& w = tokens[i].text;
    for (const auto& [word, name] : kWords)
      if (w == word) add(name);
    const std::string next = i + 1 < tokens.size() ? tokens[i + 1].text : std::string();
    if (w == "at" && (next == "least" || next == "most")) add("w_at_least");
    if ((w == "more" || w == "greater" || w == "larger" || w == "higher" || w == "bigger") &&
        next == "than")
      add("w_more_than");
    if ((w == "less" || w == "fewer" || w == "smaller" || w == "lower") && next == "than")
      add("w_less_than");
    if (w == "how" && (next == "many" || next == "much")) add("w_how_many");
  }
  if (!tokens.empty() && tokens[0].text == "how") add("starts_how");
  if (!tokens.empty() && (tokens[0].text == "which" || tokens[0].text == "who"))
    add("starts_which");
  features[static_cast<size_t>(ConfidenceFeatureIndex("tokens"))] =
      std::log1p(static_cast<double>(tokens.size()));
}

// The answer's confidence: the calibrated model's when one is shipped.
Result<Understanding> Finish(Result<Understanding> u, const std::vector<Token>& tokens) {
  if (!u) return u;
  AddWordFeatures(tokens, u->features);
  u->confidence = ShippedConfidenceModel().empty() ? u->heuristic_confidence
                                                   : CalibratedConfidence(u->features);
  return u;
}

}  // namespace

bool IsContainsWord(std::string_view phrase) {
  static const std::set<std::string> kWords = {"contain", "include",   "word",    "phrase",
                                               "string",  "substring", "mention", "part",
                                               "letter",  "character"};
  for (const auto& w : text::Split(text::ToLower(phrase), ' '))
    if (kWords.contains(Lemma(w))) return true;
  return false;
}

bool IsSoldWord(std::string_view phrase) {
  static const std::set<std::string> kWords = {"sold",   "sell",      "sells",  "selling",
                                               "bought", "purchased", "ordered"};
  for (const auto& w : text::Split(text::ToLower(phrase), ' '))
    if (kWords.contains(w)) return true;
  return false;
}

bool ImpliesTotal(std::string_view phrase) {
  static const std::set<std::string> kWords = {"revenue", "sale",     "turnover", "income",
                                               "spend",   "spending", "earnings"};
  for (const auto& w : text::Split(text::ToLower(phrase), ' '))
    if (kWords.contains(Lemma(w))) return true;
  return false;
}

namespace {

bool HasFollowUpMarker(const std::vector<Token>& t) {
  if (t.empty()) return false;
  static const std::set<std::string_view> kStarts = {
      "and", "only", "just", "but", "now", "also", "then", "instead", "same", "except", "excluding",
      "exclude", "include", "sort", "order", "limit", "what's", "whats",
      // "by region", "per month", "grouped by city": a grouping alone has nothing to group.
      "by", "per", "grouped", "broken", "split"};
  if (kStarts.contains(t[0].text)) return true;
  if (TextAt(t, 0, {"what", "about"}) || TextAt(t, 0, {"how", "about"})) return true;
  for (const auto& tok : t)
    if (tok.text == "instead" || tok.text == "their" || tok.text == "them" || tok.text == "those" ||
        tok.text == "these" || tok.text == "only" || tok.text == "too" || tok.text == "also" ||
        (tok.text == "well" && &tok != &t.front()))
      return true;
  return false;
}

}  // namespace

Engine::Engine(std::shared_ptr<const SchemaIndex> index, const Clock& clock)
    : index_(std::move(index)), clock_(clock), id_([] {
        static std::atomic<uint64_t> next{1};
        return next.fetch_add(1);
      }()) {}

std::chrono::sys_days Engine::Today() const {
  return std::chrono::floor<std::chrono::days>(clock_.Now());
}

Result<Understanding> Engine::Understand(std::string_view question,
                                         const sql::Query* previous) const {
  std::vector<Token> tokens = Tokenize(question);
  if (tokens.empty()) return Fail(ErrorCode::kNotUnderstood, "The question is empty.");
  auto today = std::chrono::year_month_day{Today()};
  Tagger tagger(*index_, today);
  std::vector<Item> items = tagger.Run(tokens);
  bool sold =
      std::any_of(tokens.begin(), tokens.end(), [](const Token& t) { return IsSoldWord(t.text); });
  const bool both =
      std::any_of(tokens.begin(), tokens.end(), [](const Token& t) { return t.text == "both"; });
  auto fresh = [&]() {
    return Finish(
        Builder(*index_, items, nullptr, sold).WithBoth(both).WithTokens(&tokens).Build(false),
        tokens);
  };
  if (!previous) return fresh();
  // In a follow-up a period without a year ("and Q2?") keeps the conversation's year.
  int year = 0;
  for (const auto& p : previous->where) {
    if (p.op == sql::CompareOp::kRange && !p.values.empty() &&
        std::holds_alternative<std::string>(p.values[0]) &&
        std::get<std::string>(p.values[0]).size() >= 4) {
      year = std::atoi(std::get<std::string>(p.values[0]).substr(0, 4).c_str());
      break;
    }
  }
  std::vector<Item> follow_items = year ? Tagger(*index_, today, year).Run(tokens) : items;
  bool additive = std::any_of(tokens.begin(), tokens.end(), [](const Token& t) {
    return t.text == "too" || t.text == "also" || t.text == "well";
  });
  auto edit = [&]() {
    return Finish(Builder(*index_, follow_items, previous, sold, additive).Build(true), tokens);
  };
  // A question that reads like a follow-up ("only in Germany", "top 5 instead") or names no
  // table or column ("in 2023", "lowest first") edits the previous query; any other is read
  // on its own first.
  bool names_schema = std::any_of(items.begin(), items.end(), [](const Item& it) {
    return it.kind == ItemKind::kMention && !it.targets.empty();
  });
  if (HasFollowUpMarker(tokens) || !names_schema) {
    auto edited = edit();
    if (edited) return edited;
    auto alone = fresh();
    return alone ? alone : edited;
  }
  auto alone = fresh();
  if (alone) return alone;
  auto edited = edit();
  return edited ? edited : alone;
}

}  // namespace helios::nl2sql::engine
