#include "nl2sql/question_shape.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/text.h"
#include "nl2sql/engine/dates.h"
#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/tokenizer.h"

// The shaper reads a question the way the engine's tagger does (engine/engine.cc: the same
// tokens, the same order of attempts, the same longest matches), so that two questions with
// one signature are read by the engine into the same items with only their values changed.
// Where the engine gives several spellings one meaning ("over 5", "more than 5", "5 or
// more" against "at least 5"), they share one canonical item; where it tells them apart
// ("top 5 customers" ranks, "5 biggest customers" ranks by another path), so do the items.
//
// Signature items never collide with words: structure items start with '@', slots are
// "<type>", schema mentions carry their targets in brackets, numbers that are no slot start
// with '#', and question words are their matching keys (word characters only).
namespace helios::nl2sql {
namespace {

using engine::Token;
using TK = engine::Token::Kind;

// Bumped whenever shaping changes, so that entries shaped by older rules (a Redis cache
// outlives a deployment) are never matched by questions shaped by newer ones.
constexpr std::string_view kVersion = "shape1";
constexpr std::string_view kLooseVersion = "loose1";

enum class WordKind { kOther, kAgg, kGroup };

struct Phrase {
  std::vector<std::string_view> words;
  std::string_view label;
  WordKind kind = WordKind::kOther;
};

// The engine's structural phrases (engine.cc Keywords()), each with the canonical item of its
// meaning. Phrases the engine reads identically share an item.
const std::vector<Phrase>& Keywords() {
  using enum WordKind;
  static const std::vector<Phrase> k = {
      {{"how", "many"}, "@count", kAgg},
      {{"total", "number", "of"}, "@count", kAgg},
      {{"number", "of"}, "@count", kAgg},
      {{"count", "of"}, "@count", kAgg},
      {{"count"}, "@count", kAgg},
      {{"how", "much"}, "@sum", kAgg},
      {{"sum", "of"}, "@sum", kAgg},
      {{"sum"}, "@sum", kAgg},
      {{"total"}, "@sum", kAgg},
      {{"combined"}, "@sum", kAgg},
      {{"average"}, "@avg", kAgg},
      {{"avg"}, "@avg", kAgg},
      {{"mean"}, "@avg", kAgg},
      {{"minimum"}, "@min", kAgg},
      {{"min"}, "@min", kAgg},
      {{"maximum"}, "@max", kAgg},
      {{"max"}, "@max", kAgg},
      {{"most", "expensive"}, "@most:price"},
      {{"least", "expensive"}, "@least:price"},
      {{"most", "costly"}, "@most:price"},
      {{"priciest"}, "@most:price"},
      {{"cheapest"}, "@least:price"},
      {{"most", "recent"}, "@most:date"},
      {{"latest"}, "@most:date"},
      {{"most", "recently"}, "@most:date"},
      {{"least", "recently"}, "@least:date"},
      {{"newest"}, "@most:date"},
      {{"earliest"}, "@least:date"},
      {{"oldest"}, "@least:date"},
      {{"best", "selling"}, "@most:sold"},
      {{"top", "selling"}, "@most:sold"},
      {{"most", "popular"}, "@most:sold"},
      {{"least", "popular"}, "@least:sold"},
      {{"worst", "selling"}, "@least:sold"},
      {{"highest"}, "@most"},
      {{"largest"}, "@most"},
      {{"biggest"}, "@most"},
      {{"greatest"}, "@most"},
      {{"most"}, "@most"},
      {{"lowest"}, "@least"},
      {{"smallest"}, "@least"},
      {{"least"}, "@least"},
      {{"fewest"}, "@least"},
      {{"broken", "down", "by"}, "@by", kGroup},
      {{"grouped", "by"}, "@by", kGroup},
      {{"group", "by"}, "@by", kGroup},
      {{"split", "by"}, "@by", kGroup},
      {{"breakdown", "by"}, "@by", kGroup},
      {{"for", "each"}, "@by", kGroup},
      {{"for", "every"}, "@by", kGroup},
      {{"in", "each"}, "@by", kGroup},
      {{"by"}, "@by", kGroup},
      {{"per"}, "@by", kGroup},
      {{"each"}, "@by", kGroup},
      {{"every"}, "@by", kGroup},
      {{"monthly"}, "@by:month"},
      {{"yearly"}, "@by:year"},
      {{"annual"}, "@by:year"},
      {{"annually"}, "@by:year"},
      {{"quarterly"}, "@by:quarter"},
      {{"weekly"}, "@by:week"},
      {{"daily"}, "@by:day"},
      {{"distinct"}, "@distinct"},
      {{"different"}, "@distinct"},
      {{"unique"}, "@distinct"},
      {{"other", "than"}, "@not"},
      {{"without"}, "@not"},
      {{"never"}, "@not"},
      {{"no"}, "@not"},
      {{"not"}, "@not"},
      {{"except"}, "@not"},
      {{"excluding"}, "@not"},
      {{"isn't"}, "@not"},
      {{"aren't"}, "@not"},
      {{"sorted", "by"}, "@sort"},
      {{"sort", "by"}, "@sort"},
      {{"ordered", "by"}, "@sort"},
      {{"order", "by"}, "@sort"},
      {{"ranked", "by"}, "@sort"},
      {{"rank", "by"}, "@sort"},
      {{"arranged", "by"}, "@sort"},
      {{"sort"}, "@sort"},
      {{"sorted"}, "@sort"},
      {{"highest", "first"}, "@desc"},
      {{"largest", "first"}, "@desc"},
      {{"biggest", "first"}, "@desc"},
      {{"most", "first"}, "@desc"},
      {{"newest", "first"}, "@desc"},
      {{"latest", "first"}, "@desc"},
      {{"from", "highest", "to", "lowest"}, "@desc"},
      {{"lowest", "first"}, "@asc"},
      {{"smallest", "first"}, "@asc"},
      {{"least", "first"}, "@asc"},
      {{"oldest", "first"}, "@asc"},
      {{"earliest", "first"}, "@asc"},
      {{"from", "lowest", "to", "highest"}, "@asc"},
      {{"in", "descending", "order"}, "@desc"},
      {{"in", "ascending", "order"}, "@asc"},
      {{"descending"}, "@desc"},
      {{"desc"}, "@desc"},
      {{"decreasing"}, "@desc"},
      {{"ascending"}, "@asc"},
      {{"asc"}, "@asc"},
      {{"increasing"}, "@asc"},
      {{"in", "alphabetical", "order"}, "@alpha"},
      {{"alphabetically"}, "@alpha"},
      // The engine reads the word "with" itself ("items sold with a discount"); the others
      // only relate what is around them.
      {{"with"}, "@with"},
      {{"having"}, "@have"},
      {{"have"}, "@have"},
      {{"has"}, "@have"},
      {{"had"}, "@have"},
      {{"where"}, "@have"},
  };
  return k;
}

// The engine's comparisons (engine.cc Comparators()); each is followed by a number.
const std::vector<Phrase>& Comparators() {
  static const std::vector<Phrase> k = {
      {{"more", "than"}, "@gt"},
      {{"greater", "than"}, "@gt"},
      {{"higher", "than"}, "@gt"},
      {{"larger", "than"}, "@gt"},
      {{"bigger", "than"}, "@gt"},
      {{"over"}, "@gt"},
      {{"above"}, "@gt"},
      {{"exceeding"}, "@gt"},
      {{"exceeds"}, "@gt"},
      {{"exceed"}, "@gt"},
      {{"at", "least"}, "@ge"},
      {{"no", "less", "than"}, "@ge"},
      {{"no", "fewer", "than"}, "@ge"},
      {{"minimum", "of"}, "@ge"},
      {{"less", "than"}, "@lt"},
      {{"fewer", "than"}, "@lt"},
      {{"lower", "than"}, "@lt"},
      {{"smaller", "than"}, "@lt"},
      {{"cheaper", "than"}, "@lt"},
      {{"under"}, "@lt"},
      {{"below"}, "@lt"},
      {{"at", "most"}, "@le"},
      {{"no", "more", "than"}, "@le"},
      {{"up", "to"}, "@le"},
      {{"maximum", "of"}, "@le"},
      {{"exactly"}, "@eq"},
      {{"equal", "to"}, "@eq"},
      {{"equals"}, "@eq"},
      {{">"}, "@gt"},
      {{">="}, "@ge"},
      {{"<"}, "@lt"},
      {{"<="}, "@le"},
      {{"="}, "@eq"},
      {{"!="}, "@ne"},
      {{"<>"}, "@ne"},
  };
  return k;
}

// Words inside a calendar expression, mapped to one word per meaning (dates.cc reads "last",
// "past", "previous" and "prior" alike, month names and their abbreviations alike, and a
// period's unit in the singular or plural alike). Connectives carry nothing once the
// expression's kind is known.
std::string DateWord(const std::string& w) {
  static const std::unordered_map<std::string_view, std::string_view> kMap = {
      {"previous", "last"},
      {"past", "last"},
      {"prior", "last"},
      {"current", "this"},
      {"jan", "january"},
      {"feb", "february"},
      {"mar", "march"},
      {"apr", "april"},
      {"jun", "june"},
      {"jul", "july"},
      {"aug", "august"},
      {"sep", "september"},
      {"sept", "september"},
      {"oct", "october"},
      {"nov", "november"},
      {"dec", "december"},
      {"days", "day"},
      {"weeks", "week"},
      {"months", "month"},
      {"years", "year"},
      {"quarters", "quarter"},
      {"the", ""},
      {"of", ""},
      {"and", ""},
      {"to", ""},
      {"until", ""},
      {"through", ""}};
  auto it = kMap.find(w);
  return it == kMap.end() ? w : std::string(it->second);
}

// Words that make a question depend on the day it is asked, besides the calendar expressions
// the engine resolves against today (those are found by resolving them on two days).
bool IsRelativeWord(const std::string& w) {
  static const std::unordered_set<std::string_view> kWords = {
      "today", "yesterday", "tomorrow", "ago", "ytd", "mtd", "qtd", "recent", "recently"};
  return kWords.contains(w);
}
bool IsRelativeLead(const std::string& w) {
  static const std::unordered_set<std::string_view> kWords = {
      "this", "last", "next", "past", "previous", "current", "prior", "coming"};
  return kWords.contains(w);
}
bool IsPeriodWord(const std::string& w) {
  static const std::unordered_set<std::string_view> kWords = {
      "day",       "days",     "week",   "weeks",  "weekend", "month",   "months",
      "quarter",   "quarters", "year",   "years",  "decade",  "hour",    "hours",
      "fortnight", "semester", "season", "fiscal", "night",   "morning", "evening"};
  return kWords.contains(w);
}

// engine.cc IsPassiveVerb / GrainWord.
std::string_view GrainName(const std::string& w) {
  if (w == "year" || w == "years") return "year";
  if (w == "quarter" || w == "quarters") return "quarter";
  if (w == "month" || w == "months") return "month";
  if (w == "week" || w == "weeks") return "week";
  if (w == "day" || w == "days" || w == "date") return "day";
  return {};
}
bool IsPassiveVerb(const std::string& w) {
  static const std::set<std::string_view> kVerbs = {
      "handled", "managed",  "placed",    "made",     "sold",      "bought",   "generated",
      "served",  "ordered",  "purchased", "created",  "written",   "owned",    "supplied",
      "taken",   "assigned", "covered",   "shipped",  "led",       "run",      "processed",
      "booked",  "taught",   "played",    "directed", "published", "produced", "won",
      "visited", "used",     "followed"};
  return kVerbs.contains(w) || (w.size() > 4 && w.ends_with("ed") && GrainName(w).empty());
}

// engine.cc IsSoldWord (on one word) and ImpliesTotal.
bool IsSoldWord(const std::string& w) {
  static const std::set<std::string_view> kWords = {"sold",   "sell",      "sells",  "selling",
                                                    "bought", "purchased", "ordered"};
  return kWords.contains(w);
}
bool ImpliesTotal(std::string_view phrase) {
  static const std::set<std::string> kWords = {"revenue", "sale",     "turnover", "income",
                                               "spend",   "spending", "earnings"};
  for (const auto& w : text::Split(text::ToLower(phrase), ' '))
    if (kWords.contains(engine::Lemma(w))) return true;
  return false;
}

bool IsYear(const Token& t) {
  return t.kind == TK::kNumber && t.integer && t.number >= 1900 && t.number <= 2100 &&
         t.raw.size() == 4;
}

// The shortest decimal form of a number: 5, 2.5, 20000.
std::string NumberText(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// Two days far apart: a calendar expression that resolves differently on them depends on
// the day the question is asked.
constexpr std::chrono::year_month_day kDayA{std::chrono::year{2001}, std::chrono::month{2},
                                            std::chrono::day{3}};
constexpr std::chrono::year_month_day kDayB{std::chrono::year{2014}, std::chrono::month{11},
                                            std::chrono::day{27}};

// The items whose positions the engine compares (engine.cc: "units in stock" is one column,
// "units in the stock" two mentions; "5 customers" is a limit, "5 loyal customers" not).
enum class Place { kNone, kMention, kAggregate, kWith, kCount, kPeriod };

// How far apart two neighbouring items are, in the classes the engine tells apart for them:
// "" (no comparison), "0" next to each other, "1" one word apart, "2" further.
std::string_view GapClass(Place left, Place right, size_t gap) {
  using enum Place;
  auto three = [&] { return gap == 0 ? "0" : (gap == 1 ? "1" : "2"); };
  auto two = [&] { return gap == 0 ? "0" : "1"; };
  if (left == kCount && right == kMention) return two();
  if (left == kMention && (right == kAggregate || right == kPeriod)) return two();
  if (left == kMention && right == kMention) return three();
  if (left == kAggregate && right == kWith) return two();
  if ((left == kAggregate || left == kWith) && (right == kMention || right == kAggregate))
    return three();
  return "";
}

// A stretch of the question that the engine reads as one item (or, with engine_item false,
// a word the engine skips that the signature keeps).
struct Piece {
  size_t begin = 0, end = 0;       // token span
  std::vector<std::string> items;  // signature items, joined by '+'
  std::vector<std::string> words;  // template words
  bool engine_item = true;
  bool numeric_column = false;    // a mention whose first target is a column, some numeric
  bool entity = false;            // an "entity" slot that a following name word extends
  bool lone_capitalized = false;  // an unknown capitalised first word: maybe an entity's start
  // What the engine may compare this item's position with its neighbours' for.
  Place place = Place::kNone;
};

class Shaper {
 public:
  // literal_dates: years and dates are words of the signature, not slots (see ShapeQuestion).
  Shaper(std::string_view question, const engine::SchemaIndex& index, bool literal_dates)
      : index_(index), t_(engine::Tokenize(question)), literal_dates_(literal_dates) {
    // Each word's forms for the index's lookups, computed once: TryMention looks up every span
    // of up to longest_value_words words at each position, twice over (strong, then weak).
    forms_.resize(t_.size());
    for (size_t k = 0; k < t_.size(); ++k) {
      if (t_[k].kind != TK::kWord && t_[k].kind != TK::kNumber) continue;
      forms_[k].value = engine::NormalizeValueText(t_[k].raw);
      forms_[k].lemma = engine::LemmatizeValueText(forms_[k].value);
      if (t_[k].kind == TK::kWord) forms_[k].key = engine::Key(t_[k].text);
    }
  }

  QuestionShape Run();

 private:
  std::string Word(size_t k) const {
    return k < t_.size() && t_[k].kind == TK::kWord ? t_[k].text : std::string();
  }
  // Whether the words (each a word or a symbol token) are at i, in order.
  bool TextAt(size_t i, std::span<const std::string_view> words) const;
  bool TextAt(size_t i, std::initializer_list<std::string_view> words) const {
    return TextAt(i, std::span<const std::string_view>(words.begin(), words.size()));
  }
  bool IsNumberAt(size_t i) const { return i < t_.size() && t_[i].kind == TK::kNumber; }
  std::string SpanText(size_t b, size_t e) const;
  const Piece* LastEngineItem() const;

  void AddSlot(Piece* p, std::string type, size_t b, size_t e, std::string value);
  void AddNumberSlot(Piece* p, size_t k);

  size_t TryDate(size_t i, Piece* p);
  size_t TryTop(size_t i, Piece* p);
  size_t TryComparator(size_t i, Piece* p);
  size_t TryMention(size_t i, Piece* p, bool strong);
  size_t TryKeyword(size_t i, Piece* p);
  bool YearsFollow(size_t i) const;
  void Fallback(size_t i);
  void DescribeDate(size_t b, size_t e, Piece* p);
  void DescribeTargets(const std::vector<engine::SchemaTarget>& targets, size_t b, size_t e,
                       Piece* p);
  bool HasFollowUpMarker() const;
  std::string LooseSignature() const;
  bool NamesNumericColumn(const std::string& word) const;

  // A token's forms as the index keys them (empty for tokens other than words and numbers).
  struct Forms {
    std::string value;  // NormalizeValueText of its raw text
    std::string lemma;  // LemmatizeValueText of `value`
    std::string key;    // engine::Key of its text (words only)
  };

  const engine::SchemaIndex& index_;
  std::vector<Token> t_;
  std::vector<Forms> forms_;
  std::vector<Piece> pieces_;
  std::vector<cache::Slot> slots_;
  const bool literal_dates_;
  bool relative_ = false;
  bool agent_by_ = false;  // the last keyword attempt found an agent's "by" ("handled by")
};

bool Shaper::TextAt(size_t i, std::span<const std::string_view> words) const {
  size_t k = i;
  for (auto w : words) {
    if (k >= t_.size()) return false;
    if (t_[k].kind != TK::kWord && t_[k].kind != TK::kSymbol) return false;
    if (t_[k].text != w) return false;
    ++k;
  }
  return true;
}

std::string Shaper::SpanText(size_t b, size_t e) const {
  std::string out;
  for (size_t k = b; k < e && k < t_.size(); ++k) {
    if (!out.empty()) out += ' ';
    out += t_[k].raw;
  }
  return out;
}

const Piece* Shaper::LastEngineItem() const {
  for (auto it = pieces_.rbegin(); it != pieces_.rend(); ++it)
    if (it->engine_item) return &*it;
  return nullptr;
}

void Shaper::AddSlot(Piece* p, std::string type, size_t b, size_t e, std::string value) {
  if (literal_dates_ && (type == "year" || type == "date")) {
    p->items.push_back("#" + value);
    p->words.push_back(value);
    return;
  }
  p->items.push_back("<" + type + ">");
  p->words.push_back("<" + type + ">");
  slots_.push_back(cache::Slot{std::move(type), SpanText(b, e), std::move(value)});
}

// A percentage is a number that SQL written by a model often transforms ("10%" as 0.1, or as
// "/ 10"): the 10 found in it may not be the question's 10, so a percentage is no slot.
void Shaper::AddNumberSlot(Piece* p, size_t k) {
  std::string value = NumberText(t_[k].number);
  std::string next = Word(k + 1);
  if (t_[k].raw.ends_with("%") || next == "percent" || next == "percentage" || next == "pct" ||
      (next == "per" && Word(k + 2) == "cent")) {
    p->items.push_back("#" + value + "%");
    p->words.push_back(value + "%");
    return;
  }
  AddSlot(p, "number", k, k + 1, std::move(value));
}

bool Shaper::YearsFollow(size_t i) const {
  auto year = [&](size_t k) { return k < t_.size() && IsYear(t_[k]); };
  return (TextAt(i, {"between"}) || TextAt(i, {"from"})) && year(i + 1) && year(i + 3);
}

size_t Shaper::TryDate(size_t i, Piece* p) {
  engine::DateRange a, b;
  size_t used = engine::ParseDateExpression(t_, i, kDayA, 0, &a);
  if (!used) return 0;
  size_t used_b = engine::ParseDateExpression(t_, i, kDayB, 0, &b);
  if (used_b != used || a.begin != b.begin || a.end != b.end) relative_ = true;
  DescribeDate(i, i + used, p);
  p->place = Place::kPeriod;
  return used;
}

// The kind of calendar expression (dates.cc ParseDateExpression: a boundary word, a span, or
// a period) and what it names.
void Shaper::DescribeDate(size_t b, size_t e, Piece* p) {
  std::string w = Word(b);
  std::string kind = "@during";
  size_t k = b;
  if (w == "before") {
    kind = "@before", k = b + 1;
  } else if ((w == "prior" && Word(b + 1) == "to") || (w == "earlier" && Word(b + 1) == "than")) {
    kind = "@before", k = b + 2;
  } else if (w == "after") {
    kind = "@after", k = b + 1;
  } else if (w == "later" && Word(b + 1) == "than") {
    kind = "@after", k = b + 2;
  } else if (w == "since") {
    kind = "@since", k = b + 1;
  } else if (w == "starting" && (Word(b + 1) == "from" || Word(b + 1) == "in")) {
    kind = "@since", k = b + 2;
  } else if (w == "until" || w == "till" || w == "through") {
    kind = "@until", k = b + 1;
  } else if (w == "up" && Word(b + 1) == "to") {
    kind = "@until", k = b + 2;
  } else if (w == "between") {
    kind = "@span", k = b + 1;
  } else if (w == "from") {
    kind = "@during", k = b + 1;
    for (size_t j = k + 1; j < e; ++j) {
      std::string sep = Word(j);
      if (sep == "to" || sep == "until" || sep == "through" || sep == "and") kind = "@span";
    }
  } else if (w == "in" || w == "during" || w == "for" || w == "of" || w == "on" || w == "within") {
    k = b + 1;
  }
  p->items.push_back(kind);
  p->words.push_back(kind.substr(1));
  for (; k < e; ++k) {
    const Token& tok = t_[k];
    if (tok.kind == TK::kNumber && IsYear(tok)) {
      AddSlot(p, "year", k, k + 1, NumberText(tok.number));
    } else if (tok.kind == TK::kDate) {
      AddSlot(p, "date", k, k + 1, tok.text);
    } else if (tok.kind == TK::kNumber) {
      // "the last 30 days", "3rd quarter": a number that becomes dates, never a literal of
      // the query, so no slot could put another one in its place.
      std::string n = NumberText(tok.number);
      p->items.push_back("#" + n);
      p->words.push_back(n);
    } else {
      std::string word = DateWord(tok.text);
      if (word.empty()) continue;
      p->items.push_back(word);
      p->words.push_back(word);
    }
  }
}

size_t Shaper::TryTop(size_t i, Piece* p) {
  if (t_[i].kind != TK::kWord) return 0;
  const std::string& w = t_[i].text;
  std::string label;
  if (w == "top" || w == "best")
    label = "@top";
  else if (w == "bottom" || w == "worst")
    label = "@bottom";
  else if (w == "first")
    label = "@first";
  else
    return 0;
  if (IsNumberAt(i + 1) && t_[i + 1].integer && t_[i + 1].number > 0) {
    p->items.push_back(label);
    p->words.push_back(label.substr(1));
    AddNumberSlot(p, i + 1);
    return 2;
  }
  if (w == "top" || w == "bottom") {
    if (i + 1 < t_.size() && t_[i + 1].text == "selling") return 0;
    p->items.push_back(label);
    p->words.push_back(label.substr(1));
    return 1;
  }
  return 0;
}

size_t Shaper::TryComparator(size_t i, Piece* p) {
  if (TextAt(i, {"between"}) && IsNumberAt(i + 1) && TextAt(i + 2, {"and"}) && IsNumberAt(i + 3)) {
    p->items.push_back("@between");
    p->words.push_back("between");
    AddNumberSlot(p, i + 1);
    AddNumberSlot(p, i + 3);
    return 4;
  }
  for (const auto& c : Comparators()) {
    if (!TextAt(i, c.words)) continue;
    size_t k = i + c.words.size();
    if (!IsNumberAt(k)) continue;
    p->items.push_back(std::string(c.label));
    p->words.push_back(std::string(c.label.substr(1)));
    AddNumberSlot(p, k);
    return k + 1 - i;
  }
  // "5 or more", "10 or fewer": the same item as "at least 5", "at most 10".
  if (IsNumberAt(i) && TextAt(i + 1, {"or"}) && i + 2 < t_.size()) {
    const std::string& w = t_[i + 2].text;
    std::string label;
    if (w == "more" || w == "greater" || w == "higher" || w == "above")
      label = "@ge";
    else if (w == "less" || w == "fewer" || w == "lower" || w == "below")
      label = "@le";
    else
      return 0;
    p->items.push_back(label);
    p->words.push_back(label.substr(1));
    AddNumberSlot(p, i);
    return 3;
  }
  return 0;
}

// A schema mention: the phrase's matching key, every element it links to in the engine's
// order (best first) with its quality, and what the engine reads from the words themselves
// (a plural ending decides "top customers" (10) from "top customer" (1); revenue-like words
// are totals).
void Shaper::DescribeTargets(const std::vector<engine::SchemaTarget>& targets, size_t b, size_t e,
                             Piece* p) {
  std::vector<engine::SchemaTarget> sorted = targets;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const engine::SchemaTarget& x, const engine::SchemaTarget& y) {
                     return x.quality > y.quality;
                   });
  std::vector<std::string> words;
  for (size_t k = b; k < e; ++k) words.push_back(t_[k].text);
  std::string item = engine::PhraseKey(words) + "[";
  bool first = true;
  for (const auto& tg : sorted) {
    if (!first) item += ',';
    first = false;
    item += tg.column ? "c:" + tg.table->table->name + "." + tg.column->column->name
                      : "t:" + tg.table->table->name;
    if (tg.quality != engine::kExact) item += fmt::format("~{}", tg.quality);
  }
  item += "]";
  std::string phrase = SpanText(b, e);
  if (phrase.ends_with("s")) item += "+s";
  if (ImpliesTotal(phrase)) item += "+total";
  p->items.push_back(std::move(item));
  for (const auto& w : words) p->words.push_back(engine::Lemma(w));
  p->place = Place::kMention;
  if (!sorted.empty() && sorted[0].column) {
    for (const auto& tg : sorted)
      if (tg.column && tg.column->is_numeric) p->numeric_column = true;
  }
}

size_t Shaper::TryMention(size_t i, Piece* p, bool strong) {
  if (t_[i].kind == TK::kQuoted) {
    if (!strong) return 0;
    if (const auto* v = index_.LookupValue(engine::NormalizeValueText(t_[i].text))) {
      std::set<std::string> columns;
      for (const auto& target : *v)
        columns.insert(target.column->table->name + "." + target.column->column->name);
      AddSlot(p, "value:" + text::Join({columns.begin(), columns.end()}, "|"), i, i + 1,
              v->front().value);
    } else {
      AddSlot(p, "quoted", i, i + 1, t_[i].text);
    }
    return 1;
  }
  if (t_[i].kind != TK::kWord && t_[i].kind != TK::kNumber) return 0;
  size_t max_len =
      std::min<size_t>(t_.size() - i, std::max<size_t>(index_.longest_value_words(), 4));
  for (size_t len = max_len; len >= 1; --len) {
    bool words_only = true;
    for (size_t k = i; k < i + len; ++k)
      if (t_[k].kind != TK::kWord && t_[k].kind != TK::kNumber) words_only = false;
    if (!words_only) continue;
    // The span's text as NormalizeValueText, LemmatizeValueText and PhraseKey would make it
    // from the whole span: their results word by word, joined by spaces.
    std::string value_text;
    for (size_t k = i; k < i + len; ++k) {
      if (!value_text.empty()) value_text += ' ';
      value_text += forms_[k].value;
    }
    const auto* values = index_.LookupValue(value_text);
    if (!values) {
      std::string lemma_text;
      for (size_t k = i; k < i + len; ++k) {
        if (!lemma_text.empty()) lemma_text += ' ';
        lemma_text += forms_[k].lemma;
      }
      values = index_.LookupValue(lemma_text);
    }
    const std::vector<engine::SchemaTarget>* targets = nullptr;
    bool all_words = true;
    for (size_t k = i; k < i + len; ++k) {
      if (t_[k].kind != TK::kWord) all_words = false;
    }
    if (all_words) {
      std::string phrase_key;
      for (size_t k = i; k < i + len; ++k) {
        if (!phrase_key.empty()) phrase_key += ' ';
        phrase_key += forms_[k].key;
      }
      targets = index_.LookupPhrase(phrase_key);
      if (!targets && len == 2)
        targets = index_.LookupPhrase(engine::Key(engine::Lemma(t_[i].text) + t_[i + 1].text));
    }
    int best_quality = 0;
    if (targets)
      for (const auto& tg : *targets) best_quality = std::max(best_quality, tg.quality);
    if (values && targets) {
      bool prefer_value = best_quality < engine::kExact || (t_[i].capitalized && i > 0) || len > 1;
      if (prefer_value)
        targets = nullptr;
      else
        values = nullptr;
    }
    if (values) {
      if (len == 1 && engine::IsStopWord(t_[i].text)) continue;
      std::set<std::string> columns;
      for (const auto& target : *values)
        columns.insert(target.column->table->name + "." + target.column->column->name);
      AddSlot(p, "value:" + text::Join({columns.begin(), columns.end()}, "|"), i, i + len,
              values->front().value);
      return len;
    }
    if (targets) {
      if (strong && len == 1 && best_quality < engine::kExact) continue;
      if (len == 1 && engine::IsStopWord(t_[i].text) && best_quality < engine::kExact) continue;
      DescribeTargets(*targets, i, i + len, p);
      return len;
    }
    if (len == 1) break;
  }
  return 0;
}

// True when `word` is a word of some numeric column's name: then an aggregate word after a
// table may name that column instead ("order total" is orders.total_amount).
bool Shaper::NamesNumericColumn(const std::string& word) const {
  for (const auto& table : index_.tables())
    for (const engine::ColumnEntry* c : table.columns)
      if (c->is_numeric && std::find(c->words.begin(), c->words.end(), word) != c->words.end())
        return true;
  return false;
}

size_t Shaper::TryKeyword(size_t i, Piece* p) {
  agent_by_ = false;
  const Phrase* best = nullptr;
  for (const auto& k : Keywords())
    if (TextAt(i, k.words) && (!best || k.words.size() > best->words.size())) best = &k;
  if (!best) {
    // "hired first", "joined last": the earliest or latest by the date just named.
    bool at_end = true;
    for (size_t k = i + 1; k < t_.size(); ++k)
      if (t_[k].kind != TK::kWord || !engine::IsStopWord(t_[k].text)) at_end = false;
    if (t_[i].kind == TK::kWord && (t_[i].text == "first" || t_[i].text == "last") && at_end &&
        i > 0) {
      std::string label = t_[i].text == "first" ? "@least:date" : "@most:date";
      p->items.push_back(label);
      p->words.push_back(label.substr(1));
      return 1;
    }
    return 0;
  }
  const Phrase& k = *best;
  if (k.kind == WordKind::kGroup && k.words.size() == 1 && k.words[0] == "by" && i > 0 &&
      IsPassiveVerb(t_[i - 1].text) && (i + 1 >= t_.size() || GrainName(t_[i + 1].text).empty())) {
    agent_by_ = true;
    return 0;
  }
  size_t used = k.words.size();
  if (k.kind == WordKind::kGroup && i + used < t_.size()) {
    std::string_view grain = GrainName(t_[i + used].text);
    if (!grain.empty()) {
      p->items.push_back("@by:" + std::string(grain));
      p->words.push_back("by");
      p->words.push_back(std::string(grain));
      return used + 1;
    }
  }
  std::string label(k.label);
  if (k.kind == WordKind::kAgg && used == 1 && NamesNumericColumn(t_[i].text)) {
    bool after_mention = std::any_of(pieces_.begin(), pieces_.end(),
                                     [](const Piece& q) { return q.place == Place::kMention; });
    if (after_mention) label += "=" + t_[i].text;
  }
  if (k.kind == WordKind::kAgg) p->place = Place::kAggregate;
  if (label == "@with" || label == "@have") p->place = Place::kWith;
  p->items.push_back(label);
  std::string words = label.substr(1);
  if (words.starts_with("by:")) words = "by " + words.substr(3);
  p->words.push_back(words);
  return used;
}

// What the engine does with a token nothing else took: a bare number is a count ("show 5
// customers"), an adjective may name a stored value ("Japanese"), any other content word
// stays in the signature as its key; a run of capitalised unknown words is a name.
void Shaper::Fallback(size_t i) {
  const Token& tok = t_[i];
  Piece p;
  p.begin = i;
  p.end = i + 1;
  if (tok.kind == TK::kNumber) {
    AddNumberSlot(&p, i);
    p.place = Place::kCount;
    pieces_.push_back(std::move(p));
    return;
  }
  if (tok.kind != TK::kWord) {
    if (tok.kind == TK::kDate) {
      // Not a calendar date ("2024-02-30"): the engine ignores it.
      p.items.push_back("#" + tok.text);
      p.words.push_back(tok.text);
      p.engine_item = false;
      pieces_.push_back(std::move(p));
    }
    return;
  }
  const bool stop = engine::IsStopWord(tok.text);
  if (i + 1 < t_.size() && t_[i + 1].text == "by" && IsPassiveVerb(tok.text)) {
    // "borrowed by members": the engine skips the verb; the signature keeps a content verb.
    if (stop) return;
    p.items.push_back(engine::Key(tok.text));
    p.words.push_back(engine::Lemma(tok.text));
    p.engine_item = false;
    pieces_.push_back(std::move(p));
    return;
  }
  if (stop || tok.text == "and") {
    if (tok.text == "or") {
      // The engine reads "A or B" of one column as A and B; the words still differ.
      p.items.push_back("@or");
      p.words.push_back("or");
      p.engine_item = false;
      pieces_.push_back(std::move(p));
    } else if (agent_by_ && tok.text == "by") {
      p.items.push_back("@agent");
      p.words.push_back("by");
      p.engine_item = false;
      pieces_.push_back(std::move(p));
    }
    return;
  }
  for (const auto& noun : engine::Pertainyms(tok.text)) {
    if (!index_.LookupValue(engine::NormalizeValueText(noun))) continue;
    p.items.push_back(engine::Key(tok.text) + "~pertainym");
    p.words.push_back(engine::Lemma(tok.text));
    pieces_.push_back(std::move(p));
    return;
  }
  if (tok.capitalized) {
    Piece* last = pieces_.empty() ? nullptr : &pieces_.back();
    if (last && last->end == i && (last->entity || last->lone_capitalized)) {
      if (last->lone_capitalized) {
        // A name that begins the question ("Acme Corp orders").
        last->items = {};
        last->words = {};
        last->lone_capitalized = false;
        last->entity = true;
        AddSlot(last, "entity", last->begin, i + 1, SpanText(last->begin, i + 1));
      } else {
        slots_.back().text = SpanText(last->begin, i + 1);
        slots_.back().value = slots_.back().text;
      }
      last->end = i + 1;
      return;
    }
    if (i > 0) {
      p.entity = true;
      AddSlot(&p, "entity", i, i + 1, tok.raw);
      pieces_.push_back(std::move(p));
      return;
    }
    p.lone_capitalized = true;  // the first word of a sentence is capitalised anyway
  }
  p.items.push_back(engine::Key(tok.text));
  p.words.push_back(engine::Lemma(tok.text));
  pieces_.push_back(std::move(p));
}

// engine.cc HasFollowUpMarker: decides, after other turns, whether a question edits the
// previous one.
bool Shaper::HasFollowUpMarker() const {
  if (t_.empty()) return false;
  static const std::set<std::string_view> kStarts = {
      "and",    "only",      "just",    "but",     "now",  "also",  "then",  "instead", "same",
      "except", "excluding", "exclude", "include", "sort", "order", "limit", "what's",  "whats"};
  if (kStarts.contains(t_[0].text)) return true;
  if (TextAt(0, {"what", "about"}) || TextAt(0, {"how", "about"})) return true;
  for (size_t k = 0; k < t_.size(); ++k) {
    const std::string& w = t_[k].text;
    if (w == "instead" || w == "their" || w == "them" || w == "those" || w == "these" ||
        w == "only" || w == "too" || w == "also" || (w == "well" && k != 0))
      return true;
  }
  return false;
}

// The loose signature (question_shape.h). Each piece becomes a unit; then, in passes, the
// operators are glued into the unit they apply to: an aggregate into its measure, a
// superlative, a rank, a count or a comparison into what it ranks, counts or compares, and
// "by", "not", "distinct", "sorted by" and an agent's "by" into the unit after them. What is
// left is a multiset of units, sorted: the order of the units no longer matters, the order
// inside each unit still does.
std::string Shaper::LooseSignature() const {
  // Re-binding by type needs every slot type at most once.
  std::set<std::string> types;
  for (const auto& slot : slots_)
    if (!types.insert(slot.type).second) return "";

  enum class Role {
    kMention,
    kAgg,
    kSuperlative,
    kRank,
    kComparator,
    kCount,
    kPrefix,  // glued to whatever unit follows
    kOther,
  };
  struct Unit {
    std::string text;
    Role role = Role::kOther;
    size_t begin = 0, end = 0;  // token span
    bool total = false;         // a revenue-like measure: a sum without the word "total"
  };

  // The item is the operator `prefix`, alone or with its argument ("+", ":" or "=" after it).
  auto starts = [](const std::string& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    if (s.size() == prefix.size()) return true;
    const char next = s[prefix.size()];
    return next == '+' || next == ':' || next == '=';
  };
  // "top customer" ranks 1, "top customers" 10: without a number to say how many, the plural
  // of a ranked question decides its row count, and stays.
  bool ranked = false;
  for (const auto& p : pieces_) {
    if (p.items.empty()) continue;
    const std::string& f = p.items[0];
    if (starts(f, "@top") || starts(f, "@bottom") || starts(f, "@first") || starts(f, "@most") ||
        starts(f, "@least"))
      ranked = true;
  }
  const bool plural_matters = ranked && !types.contains("number");

  std::vector<Unit> units;
  bool subject_seen = false;
  for (const auto& p : pieces_) {
    if (p.items.empty()) continue;
    const std::string& f = p.items[0];
    if (f == "@with" || f == "@have") continue;  // only relate what is around them
    Unit u;
    u.begin = p.begin;
    u.end = p.end;
    u.text = text::Join(p.items, "+");
    if (p.place == Place::kMention) {
      u.role = Role::kMention;
      u.total = u.text.ends_with("+total");
      if (!plural_matters) {
        auto pos = u.text.rfind("]+s");
        if (pos != std::string::npos && (pos + 3 == u.text.size() || u.text[pos + 3] == '+'))
          u.text.erase(pos + 1, 2);
      }
      // The first table named is what the question is about: "customers with more than 5
      // orders" lists customers, "orders of more than 5 customers" orders.
      if (!subject_seen && f.find("[t:") != std::string::npos) {
        subject_seen = true;
        u.text = "^" + u.text;
      }
    } else if (p.place == Place::kAggregate) {
      u.role = Role::kAgg;
    } else if (p.place == Place::kCount) {
      u.role = Role::kCount;
    } else if (starts(f, "@most") || starts(f, "@least")) {
      u.role = Role::kSuperlative;
    } else if (starts(f, "@top") || starts(f, "@bottom") || starts(f, "@first")) {
      u.role = Role::kRank;
    } else if (starts(f, "@gt") || starts(f, "@ge") || starts(f, "@lt") || starts(f, "@le") ||
               starts(f, "@eq") || starts(f, "@ne") || starts(f, "@between")) {
      u.role = Role::kComparator;
    } else if (f == "@by" || f == "@not" || f == "@distinct" || f == "@sort" || f == "@agent") {
      u.role = Role::kPrefix;
    }
    units.push_back(std::move(u));
  }

  // Glues units[op] into units[target], the operator written before it in parentheses.
  auto glue = [&](size_t op, size_t target) {
    Unit& t = units[target];
    const Unit& o = units[op];
    // "revenue" and "total revenue" are one sum.
    if (o.role == Role::kAgg && o.text == "@sum" && t.total) {
      // nothing to add
    } else if (target > op || o.role == Role::kSuperlative) {
      t.text = o.text + "(" + t.text + ")";
    } else {
      // Written after what it applies to: the engine may read "by customer count" otherwise
      // than "by number of customers".
      t.text = "(" + t.text + ")" + o.text;
    }
    t.begin = std::min(t.begin, o.begin);
    t.end = std::max(t.end, o.end);
    units.erase(units.begin() + static_cast<std::ptrdiff_t>(op));
  };
  // The unit an operator applies to: the mention after it (right after it in the question
  // when `adjacent_after`), else the mention before it.
  auto target_of = [&](size_t k, bool adjacent_after) -> std::optional<size_t> {
    if (units[k].role == Role::kAgg) {
      // "number of cancelled orders": an aggregate reaches over stored values to its measure.
      size_t j = k + 1;
      while (j < units.size() && units[j].role == Role::kOther &&
             (units[j].text.starts_with("<value:") || units[j].text.ends_with("~pertainym")))
        ++j;
      if (j < units.size() && units[j].role == Role::kMention) return j;
    }
    if (k + 1 < units.size() && units[k + 1].role == Role::kMention &&
        (!adjacent_after || units[k + 1].begin == units[k].end))
      return k + 1;
    if (k > 0 && units[k - 1].role == Role::kMention) return k - 1;
    return std::nullopt;
  };
  auto pass = [&](Role role, bool adjacent_after, bool after_only) {
    for (size_t k = 0; k < units.size();) {
      if (units[k].role != role) {
        ++k;
        continue;
      }
      std::optional<size_t> target;
      if (after_only) {
        if (k + 1 < units.size() && units[k + 1].role == Role::kMention &&
            (!adjacent_after || units[k + 1].begin == units[k].end))
          target = k + 1;
      } else {
        target = target_of(k, adjacent_after);
      }
      if (!target) {
        units[k].role = Role::kOther;
        ++k;
        continue;
      }
      glue(k, *target);
      if (*target < k) k = *target + 1;  // the erased unit was after its target
    }
  };
  pass(Role::kAgg, false, false);
  pass(Role::kSuperlative, false, false);
  pass(Role::kRank, false, true);
  pass(Role::kCount, true, true);
  pass(Role::kComparator, true, false);
  // Prefixes, from the last: "not by country" is not(by(country)).
  for (size_t k = units.size(); k-- > 0;) {
    if (units[k].role != Role::kPrefix) continue;
    if (k + 1 < units.size()) {
      units[k + 1].role = Role::kOther;
      glue(k, k + 1);
    } else {
      units[k].role = Role::kOther;
    }
  }

  std::vector<std::string> items;
  for (const auto& u : units) items.push_back(u.text);
  std::sort(items.begin(), items.end());
  std::string out(kLooseVersion);
  for (const auto& item : items) out += " " + item;
  if (std::any_of(t_.begin(), t_.end(), [](const Token& t) { return IsSoldWord(t.text); }))
    out += " !sold";
  if (std::any_of(t_.begin(), t_.end(), [](const Token& t) {
        return t.text == "too" || t.text == "also" || t.text == "well";
      }))
    out += " !additive";
  return out;
}

QuestionShape Shaper::Run() {
  size_t i = 0;
  while (i < t_.size()) {
    Piece p;
    size_t used = 0;
    const Piece* last = LastEngineItem();
    bool dates_first = YearsFollow(i) && !(last && last->numeric_column);
    if ((dates_first && (used = TryDate(i, &p))) || (used = TryTop(i, &p)) ||
        (used = TryComparator(i, &p)) || (used = TryDate(i, &p)) ||
        (used = TryMention(i, &p, /*strong=*/true)) || (used = TryKeyword(i, &p)) ||
        (used = TryMention(i, &p, false))) {
      p.begin = i;
      p.end = i + used;
      pieces_.push_back(std::move(p));
      i += used;
      continue;
    }
    Fallback(i);
    ++i;
  }

  QuestionShape shape;
  std::string signature(kVersion);
  std::vector<std::string> words;
  const Piece* prev = nullptr;  // the previous item the engine has
  for (size_t k = 0; k < pieces_.size(); ++k) {
    Piece& p = pieces_[k];
    signature += ' ';
    if (p.engine_item) {
      if (prev) {
        std::string_view gap = GapClass(prev->place, p.place, p.begin - prev->end);
        if (!gap.empty() && gap != "0") signature += std::string(gap == "1" ? "_" : "__") + " ";
      }
      prev = &p;
    }
    if (p.place == Place::kWith) {
      // The engine reads the word "with" itself only before a column ("sold with a
      // discount"); before anything else "have", "having", "where" mean the same.
      const Piece* next = nullptr;
      for (size_t j = k + 1; j < pieces_.size() && !next; ++j)
        if (pieces_[j].engine_item) next = &pieces_[j];
      if (!next || (next->place != Place::kMention && next->place != Place::kAggregate))
        p.items = {"@with"};
    }
    signature += text::Join(p.items, "+");
    for (const auto& w : p.words)
      if (!w.empty()) words.push_back(w);
  }
  // Words that change how the engine reads the whole question.
  if (std::any_of(t_.begin(), t_.end(), [](const Token& t) { return IsSoldWord(t.text); }))
    signature += " !sold";
  if (std::any_of(t_.begin(), t_.end(), [](const Token& t) {
        return t.text == "too" || t.text == "also" || t.text == "well";
      }))
    signature += " !additive";
  if (HasFollowUpMarker()) signature += " !follow-up";

  for (size_t k = 0; k < t_.size(); ++k) {
    const std::string& w = t_[k].text;
    if (t_[k].kind != TK::kWord) continue;
    if (IsRelativeWord(w)) relative_ = true;
    if (IsRelativeLead(w)) {
      size_t j = k + 1;
      if (j < t_.size() && t_[j].kind == TK::kNumber) ++j;
      if (j < t_.size() && IsPeriodWord(t_[j].text)) relative_ = true;
    }
    if ((w == "year" || w == "month" || w == "quarter" || w == "week") && Word(k + 1) == "to" &&
        Word(k + 2) == "date")
      relative_ = true;
    if (w == "so" && Word(k + 1) == "far") relative_ = true;
  }

  shape.template_text = text::Join(words, " ");
  shape.loose_signature = LooseSignature();
  shape.slots = std::move(slots_);
  shape.signature = std::move(signature);
  shape.relative_time = relative_;
  return shape;
}

}  // namespace

QuestionShape ShapeQuestion(std::string_view question, const engine::SchemaIndex& index) {
  Shaper shaper(question, index, false);
  QuestionShape shape = shaper.Run();
  if (!shape.relative_time) return shape;
  // A question about a period relative to today may hold other dates computed from today (a
  // model's SQL for "in 2025 compared with last month" holds last month's first day, a date of
  // 2025): a year or a date slot could claim them. Its years and dates are words instead.
  return Shaper(question, index, true).Run();
}

}  // namespace helios::nl2sql
