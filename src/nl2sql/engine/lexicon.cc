#include "nl2sql/engine/lexicon.h"

#include <libstemmer.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "nl2sql/engine/wordnet_morph.h"

// WordNet's C header uses macro names that collide with ordinary code; it stays in this file.
#include <wn.h>

namespace helios::nl2sql::engine {
namespace {

// libwordnet, for Pertainyms(): it reads its files for each lookup, under this one mutex.
struct WordNetState {
  std::mutex mu;
  bool ready = false;
  // Pertainyms found, by adjective (most words of a question are none: an empty list).
  std::unordered_map<std::string, std::vector<std::string>> pertainyms;
};

WordNetState& WordNet() {
  static WordNetState* state = [] {
    auto* s = new WordNetState();
    s->ready = wninit() == 0;
    return s;
  }();
  return *state;
}

// WordNet's noun and verb morphology for Lemma(), read into memory at first use: no lock and
// no file I/O per word. Null when the dictionary cannot be read (Lemma() then keeps words as
// they are).
const WordNetMorphology* Morphology() {
  static const WordNetMorphology* morphology = []() -> const WordNetMorphology* {
    auto loaded = WordNetMorphology::Load(WordNetDictDir());
    return loaded ? loaded->release() : nullptr;
  }();
  return morphology;
}

struct Stemmer {
  sb_stemmer* s = sb_stemmer_new("english", nullptr);
  ~Stemmer() {
    if (s) sb_stemmer_delete(s);
  }
};

// Words a question uses for structure rather than content.
const std::unordered_set<std::string_view>& StopWords() {
  static const std::unordered_set<std::string_view> kWords = {
      "a", "an", "the", "of", "for", "me", "show", "list", "give", "display", "get", "find", "what",
      "which", "who", "whom", "whose", "are", "is", "was", "were", "be", "been", "do", "does",
      "did", "have", "has", "had", "with", "to", "from", "all", "and", "please", "there", "their",
      "our", "we", "us", "i", "you", "my", "your", "that", "those", "these", "it", "its", "any",
      "some", "how", "tell", "about", "can", "could", "would", "will", "on", "at", "as", "only",
      "just", "also", "too", "data", "information", "info", "details", "record", "records", "row",
      "rows", "entries", "entry", "so", "far", "currently", "now", "in", "each", "every", "by",
      "per", "this", "them", "they", "one", "ones", "whats", "what's", "let", "see", "know", "want",
      "need", "like", "return", "select", "fetch", "provide", "overall", "altogether", "please",
      "kindly", "instead", "again", "same", "but", "then", "both", "either", "currently",
      "existing", "available", "here", "exist", "exists", "registered", "stored", "database",
      "table", "system", "figure", "figures", "up", "out", "into", "being", "having", "made",
      "done", "placed", "got", "received", "total", "number", "count", "many", "much", "or",
      "whole", "entire", "full", "complete", "including", "include", "along", "s", "'s",
      // Verbs that only relate the entities already named ("employees who work in Europe").
      "work", "works", "worked", "working", "handle", "handles", "handled", "handling", "generate",
      "generates", "generated", "generating", "come", "comes", "came", "coming", "still", "live",
      "lives", "lived", "living", "located", "based", "manage", "managed", "manages", "sold",
      "sell", "sells", "selling", "make", "makes", "bring", "brings", "brought", "belong",
      "belongs", "belonging", "job", "jobs", "ever", "yet", "already", "currently", "bought", "buy",
      "buys", "address", "addresses", "listed", "assigned", "responsible", "serve", "serves",
      "served", "cover", "covers", "there's", "well", "across"};
  return kWords;
}

// Database vocabulary: groups of words that name the same thing in a schema.
const std::vector<std::vector<std::string>>& SynonymGroups() {
  static const std::vector<std::vector<std::string>> kGroups = {
      {"amount", "revenue", "sales", "sale", "spend", "spending", "spent", "turnover", "income",
       "value", "worth"},
      {"price", "cost", "priced", "costs"},
      {"quantity", "qty", "units", "unit", "pieces"},
      {"name", "called", "named", "title"},
      {"email", "mail", "e-mail"},
      {"employee", "staff", "salesperson", "rep", "representative", "worker", "personnel",
       "salespeople", "seller"},
      {"customer", "client", "buyer", "shopper", "account"},
      {"product", "item", "article", "goods", "merchandise"},
      {"category", "type", "kind", "genre"},
      {"country", "nation"},
      {"city", "town"},
      {"order", "purchase"},
      {"salary", "pay", "wage", "wages", "earnings", "compensation"},
      {"stock", "inventory"},
      {"status", "state"},
      {"description", "desc"},
      {"region", "territory", "area"},
      {"date", "day", "when", "time"},
      {"age", "old"},
      {"phone", "telephone"},
      {"address", "location"},
      {"id", "identifier", "number"},
      {"discount", "rebate", "markdown"},
      {"year", "yr"},
      {"count", "number"},
      {"student", "pupil"},
      {"person", "people", "persons", "individual"},
      {"teacher", "instructor", "professor", "faculty"},
      {"film", "movie"},
      {"song", "track"},
      {"singer", "artist", "musician"},
      {"capacity", "size"},
      {"population", "inhabitants"},
      {"height", "tall"},
      {"weight", "heavy"},
  };
  return kGroups;
}

}  // namespace

std::string ComputeKey(std::string_view word);
std::string ComputeLemma(const std::string& w);

namespace {

// The memories of words below are bounded: each question brings words never seen before
// (numbers, names, typos), and a memory that kept them all would grow for as long as the server
// runs, once per thread. Words with digits are not kept at all (they rarely come back), and a
// memory that reaches its bound starts over: the words in use come back within a few questions.
constexpr size_t kThreadWords = 4096;
constexpr size_t kSharedWords = 50000;

bool WorthKeeping(std::string_view w) {
  return std::none_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename Map, typename Value>
void Remember(Map& memory, std::string_view word, Value&& value, size_t bound) {
  if (!WorthKeeping(word)) return;
  if (memory.size() >= bound) memory.clear();
  memory.emplace(std::string(word), std::forward<Value>(value));
}

}  // namespace

std::string Lemma(std::string_view word) {
  std::string w(word);
  if (w.size() < 3) return w;
  // Each thread keeps the lemmas it has computed: the engine asks for the lemmas of a question's
  // words many times, and a hit costs some 25 ns where WordNet's morphology costs 0.15-0.4 us
  // (bench/micro: Engine/Lemma/seen_words, Engine/Lemma/new_words).
  thread_local std::unordered_map<std::string, std::string> local;
  if (auto hit = local.find(w); hit != local.end()) return hit->second;
  std::string lemma = ComputeLemma(w);
  Remember(local, w, lemma, kThreadWords);
  return lemma;
}

std::string ComputeLemma(const std::string& w) {
  const WordNetMorphology* morphology = Morphology();
  if (morphology == nullptr) return w;
  // Irregular plurals that WordNet lists as nouns of their own.
  if (w == "people") return "person";
  std::optional<std::string> base = morphology->BaseForm(w, WordNetPos::kNoun);
  if (!base || base->empty()) base = morphology->BaseForm(w, WordNetPos::kVerb);
  // WordNet joins compounds with '_'; keep single words only.
  if (!base || base->empty() || base->find('_') != std::string::npos) return w;
  return *base;
}

std::string Key(std::string_view word) {
  // Each thread keeps the keys it has computed: every question asks for the keys of all its
  // words and phrases, and a key is a lemma and a Snowball stem.
  thread_local std::unordered_map<std::string, std::string> keys;
  if (auto it = keys.find(std::string(word)); it != keys.end()) return it->second;
  std::string key = ComputeKey(word);
  Remember(keys, word, key, kThreadWords);
  return key;
}

std::string ComputeKey(std::string_view word) {
  thread_local Stemmer stemmer;
  std::string lemma = Lemma(word);
  if (!stemmer.s) return lemma;
  const sb_symbol* out = sb_stemmer_stem(
      stemmer.s, reinterpret_cast<const sb_symbol*>(lemma.data()), static_cast<int>(lemma.size()));
  if (!out) return lemma;
  return std::string(reinterpret_cast<const char*>(out), sb_stemmer_length(stemmer.s));
}

std::vector<std::string> Pertainyms(std::string_view adjective) {
  std::vector<std::string> out;
  std::string w(adjective);
  if (w.size() < 3) return out;
  auto& wn = WordNet();
  std::lock_guard lock(wn.mu);
  if (!wn.ready) return out;
  if (auto known = wn.pertainyms.find(w); known != wn.pertainyms.end()) return known->second;
  SynsetPtr found = findtheinfo_ds(w.data(), ADJ, PERTPTR, ALLSENSES);
  for (SynsetPtr s = found; s; s = s->nextss) {
    for (SynsetPtr p = s->ptrlist; p; p = p->nextss) {
      for (int i = 0; i < p->wcount; ++i) {
        std::string noun = p->words[i];
        for (char& c : noun)
          if (c == '_') c = ' ';
        if (std::find(out.begin(), out.end(), noun) == out.end()) out.push_back(noun);
      }
    }
  }
  if (found) free_syns(found);
  Remember(wn.pertainyms, w, out, kSharedWords);
  return out;
}

bool IsStopWord(std::string_view word) { return StopWords().contains(word); }

const std::vector<std::string>& ExpandAbbreviation(std::string_view word) {
  // Abbreviations common in schema names (curated database vocabulary).
  static const std::unordered_map<std::string, std::vector<std::string>> kAbbreviations = {
      {"fname", {"first", "name"}},
      {"lname", {"last", "name"}},
      {"mname", {"middle", "name"}},
      {"dept", {"department"}},
      {"emp", {"employee"}},
      {"mgr", {"manager"}},
      {"qty", {"quantity"}},
      {"amt", {"amount"}},
      {"addr", {"address"}},
      {"num", {"number"}},
      {"no", {"number"}},
      {"cust", {"customer"}},
      {"prod", {"product"}},
      {"desc", {"description"}},
      {"descr", {"description"}},
      {"yr", {"year"}},
      {"dob", {"birth", "date"}},
      {"stu", {"student"}},
      {"prof", {"professor"}},
      {"tel", {"telephone"}},
      {"pct", {"percent"}},
      {"avg", {"average"}},
      {"max", {"maximum"}},
      {"min", {"minimum"}},
      {"cnt", {"count"}},
      {"loc", {"location"}},
      {"org", {"organization"}},
      {"acct", {"account"}},
      {"apt", {"apartment"}},
      {"sex", {"gender"}},
      {"src", {"source"}},
      {"dst", {"destination"}},
      {"dest", {"destination"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kAbbreviations.find(std::string(word));
  return it == kAbbreviations.end() ? kNone : it->second;
}

const std::vector<std::string>& Synonyms(std::string_view word) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, std::vector<std::string>>();
    for (const auto& group : SynonymGroups()) {
      for (const auto& w : group) {
        auto& list = (*m)[w];
        for (const auto& other : group)
          if (other != w) list.push_back(other);
      }
    }
    return m;
  }();
  static const std::vector<std::string> kNone;
  auto it = index->find(std::string(word));
  return it == index->end() ? kNone : it->second;
}

long long NumberWord(std::string_view w) {
  static const std::unordered_map<std::string_view, long long> kNumbers = {
      {"zero", 0},     {"one", 1},          {"two", 2},        {"three", 3},     {"four", 4},
      {"five", 5},     {"six", 6},          {"seven", 7},      {"eight", 8},     {"nine", 9},
      {"ten", 10},     {"eleven", 11},      {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
      {"fifteen", 15}, {"sixteen", 16},     {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
      {"twenty", 20},  {"thirty", 30},      {"forty", 40},     {"fifty", 50},    {"sixty", 60},
      {"seventy", 70}, {"eighty", 80},      {"ninety", 90},    {"hundred", 100}, {"thousand", 1000},
      {"dozen", 12},   {"million", 1000000}};
  auto it = kNumbers.find(w);
  return it == kNumbers.end() ? -1 : it->second;
}

}  // namespace helios::nl2sql::engine
