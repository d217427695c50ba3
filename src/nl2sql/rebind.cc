#include "nl2sql/rebind.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>

#include "common/text.h"
#include "db/value.h"

namespace helios::nl2sql {
namespace {

enum class SlotKind { kNumber, kYear, kDate, kQuoted, kValue, kEntity };

std::optional<SlotKind> KindOf(const std::string& type) {
  if (type == "number") return SlotKind::kNumber;
  if (type == "year") return SlotKind::kYear;
  if (type == "date") return SlotKind::kDate;
  if (type == "quoted") return SlotKind::kQuoted;
  if (type == "entity") return SlotKind::kEntity;
  if (type.starts_with("value:")) return SlotKind::kValue;
  return std::nullopt;
}

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

using std::chrono::sys_days;
using std::chrono::year_month_day;

std::optional<year_month_day> ParseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::from_chars(s.data(), s.data() + 4, y).ptr != s.data() + 4 ||
      std::from_chars(s.data() + 5, s.data() + 7, m).ptr != s.data() + 7 ||
      std::from_chars(s.data() + 8, s.data() + 10, d).ptr != s.data() + 10)
    return std::nullopt;
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::string IsoDate(year_month_day d) {
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

std::string NextDay(year_month_day d) {
  return IsoDate(year_month_day{sys_days{d} + std::chrono::days{1}});
}

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// `s` starts with `prefix` and what follows is not a further digit ("2024-03-01" in
// "2024-03-01 10:00:00" but not in "2024-03-011").
bool StartsWithWhole(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix) && (s.size() == prefix.size() || !IsDigit(s[prefix.size()]));
}

// `needle` in `hay` as a whole number: no digit or decimal point right before or after it
// (so "5" is not found in "2025-01-05" nor "1" in "2024-01-01").
bool ContainsNumber(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return false;
  for (size_t pos = hay.find(needle); pos != std::string_view::npos;
       pos = hay.find(needle, pos + 1)) {
    bool before = pos > 0 && (IsDigit(hay[pos - 1]) || hay[pos - 1] == '.');
    size_t after = pos + needle.size();
    bool following = after < hay.size() && (IsDigit(hay[after]) || hay[after] == '.');
    if (!before && !following) return true;
  }
  return false;
}

// Positions of `needle` in `hay` ignoring ASCII case.
std::vector<size_t> FindAllIgnoreCase(std::string_view hay, std::string_view needle) {
  std::vector<size_t> out;
  if (needle.empty() || needle.size() > hay.size()) return out;
  std::string h = text::ToLower(hay), n = text::ToLower(needle);
  for (size_t pos = h.find(n); pos != std::string::npos; pos = h.find(n, pos + n.size()))
    out.push_back(pos);
  return out;
}

// The new value written the way the old one was: as stored, all lower case, or all upper case.
// nullopt when the old text is in some other case (then it is not clear what to write).
std::optional<std::string> InSameCase(std::string_view found, const std::string& old_value,
                                      const std::string& new_value) {
  if (found == old_value) return new_value;
  if (found == text::ToLower(found)) return text::ToLower(new_value);
  if (found == ToUpper(found)) return ToUpper(new_value);
  return std::nullopt;
}

// One old slot and the new slot that replaces it.
struct SlotPair {
  SlotKind kind = SlotKind::kNumber;
  const cache::Slot* old_slot = nullptr;
  const cache::Slot* new_slot = nullptr;
  double old_number = 0, new_number = 0;  // number and year
  bool new_integral = true;               // written without a decimal point
  std::optional<year_month_day> old_date, new_date;
};

std::optional<std::vector<SlotPair>> Pair(const std::vector<cache::Slot>& old_slots,
                                          const std::vector<cache::Slot>& new_slots) {
  if (old_slots.size() != new_slots.size()) return std::nullopt;
  std::vector<SlotPair> pairs;
  for (size_t i = 0; i < old_slots.size(); ++i) {
    const cache::Slot& o = old_slots[i];
    const cache::Slot& n = new_slots[i];
    if (o.type != n.type) return std::nullopt;
    auto kind = KindOf(o.type);
    if (!kind) return std::nullopt;
    SlotPair p;
    p.kind = *kind;
    p.old_slot = &o;
    p.new_slot = &n;
    switch (*kind) {
      case SlotKind::kNumber:
      case SlotKind::kYear: {
        auto a = ParseNumber(o.value), b = ParseNumber(n.value);
        if (!a || !b) return std::nullopt;
        p.old_number = *a;
        p.new_number = *b;
        p.new_integral = std::floor(*b) == *b && n.text.find('.') == std::string::npos &&
                         n.value.find('.') == std::string::npos;
        if (*kind == SlotKind::kYear && (!p.new_integral || std::floor(*a) != *a || *a < 1000 ||
                                         *a > 9998 || *b < 1000 || *b > 9998))
          return std::nullopt;
        break;
      }
      case SlotKind::kDate:
        p.old_date = ParseIsoDate(o.value);
        p.new_date = ParseIsoDate(n.value);
        if (!p.old_date || !p.new_date) return std::nullopt;
        break;
      default:
        if (o.value.empty() || n.value.empty()) return std::nullopt;
        break;
    }
    pairs.push_back(p);
  }
  return pairs;
}

// A place a value can be: a literal of the query.
struct Site {
  bool numeric = false;
  double number = 0;
  std::string text;           // a string literal's content
  int group = -1;             // IR: the predicate it belongs to
  std::string phrase;         // IR: that predicate's question words
  bool row_count = false;     // a LIMIT: stays a positive integer
  bool limit_clause = false;  // SQL: a number in LIMIT/OFFSET/FETCH: a non-negative integer
  bool pattern = false;       // SQL: the operand of LIKE (wildcards matter)
};

struct Replacement {
  bool numeric = false;
  double number = 0;
  bool integral = true;
  std::string text;
};

enum class Verdict { kNo, kClaim, kRefuse };

struct ClaimResult {
  Verdict verdict = Verdict::kNo;
  Replacement replacement;
  bool derived = false;  // a year's "(Y+1)-01-01" or a date's next day
};

ClaimResult Refuse() { return {Verdict::kRefuse, {}, false}; }
ClaimResult Claimed(Replacement r, bool derived = false) {
  return {Verdict::kClaim, std::move(r), derived};
}
Replacement Text(std::string s) { return Replacement{false, 0, true, std::move(s)}; }

bool IsLeap(int y) { return std::chrono::year{y}.is_leap(); }

// Replaces the year of "Y-MM..." keeping the rest; refuses a February end whose day depends on
// the year (28 or 29).
ClaimResult RebaseYear(const std::string& site, int new_year, bool derived) {
  std::string rest = site.substr(4);
  if (rest.starts_with("-02-28") || rest.starts_with("-02-29")) {
    int old_year = std::atoi(site.substr(0, 4).c_str());
    if (IsLeap(old_year) != IsLeap(new_year)) return Refuse();
  }
  return Claimed(Text(fmt::format("{:04d}", new_year) + rest), derived);
}

// "YYYY-MM" or "YYYY-MM-DD" at the start of s, then the end or a non-digit.
bool IsDateLike(std::string_view s) {
  auto digits = [&](size_t b, size_t e) {
    for (size_t k = b; k < e; ++k)
      if (k >= s.size() || !IsDigit(s[k])) return false;
    return true;
  };
  if (!digits(0, 4) || s.size() < 7 || s[4] != '-' || !digits(5, 7)) return false;
  if (s.size() == 7 || !IsDigit(s[7])) {
    if (s.size() == 7 || s[7] != '-') return true;
    return s.size() >= 10 && digits(8, 10) && (s.size() == 10 || !IsDigit(s[10]));
  }
  return false;
}

ClaimResult Claim(const SlotPair& p, const Site& site) {
  const cache::Slot& o = *p.old_slot;
  const cache::Slot& n = *p.new_slot;
  switch (p.kind) {
    case SlotKind::kNumber:
      if (site.numeric) {
        if (site.number == p.old_number)
          return Claimed(Replacement{true, p.new_number, p.new_integral, {}});
        return {};
      }
      if (site.text == o.value) return Claimed(Text(n.value));
      return {};
    case SlotKind::kYear: {
      int y = static_cast<int>(p.old_number), ny = static_cast<int>(p.new_number);
      if (site.numeric) {
        if (site.number == p.old_number) return Claimed(Replacement{true, p.new_number, true, {}});
        return {};
      }
      const std::string year = fmt::format("{:04d}", y);
      if (site.text == year) return Claimed(Text(fmt::format("{:04d}", ny)));
      if (site.text.starts_with(year + "-") && IsDateLike(site.text))
        return RebaseYear(site.text, ny, false);
      if (StartsWithWhole(site.text, fmt::format("{:04d}-01-01", y + 1)))
        return RebaseYear(site.text, ny + 1, true);
      return {};
    }
    case SlotKind::kDate: {
      if (site.numeric) return {};
      const std::string d = IsoDate(*p.old_date), next = NextDay(*p.old_date);
      if (StartsWithWhole(site.text, d))
        return Claimed(Text(IsoDate(*p.new_date) + site.text.substr(d.size())));
      if (StartsWithWhole(site.text, next))
        return Claimed(Text(NextDay(*p.new_date) + site.text.substr(next.size())), true);
      return {};
    }
    case SlotKind::kQuoted:
    case SlotKind::kValue:
    case SlotKind::kEntity: {
      if (site.numeric) return {};
      const bool wildcard = n.value.find_first_of("%_\\") != std::string::npos;
      if (text::EqualsIgnoreCase(site.text, o.value)) {
        if (site.pattern && wildcard) return Refuse();
        auto written = InSameCase(site.text, o.value, n.value);
        if (!written) return Refuse();
        return Claimed(Text(*written));
      }
      if (p.kind == SlotKind::kValue) return {};
      auto found = FindAllIgnoreCase(site.text, o.value);
      if (found.empty()) return {};
      if (site.pattern && wildcard) return Refuse();
      std::string out;
      size_t from = 0;
      for (size_t pos : found) {
        auto written =
            InSameCase(std::string_view(site.text).substr(pos, o.value.size()), o.value, n.value);
        if (!written) return Refuse();
        out += site.text.substr(from, pos - from) + *written;
        from = pos + o.value.size();
      }
      out += site.text.substr(from);
      return Claimed(Text(out));
    }
  }
  return {};
}

// True when the site holds the slot's old value in a form no claim covers: a value hiding in a
// longer literal ('2024%', 'Germany and France'), which would keep the old value if left.
bool Mentions(const SlotPair& p, const Site& site) {
  const cache::Slot& o = *p.old_slot;
  if (site.numeric)
    return (p.kind == SlotKind::kNumber || p.kind == SlotKind::kYear) &&
           site.number == p.old_number;
  switch (p.kind) {
    case SlotKind::kNumber:
      return ContainsNumber(site.text, o.value);
    case SlotKind::kYear:
      return ContainsNumber(site.text, fmt::format("{:04d}", static_cast<int>(p.old_number)));
    case SlotKind::kDate:
      return site.text.find(IsoDate(*p.old_date)) != std::string::npos;
    default:
      return !FindAllIgnoreCase(site.text, o.value).empty();
  }
}

// Question words: `needle` in `phrase` ignoring case, not inside a longer word.
std::vector<size_t> FindWords(std::string_view phrase, std::string_view needle) {
  std::vector<size_t> out;
  for (size_t pos : FindAllIgnoreCase(phrase, needle)) {
    bool before_ok = pos == 0 || !IsAlnum(needle.front()) || !IsAlnum(phrase[pos - 1]);
    size_t after = pos + needle.size();
    bool after_ok = after == phrase.size() || !IsAlnum(needle.back()) || !IsAlnum(phrase[after]);
    if (before_ok && after_ok) out.push_back(pos);
  }
  return out;
}

struct PlanOptions {
  bool phrase_gate = false;       // IR: a predicate's values belong to the words of its phrase
  bool whole_groups = false;      // IR: a predicate's values are replaced all or none
  bool derived_in_pairs = false;  // SQL: a derived date only beside the one it derives from
};

// Which slot claims which site, and the replacement of each claimed site; nullopt unless every
// slot claims its places unambiguously.
std::optional<std::vector<std::optional<Replacement>>> Plan(const std::vector<SlotPair>& pairs,
                                                            const std::vector<Site>& sites,
                                                            const PlanOptions& options,
                                                            std::vector<int>* claimed_by) {
  std::vector<std::optional<Replacement>> out(sites.size());
  claimed_by->assign(sites.size(), -1);
  for (size_t s = 0; s < pairs.size(); ++s) {
    const SlotPair& p = pairs[s];
    size_t direct = 0, derived = 0;
    for (size_t j = 0; j < sites.size(); ++j) {
      const Site& site = sites[j];
      if (options.phrase_gate && site.group >= 0 && !site.phrase.empty() &&
          FindWords(site.phrase, p.old_slot->text).empty())
        continue;
      ClaimResult r = Claim(p, site);
      if (r.verdict == Verdict::kRefuse) return std::nullopt;
      if (r.verdict == Verdict::kNo) continue;
      if ((*claimed_by)[j] != -1) return std::nullopt;  // two slots claim one place
      (*claimed_by)[j] = static_cast<int>(s);
      out[j] = std::move(r.replacement);
      (r.derived ? derived : direct) += 1;
    }
    size_t total = direct + derived;
    switch (p.kind) {
      case SlotKind::kYear:
        if (total == 0) return std::nullopt;
        break;
      case SlotKind::kDate:
        if (total == 0 || direct > 1 || derived > 1) return std::nullopt;
        break;
      default:
        if (total != 1) return std::nullopt;
        break;
    }
    if (options.derived_in_pairs && derived > direct) return std::nullopt;
  }
  // An old value left behind anywhere makes the result a mix of old and new.
  for (size_t j = 0; j < sites.size(); ++j)
    for (size_t s = 0; s < pairs.size(); ++s)
      if ((*claimed_by)[j] != static_cast<int>(s) && Mentions(pairs[s], sites[j]))
        return std::nullopt;
  if (options.whole_groups) {
    std::set<int> touched, incomplete;
    for (size_t j = 0; j < sites.size(); ++j) {
      if (sites[j].group < 0) continue;
      if ((*claimed_by)[j] >= 0)
        touched.insert(sites[j].group);
      else
        incomplete.insert(sites[j].group);
    }
    for (int g : touched)
      if (incomplete.contains(g)) return std::nullopt;
  }
  return out;
}

// Replaces, in one pass, the old texts of the given slots by their new texts.
std::string ReplaceWords(const std::string& phrase, const std::vector<const SlotPair*>& pairs) {
  std::vector<std::pair<size_t, const SlotPair*>> hits;
  for (const SlotPair* p : pairs)
    for (size_t pos : FindWords(phrase, p->old_slot->text)) hits.emplace_back(pos, p);
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first
                              : a.second->old_slot->text.size() > b.second->old_slot->text.size();
  });
  std::string out;
  size_t from = 0;
  for (const auto& [pos, p] : hits) {
    if (pos < from) continue;  // overlaps a longer match already replaced
    out += phrase.substr(from, pos - from) + p->new_slot->text;
    from = pos + p->old_slot->text.size();
  }
  out += phrase.substr(from);
  return out;
}

// A number as the engine writes it into a filter: an integer when every number of the filter
// is one, else a double.
db::Value NumberValue(double v, bool integral) {
  if (integral && std::fabs(v) < 9e15) return db::Value{static_cast<int64_t>(v)};
  return db::Value{v};
}

std::optional<double> NumberOf(const db::Value& v) {
  if (std::holds_alternative<bool>(v)) return std::nullopt;
  return db::AsDouble(v);
}

bool WellFormed(const sql::Predicate& p) {
  if (p.op == sql::CompareOp::kBetween && p.values.size() == 2) {
    auto a = NumberOf(p.values[0]), b = NumberOf(p.values[1]);
    if (a && b && *a > *b) return false;
  }
  if (p.op == sql::CompareOp::kRange && p.values.size() == 2) {
    auto a = NumberOf(p.values[0]), b = NumberOf(p.values[1]);
    if (a && b && !(*a < *b)) return false;
    const auto* x = std::get_if<std::string>(&p.values[0]);
    const auto* y = std::get_if<std::string>(&p.values[1]);
    if (x && y && !(*x < *y)) return false;
  }
  return true;
}

}  // namespace

namespace {

// A filter of the query at any depth, and the filter it is nested in: the OR group it is a
// member of, or the filter comparing with the subquery it is in (-1: none).
struct Filter {
  sql::Predicate* predicate = nullptr;
  int parent = -1;
};

// Every filter and every LIMIT of the query, its subqueries, set operands and OR groups: a
// place left out would keep its old value in the rebound query.
class Places {
 public:
  explicit Places(sql::Query& q) { AddQuery(q, -1); }

  std::vector<Filter> filters;
  std::vector<std::optional<int64_t>*> limits;  // each one set

  // The question words a filter's values belong to: its own, or if it has none those of the
  // filter it is nested in ("in Germany or France" for the members of that OR group).
  const std::string& PhraseOf(int f) const {
    while (filters[static_cast<size_t>(f)].predicate->phrase.empty() &&
           filters[static_cast<size_t>(f)].parent >= 0)
      f = filters[static_cast<size_t>(f)].parent;
    return filters[static_cast<size_t>(f)].predicate->phrase;
  }

 private:
  void AddQuery(sql::Query& q, int parent) {
    if (q.limit) limits.push_back(&q.limit);
    for (auto& p : q.where) AddPredicate(p, parent);
    for (auto& p : q.having) AddPredicate(p, parent);
    for (auto& rhs : q.set_rhs) AddQuery(rhs, parent);
  }
  void AddPredicate(sql::Predicate& p, int parent) {
    const int self = static_cast<int>(filters.size());
    filters.push_back({&p, parent});
    for (auto& member : p.any) AddPredicate(member, self);
    for (auto& sub : p.subquery) AddQuery(sub, self);
  }
};

}  // namespace

std::optional<sql::Query> RebindQuery(const sql::Query& cached,
                                      const std::vector<cache::Slot>& old_slots,
                                      const std::vector<cache::Slot>& new_slots) {
  auto pairs = Pair(old_slots, new_slots);
  if (!pairs) return std::nullopt;
  sql::Query q = cached;
  // Pointers into q: nothing is added to or removed from q below.
  Places places(q);
  const std::vector<Filter>& filters = places.filters;

  std::vector<Site> sites;
  struct Where {
    int predicate = -1;  // -1: the LIMIT places.limits[value]
    size_t value = 0;
  };
  std::vector<Where> where;
  for (size_t l = 0; l < places.limits.size(); ++l) {
    Site s;
    s.numeric = true;
    s.number = static_cast<double>(**places.limits[l]);
    s.row_count = true;
    sites.push_back(s);
    where.push_back({-1, l});
  }
  for (size_t g = 0; g < filters.size(); ++g) {
    const sql::Predicate& p = *filters[g].predicate;
    for (size_t k = 0; k < p.values.size(); ++k) {
      Site s;
      s.group = static_cast<int>(g);
      s.phrase = places.PhraseOf(static_cast<int>(g));
      if (auto n = NumberOf(p.values[k])) {
        s.numeric = true;
        s.number = *n;
      } else if (const auto* str = std::get_if<std::string>(&p.values[k])) {
        s.text = *str;
      } else {
        continue;  // NULL, booleans and blobs come from no question value
      }
      sites.push_back(s);
      where.push_back({static_cast<int>(g), k});
    }
  }
  std::vector<int> claimed_by;
  auto plan = Plan(*pairs, sites, {.phrase_gate = true, .whole_groups = true}, &claimed_by);
  if (!plan) return std::nullopt;

  // Numbers of one filter are all integers or all doubles, as the engine writes them.
  std::vector<bool> integral(filters.size(), true);
  for (size_t j = 0; j < sites.size(); ++j)
    if ((*plan)[j] && (*plan)[j]->numeric && where[j].predicate >= 0 && !(*plan)[j]->integral)
      integral[static_cast<size_t>(where[j].predicate)] = false;
  std::vector<std::vector<const SlotPair*>> rephrase(filters.size());
  std::vector<bool> rebound(filters.size(), false);
  for (size_t j = 0; j < sites.size(); ++j) {
    if (!(*plan)[j]) continue;
    const Replacement& r = *(*plan)[j];
    if (where[j].predicate < 0) {
      if (!r.numeric || !r.integral || r.number < 1 || r.number > 9e15) return std::nullopt;
      *places.limits[where[j].value] = static_cast<int64_t>(r.number);
      continue;
    }
    size_t g = static_cast<size_t>(where[j].predicate);
    db::Value& v = filters[g].predicate->values[where[j].value];
    v = r.numeric ? NumberValue(r.number, integral[g]) : db::Value{r.text};
    rebound[g] = true;
    const SlotPair* p = &(*pairs)[static_cast<size_t>(claimed_by[j])];
    // The words of the filter, and of the filters it is nested in, name the old value too.
    for (int f = static_cast<int>(g); f >= 0; f = filters[static_cast<size_t>(f)].parent) {
      auto& words = rephrase[static_cast<size_t>(f)];
      if (std::find(words.begin(), words.end(), p) == words.end()) words.push_back(p);
    }
  }
  for (size_t g = 0; g < filters.size(); ++g) {
    if (rephrase[g].empty()) continue;
    sql::Predicate& predicate = *filters[g].predicate;
    predicate.phrase = ReplaceWords(predicate.phrase, rephrase[g]);
    if (!rebound[g]) continue;  // an OR group or a subquery's filter: no values of its own
    // Numbers of a rebound filter follow the new numbers' kind, as the engine's would.
    for (auto& v : predicate.values)
      if (auto n = NumberOf(v)) v = NumberValue(*n, integral[g] && std::floor(*n) == *n);
    if (!WellFormed(predicate)) return std::nullopt;
  }
  // A new row count can break a nested query: LIMIT 1 of a subquery compared with one value
  // becomes LIMIT 3, which PostgreSQL refuses and SQLite answers with the first row only.
  if (!sql::Validate(q)) return std::nullopt;
  return q;
}

namespace {

struct SqlSite {
  Site site;
  size_t begin = 0, end = 0;  // bytes of the literal, with its prefix and sign
  std::string prefix;         // "N", "E" before a string's quote
  bool had_point = false;     // a number written with a decimal point or exponent
};

bool IdentChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// Words before which a '-' is a sign rather than a subtraction.
bool SignContext(std::string_view word) {
  static const std::set<std::string, std::less<>> kWords = {
      "AND",   "OR",     "NOT",    "BETWEEN", "WHEN", "THEN",   "ELSE", "SELECT",
      "WHERE", "HAVING", "ON",     "IN",      "IS",   "LIMIT",  "BY",   "AS",
      "CASE",  "LIKE",   "RETURN", "OFFSET",  "TOP",  "VALUES", "SET",  "FROM"};
  return kWords.contains(ToUpper(word));
}

bool PatternWord(const std::string& last, const std::string& before_last) {
  return last == "LIKE" || last == "ILIKE" || last == "GLOB" || last == "REGEXP" ||
         last == "RLIKE" || (last == "TO" && before_last == "SIMILAR");
}

// The literals of a statement. nullopt when the text cannot be read without knowing the
// dialect's escaping (backslashes, nested or unterminated comments, dollar quoting, '#').
std::optional<std::vector<SqlSite>> ScanSql(std::string_view sql,
                                            std::vector<std::string>* quoted_identifiers) {
  std::vector<SqlSite> out;
  std::string last_word, before_last;  // upper case
  bool in_limit = false;
  char last_sign = 0;  // the last significant character outside words
  const size_t n = sql.size();
  size_t i = 0;
  auto note_word = [&](std::string word) {
    word = ToUpper(word);
    if (word == "LIMIT" || word == "OFFSET" || word == "FETCH" || word == "TOP")
      in_limit = true;
    else if (word != "FIRST" && word != "NEXT" && word != "ROWS" && word != "ROW" && word != "ONLY")
      in_limit = false;
    before_last = last_word;
    last_word = word;
    last_sign = 0;
  };
  auto read_string = [&](size_t quote, size_t begin, std::string prefix) -> bool {
    std::string content;
    size_t j = quote + 1;
    bool backslash = false;
    while (true) {
      if (j >= n) return false;
      if (sql[j] == '\'') {
        if (j + 1 < n && sql[j + 1] == '\'') {
          content += '\'';
          j += 2;
          continue;
        }
        break;
      }
      if (sql[j] == '\\') backslash = true;
      content += sql[j++];
    }
    if (backslash) return false;  // MySQL and E'' strings escape with it; standard SQL does not
    std::string upper = ToUpper(prefix);
    if (upper.empty() || upper == "N" || upper == "E") {
      SqlSite s;
      s.site.text = std::move(content);
      s.site.pattern = PatternWord(last_word, before_last);
      s.begin = begin;
      s.end = j + 1;
      s.prefix = prefix;
      out.push_back(std::move(s));
    }
    i = j + 1;
    last_sign = '\'';
    in_limit = false;
    return true;
  };
  while (i < n) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) return std::nullopt;
      // Nested comments end at the first "*/" in some dialects and the last in others.
      if (sql.substr(i + 2, end - i - 2).find("/*") != std::string_view::npos) return std::nullopt;
      i = end + 2;
      continue;
    }
    if (c == '#') return std::nullopt;  // a comment in MySQL, an operator in PostgreSQL
    if (c == '\'') {
      if (i >= 2 && sql[i - 1] == '&' && (sql[i - 2] == 'U' || sql[i - 2] == 'u'))
        return std::nullopt;
      if (!read_string(i, i, "")) return std::nullopt;
      continue;
    }
    if (c == '"' || c == '`') {
      std::string content;
      size_t j = i + 1;
      while (true) {
        if (j >= n) return std::nullopt;
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            content += c;
            j += 2;
            continue;
          }
          break;
        }
        content += sql[j++];
      }
      // MySQL reads "..." as a string unless ANSI_QUOTES is set.
      if (c == '"') quoted_identifiers->push_back(content);
      i = j + 1;
      last_sign = 0;
      before_last = last_word;
      last_word = "\"";
      in_limit = false;
      continue;
    }
    if (c == '$') {
      if (i + 1 < n && IsDigit(sql[i + 1])) {  // $1: a placeholder
        ++i;
        while (i < n && IsDigit(sql[i])) ++i;
        continue;
      }
      if (i + 1 < n && (sql[i + 1] == '$' || std::isalpha(static_cast<unsigned char>(sql[i + 1]))))
        return std::nullopt;  // dollar quoting
      ++i;
      continue;
    }
    if (IdentChar(c) && !IsDigit(c)) {
      size_t j = i;
      while (j < n && IdentChar(sql[j])) ++j;
      std::string word(sql.substr(i, j - i));
      if (word.size() == 1 && j < n && sql[j] == '\'' &&
          std::string("EeNnXxBb").find(word[0]) != std::string::npos) {
        if (!read_string(j, i, word)) return std::nullopt;
        continue;
      }
      note_word(word);
      i = j;
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(sql[i + 1]))) {
      size_t j = i;
      bool point = false;
      while (j < n && IsDigit(sql[j])) ++j;
      if (j < n && sql[j] == '.') {
        point = true;
        ++j;
        while (j < n && IsDigit(sql[j])) ++j;
      }
      if (j < n && (sql[j] == 'e' || sql[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (sql[k] == '+' || sql[k] == '-')) ++k;
        if (k < n && IsDigit(sql[k])) {
          point = true;
          j = k;
          while (j < n && IsDigit(sql[j])) ++j;
        }
      }
      if (j < n && IdentChar(sql[j])) {
        // "1st", "0x1F": not a plain number.
        while (j < n && IdentChar(sql[j])) ++j;
        i = j;
        last_sign = 0;
        continue;
      }
      std::string digits(sql.substr(i, j - i));
      SqlSite s;
      s.site.numeric = true;
      s.site.number = std::strtod(digits.c_str(), nullptr);
      s.site.limit_clause = in_limit;
      s.site.row_count = in_limit &&
                         (last_word == "LIMIT" || last_word == "TOP" || last_word == "FIRST" ||
                          last_word == "NEXT") &&
                         last_sign == 0;
      s.begin = i;
      s.end = j;
      s.had_point = point;
      // A sign: "-5" after an operator, an opening parenthesis, a comma or a keyword.
      if (last_sign == '-') {
        size_t m = i;
        while (m > 0 && std::isspace(static_cast<unsigned char>(sql[m - 1]))) --m;
        size_t minus = m - 1;
        size_t k = minus;
        while (k > 0 && std::isspace(static_cast<unsigned char>(sql[k - 1]))) --k;
        bool sign = true;
        if (k > 0) {
          char before = sql[k - 1];
          if (IdentChar(before)) {
            size_t w = k;
            while (w > 0 && IdentChar(sql[w - 1])) --w;
            sign = !IsDigit(sql[w]) && SignContext(sql.substr(w, k - w));
          } else if (before == ')' || before == '\'' || before == '"' || before == '`' ||
                     before == ']') {
            sign = false;
          }
        }
        if (sign) {
          s.site.number = -s.site.number;
          s.begin = minus;
        }
      }
      // A number right after a comma inside LIMIT is MySQL's row count ("LIMIT 10, 5").
      if (in_limit && last_sign == ',') s.site.row_count = true;
      out.push_back(std::move(s));
      i = j;
      last_sign = '0';
      continue;
    }
    if (c == ';' || c == '(' || c == ')') in_limit = false;
    last_sign = c;
    ++i;
  }
  return out;
}

std::string FormatNumber(const Replacement& r, bool had_point) {
  std::string s;
  if (r.integral && std::fabs(r.number) < 9e15) {
    s = fmt::format("{}", static_cast<int64_t>(r.number));
    if (had_point) s += ".0";  // keep a decimal literal decimal ("/ 2.0" divides exactly)
  } else {
    s = fmt::format("{}", r.number);
  }
  return r.number < 0 ? "(" + s + ")" : s;
}

}  // namespace

std::optional<std::string> RebindSql(std::string_view sql,
                                     const std::vector<cache::Slot>& old_slots,
                                     const std::vector<cache::Slot>& new_slots) {
  auto pairs = Pair(old_slots, new_slots);
  if (!pairs) return std::nullopt;
  std::vector<std::string> quoted_identifiers;
  auto scanned = ScanSql(sql, &quoted_identifiers);
  if (!scanned) return std::nullopt;
  // A double-quoted name holding an old value may be a MySQL string: nothing can be said.
  for (const auto& id : quoted_identifiers) {
    Site site;
    site.text = id;
    for (const auto& p : *pairs)
      if (Mentions(p, site)) return std::nullopt;
  }
  std::vector<Site> sites;
  for (const auto& s : *scanned) sites.push_back(s.site);
  std::vector<int> claimed_by;
  auto plan = Plan(*pairs, sites, {.derived_in_pairs = true}, &claimed_by);
  if (!plan) return std::nullopt;
  std::string out(sql);
  for (size_t j = sites.size(); j-- > 0;) {
    if (!(*plan)[j]) continue;
    const Replacement& r = *(*plan)[j];
    const SqlSite& s = (*scanned)[j];
    std::string literal;
    if (r.numeric) {
      if (s.site.limit_clause &&
          (!r.integral || r.number < (s.site.row_count ? 1 : 0) || r.number > 9e15))
        return std::nullopt;
      literal = FormatNumber(r, s.had_point);
    } else {
      std::string quoted;
      for (char c : r.text) {
        if (c == '\\' && ToUpper(s.prefix) == "E") return std::nullopt;
        quoted += c;
        if (c == '\'') quoted += '\'';
      }
      literal = s.prefix + "'" + quoted + "'";
    }
    out.replace(s.begin, s.end - s.begin, literal);
  }
  return out;
}

}  // namespace helios::nl2sql
