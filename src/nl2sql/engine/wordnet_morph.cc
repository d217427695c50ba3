#include "nl2sql/engine/wordnet_morph.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helios::nl2sql::engine {
namespace {

// libwordnet keeps words in buffers of 256 bytes: it refuses longer input and finds nothing
// longer in its index.
constexpr size_t kMaxChars = 255;

// A set of dictionary words, each with a text (an exception's base form; empty for index
// words), in one block of memory: the entries one after another, [length][word][length][text],
// and an open-addressing table of their offsets. About 6 bytes per word besides its letters,
// where a node-based hash set of strings takes some 70.
class WordTable {
 public:
  WordTable() = default;
  // Room for `words` words of `letters` letters and texts in all, without growing: the slots
  // are never more than half full.
  WordTable(size_t words, size_t letters)
      : slots_(std::bit_ceil(std::max<size_t>(words * 2, 16)), 0) {
    entries_.reserve(letters + 2 * words);
  }

  // Adds `word` with `text` unless the word is there already. Words and texts longer than
  // kMaxChars are not kept: nothing that long is ever looked up.
  void Add(std::string_view word, std::string_view text) {
    if (word.size() > kMaxChars || text.size() > kMaxChars) return;
    size_t slot = SlotOf(word);
    if (slots_[slot] != 0) return;
    ++words_;
    assert(words_ * 2 <= slots_.size() && "more words than the table was made for");
    assert(entries_.size() < UINT32_MAX);
    slots_[slot] = static_cast<uint32_t>(entries_.size() + 1);
    entries_ += static_cast<char>(word.size());
    entries_ += word;
    entries_ += static_cast<char>(text.size());
    entries_ += text;
  }

  // The text of `word`; nullopt when the word is not in the table.
  std::optional<std::string_view> Find(std::string_view word) const {
    if (slots_.empty()) return std::nullopt;
    uint32_t slot = slots_[SlotOf(word)];
    if (slot == 0) return std::nullopt;
    return Field(slot - 1 + 1 + word.size());
  }

  bool Contains(std::string_view word) const { return Find(word).has_value(); }

  size_t MemoryBytes() const { return entries_.capacity() + slots_.capacity() * sizeof(uint32_t); }

 private:
  // The word or text whose length byte is at `at`.
  std::string_view Field(size_t at) const {
    return std::string_view(entries_).substr(at + 1, static_cast<unsigned char>(entries_[at]));
  }

  // The slot holding `word`, or the empty slot where it would go (linear probing).
  size_t SlotOf(std::string_view word) const {
    const size_t mask = slots_.size() - 1;
    const size_t hash = std::hash<std::string_view>{}(word);
    size_t slot = hash & mask;
    while (slots_[slot] != 0 && Field(slots_[slot] - 1) != word) slot = (slot + 1) & mask;
    return slot;
  }

  std::string entries_;
  std::vector<uint32_t> slots_;  // offset of an entry in entries_ + 1; 0 is an empty slot
  size_t words_ = 0;
};

// One way of taking an inflection off a word: "ies" -> "y" turns "categories" into "category".
struct Detachment {
  std::string_view suffix;
  std::string_view ending;
};

// Morphy's detachment rules, tried in this order.
constexpr std::array<Detachment, 8> kNounRules = {{{"s", ""},
                                                   {"ses", "s"},
                                                   {"xes", "x"},
                                                   {"zes", "z"},
                                                   {"ches", "ch"},
                                                   {"shes", "sh"},
                                                   {"men", "man"},
                                                   {"ies", "y"}}};
constexpr std::array<Detachment, 8> kVerbRules = {{{"s", ""},
                                                   {"ies", "y"},
                                                   {"es", "e"},
                                                   {"es", ""},
                                                   {"ed", "e"},
                                                   {"ed", ""},
                                                   {"ing", "e"},
                                                   {"ing", ""}}};

// The prepositions after which Morphy inflects only the verb of a phrase ("looked_up").
constexpr std::array<std::string_view, 15> kPrepositions = {
    "to",   "at",   "of",   "on",   "off", "in",    "out",    "up",
    "down", "from", "with", "into", "for", "about", "between"};

// Morphy's notion of an ending: the word is longer than the suffix and ends with it.
bool EndsWith(std::string_view word, std::string_view suffix) {
  return word.size() > suffix.size() && word.ends_with(suffix);
}

// Folds A-Z to lower case and drops everything from a '(' on (WordNet marks adjectives so:
// "galore(ip)"), in place.
void FoldCase(std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') {
      s.resize(i);
      return;
    }
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  }
}

// The number of words in `s`, separated by runs of `separator`, '_' or ' ' (a separator at
// either end starts or ends an empty word).
size_t CountWords(std::string_view s, char separator) {
  size_t words = 1;
  bool in_separator = false;
  for (char c : s) {
    bool is_separator = c == separator || c == ' ' || c == '_';
    if (is_separator && !in_separator) ++words;
    in_separator = is_separator;
  }
  return words;
}

// True when one of the first `words` - 1 underscores of `phrase` is followed by a preposition
// that ends the phrase or is followed by another underscore.
bool HasPreposition(std::string_view phrase, size_t words) {
  size_t at = 0;
  for (size_t word = 2; word <= words; ++word) {
    size_t underscore = phrase.find('_', at);
    if (underscore == std::string_view::npos) return false;
    at = underscore + 1;
    std::string_view rest = phrase.substr(at);
    for (std::string_view preposition : kPrepositions) {
      if (rest.starts_with(preposition) &&
          (rest.size() == preposition.size() || rest[preposition.size()] == '_')) {
        return true;
      }
    }
  }
  return false;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string Concat(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out += a;
  out += b;
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::string text(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) return std::nullopt;
  return text;
}

// Calls `visit` with each line of `text`, without its '\n'.
template <typename Visit>
void ForEachLine(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    visit(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

// The first field of a dictionary line, up to its first space.
std::string_view KeyOf(std::string_view line) { return line.substr(0, line.find(' ')); }

// The line libwordnet's bin_search() finds for `key` in a file whose text is `file`: it
// bisects byte offsets, reading the first line that starts after each offset. Where a key is on
// several lines (noun.exc has a few), this says which one it lands on.
std::optional<std::string_view> BisectLines(std::string_view file, std::string_view key) {
  size_t top = 0;
  size_t bottom = file.size();
  size_t mid = bottom / 2;
  size_t step = 0;
  std::string_view line;  // at the end of the file, bin_search keeps the line it read before
  int order = 0;
  do {
    size_t at = mid == 0 ? 0 : mid - 1;
    if (mid != 1) {
      size_t newline = file.find('\n', at);
      at = newline == std::string_view::npos ? file.size() : newline + 1;
    }
    if (at < file.size()) line = file.substr(at, file.find('\n', at) - at);
    order = KeyOf(line).compare(key);
    if (order < 0) {
      top = mid;
    } else if (order > 0) {
      bottom = mid;
    }
    step = (bottom - top) / 2;
    mid = top + step;
  } while (order != 0 && step != 0);
  if (order != 0) return std::nullopt;
  return line;
}

// The base form exc_lookup() takes from an exception line ("axes ax axis" -> "ax"): the field
// after the first space, provided that space is not followed by another.
std::string_view FirstBaseForm(std::string_view line) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos || space + 1 >= line.size() || line[space + 1] == ' ') {
    return {};
  }
  std::string_view rest = line.substr(space + 1);
  return rest.substr(0, rest.find(' '));
}

// index.<pos>: every lemma. The licence at the top is on lines that start with spaces, which
// libwordnet's binary search takes for lines of the empty word: for it, "" is in the index (and
// so, for instance, "." is defined, being "" without its periods).
Result<WordTable> LoadIndex(const std::string& dir, const std::string& name) {
  std::optional<std::string> text = ReadFile(dir + "/" + name);
  if (!text) return Fail(ErrorCode::kUnavailable, "WordNet's " + name + " could not be read");
  // Two passes, so that the table is allocated once at its final size.
  size_t words = 0;
  size_t letters = 0;
  ForEachLine(*text, [&](std::string_view line) {
    if (line.find(' ') == std::string_view::npos) return;
    ++words;
    letters += KeyOf(line).size();
  });
  WordTable table(words, letters);
  ForEachLine(*text, [&](std::string_view line) {
    if (line.find(' ') != std::string_view::npos) table.Add(KeyOf(line), {});
  });
  return table;
}

// <pos>.exc: each inflected form with the base form libwordnet's lookup of it finds first.
Result<WordTable> LoadExceptions(const std::string& dir, const std::string& name) {
  std::optional<std::string> text = ReadFile(dir + "/" + name);
  if (!text) return Fail(ErrorCode::kUnavailable, "WordNet's " + name + " could not be read");
  WordTable table(static_cast<size_t>(std::count(text->begin(), text->end(), '\n')) + 1,
                  text->size());
  ForEachLine(*text, [&](std::string_view line) {
    std::string_view key = KeyOf(line);
    if (key.empty() || key.size() == line.size() || table.Contains(key)) return;
    std::optional<std::string_view> found = BisectLines(*text, key);
    if (!found) return;
    std::string_view base = FirstBaseForm(*found);
    if (!base.empty()) table.Add(key, base);
  });
  return table;
}

}  // namespace

struct WordNetMorphology::Dictionary {
  struct Part {
    WordTable index;       // lemmas of index.<pos>
    WordTable exceptions;  // <pos>.exc
  };
  Part noun;
  Part verb;

  const Part& part(WordNetPos pos) const { return pos == WordNetPos::kNoun ? noun : verb; }

  std::optional<std::string> BaseForm(std::string_view word, WordNetPos pos) const;
  bool IsDefined(std::string& candidate, WordNetPos pos) const;
  std::optional<std::string> MorphWord(std::string_view word, WordNetPos pos) const;
  std::optional<std::string> MorphEachWord(const std::string& collocation, WordNetPos pos) const;
  std::optional<std::string> MorphPhrasalVerb(const std::string& phrase) const;
};

std::string WordNetDictDir(const char* wnsearchdir, const char* wnhome) {
  if (wnsearchdir != nullptr) return wnsearchdir;
  if (wnhome != nullptr) return std::string(wnhome) + "/dict";
  return "/usr/share/wordnet";
}

std::string WordNetDictDir() {
  return WordNetDictDir(std::getenv("WNSEARCHDIR"), std::getenv("WNHOME"));
}

Result<std::unique_ptr<const WordNetMorphology>> WordNetMorphology::Load(
    const std::string& dict_dir) {
  auto dictionary = std::make_unique<Dictionary>();
  for (auto [part, name] : {std::pair{&dictionary->noun, std::string("noun")},
                            std::pair{&dictionary->verb, std::string("verb")}}) {
    Result<WordTable> index = LoadIndex(dict_dir, "index." + name);
    if (!index) return std::unexpected(index.error());
    Result<WordTable> exceptions = LoadExceptions(dict_dir, name + ".exc");
    if (!exceptions) return std::unexpected(exceptions.error());
    part->index = std::move(*index);
    part->exceptions = std::move(*exceptions);
  }
  return std::unique_ptr<const WordNetMorphology>(new WordNetMorphology(std::move(dictionary)));
}

WordNetMorphology::WordNetMorphology(std::unique_ptr<const Dictionary> dictionary)
    : dictionary_(std::move(dictionary)) {}

WordNetMorphology::~WordNetMorphology() = default;

size_t WordNetMorphology::MemoryBytes() const {
  size_t bytes = sizeof(Dictionary);
  for (const Dictionary::Part* part : {&dictionary_->noun, &dictionary_->verb}) {
    bytes += part->index.MemoryBytes() + part->exceptions.MemoryBytes();
  }
  return bytes;
}

std::optional<std::string> WordNetMorphology::BaseForm(std::string_view word,
                                                       WordNetPos pos) const {
  return dictionary_->BaseForm(word, pos);
}

std::optional<std::string> WordNetMorphology::Dictionary::BaseForm(std::string_view word,
                                                                   WordNetPos pos) const {
  // libwordnet reads a C string: up to the first NUL.
  word = word.substr(0, word.find('\0'));
  if (word.size() > kMaxChars) return std::nullopt;
  // Collocations are written with '_' in WordNet.
  std::string str(word);
  std::replace(str.begin(), str.end(), ' ', '_');
  FoldCase(str);
  // The exception list, then (for nouns) the rules on the whole string.
  if (auto base = part(pos).exceptions.Find(str); base && *base != str) return std::string(*base);
  if (pos == WordNetPos::kNoun) {
    if (auto base = MorphWord(str, pos); base && *base != str) return base;
    // A single noun has nothing more to try: word by word would try the same rules again.
    if (str.find_first_of("_-") == std::string::npos) return std::nullopt;
  }
  if (pos == WordNetPos::kVerb) {
    size_t words = CountWords(str, '_');
    if (words > 1 && HasPreposition(str, words)) return MorphPhrasalVerb(str);
  }
  return MorphEachWord(str, pos);
}

// libwordnet's is_defined(): whether the index has `candidate`, or the candidate with its
// underscores as hyphens, its hyphens as underscores, without either, or without periods (any
// of which may be the empty word). Like libwordnet, folds the candidate's case first, in place.
bool WordNetMorphology::Dictionary::IsDefined(std::string& candidate, WordNetPos pos) const {
  FoldCase(candidate);
  if (candidate.size() > kMaxChars) return false;
  const WordTable& index = part(pos).index;
  if (index.Contains(candidate)) return true;
  if (candidate.find_first_of("_-.") == std::string::npos) return false;
  std::array<std::string, 4> variants;
  for (char c : candidate) {
    variants[0] += c == '_' ? '-' : c;
    variants[1] += c == '-' ? '_' : c;
    if (c != '_' && c != '-') variants[2] += c;
    if (c != '.') variants[3] += c;
  }
  return std::any_of(variants.begin(), variants.end(),
                     [&](const std::string& v) { return v != candidate && index.Contains(v); });
}

// libwordnet's morphword(): the exception list's base form of a single word (which may be the
// word itself), else the first detachment whose result is in the index. Nouns ending in "ss" or
// of one or two letters have none; nouns in "-ful" are inflected before the "ful"
// ("boxesful" -> "boxful").
std::optional<std::string> WordNetMorphology::Dictionary::MorphWord(std::string_view word,
                                                                    WordNetPos pos) const {
  const Part& p = part(pos);
  if (auto base = p.exceptions.Find(word)) return std::string(*base);
  std::string_view stem = word;
  std::string_view kept;
  if (pos == WordNetPos::kNoun) {
    if (EndsWith(word, "ful")) {
      stem = word.substr(0, word.size() - 3);
      kept = "ful";
    } else if (EndsWith(word, "ss") || word.size() <= 2) {
      return std::nullopt;
    }
  }
  for (const Detachment& rule : pos == WordNetPos::kNoun ? kNounRules : kVerbRules) {
    if (!EndsWith(stem, rule.suffix)) continue;
    std::string candidate = Concat(stem.substr(0, stem.size() - rule.suffix.size()), rule.ending);
    if (candidate != stem && IsDefined(candidate, pos)) return candidate += kept;
  }
  return std::nullopt;
}

// The collocation with each of its words in its base form ("sea_lions" -> "sea_lion"), when
// that differs from the collocation and is in the index. libwordnet cuts it into as many pieces
// as it has runs of separators ('_' or '-'), at the first separator characters; the last piece
// is the rest, separators and all.
std::optional<std::string> WordNetMorphology::Dictionary::MorphEachWord(
    const std::string& collocation, WordNetPos pos) const {
  const size_t pieces = CountWords(collocation, '-');
  std::string result;
  size_t start = 0;
  auto append = [&](std::string_view piece) {
    std::optional<std::string> base = MorphWord(piece, pos);
    result += base ? std::string_view(*base) : piece;
  };
  for (size_t i = 1; i < pieces; ++i) {
    size_t separator = collocation.find_first_of("_-", start);
    if (separator == std::string::npos) return std::nullopt;
    append(std::string_view(collocation).substr(start, separator - start));
    result += collocation[separator];
    start = separator + 1;
  }
  append(std::string_view(collocation).substr(start));
  // Past kMaxChars libwordnet would overrun its buffer (and abort).
  if (result.size() > kMaxChars || result == collocation) return std::nullopt;
  if (!IsDefined(result, pos)) return std::nullopt;
  return result;
}

// libwordnet's morphprep(): a verb phrase with a preposition ("looked_up_words"), where only
// the verb (its first word) is inflected, and the last word may be taken as a plural noun.
std::optional<std::string> WordNetMorphology::Dictionary::MorphPhrasalVerb(
    const std::string& phrase) const {
  const size_t first = phrase.find('_');
  const size_t last = phrase.rfind('_');
  const std::string_view rest = std::string_view(phrase).substr(first);
  // With three words or more, the alternative ending has the last word as a singular noun.
  std::optional<std::string> end;
  if (first != last) {
    if (auto noun = MorphWord(std::string_view(phrase).substr(last + 1), WordNetPos::kNoun)) {
      end = Concat(std::string_view(phrase).substr(first, last - first + 1), *noun);
    }
  }
  const std::string_view head = std::string_view(phrase).substr(0, first);
  if (!std::all_of(head.begin(), head.end(), IsAsciiAlnum)) return std::nullopt;

  auto try_verb = [&](std::string_view base) -> std::optional<std::string> {
    std::string candidate = Concat(base, rest);
    if (IsDefined(candidate, WordNetPos::kVerb)) return candidate;
    if (end) {
      candidate = Concat(base, *end);
      if (IsDefined(candidate, WordNetPos::kVerb)) return candidate;
    }
    return std::nullopt;
  };
  if (auto base = verb.exceptions.Find(head); base && *base != head) {
    if (auto found = try_verb(*base)) return found;
  }
  for (const Detachment& rule : kVerbRules) {
    if (!EndsWith(head, rule.suffix)) continue;
    std::string base = Concat(head.substr(0, head.size() - rule.suffix.size()), rule.ending);
    if (base == head) continue;
    if (auto found = try_verb(base)) return found;
  }
  // Nothing in the index: the phrase with its last word singular, unchecked.
  if (end) {
    std::string candidate = Concat(head, *end);
    if (candidate != phrase && candidate.size() <= kMaxChars) return candidate;
  }
  return std::nullopt;
}

}  // namespace helios::nl2sql::engine
