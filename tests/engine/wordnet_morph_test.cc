// WordNetMorphology against libwordnet itself: for every word of a large set, BaseForm() must
// give what morphstr() gives on its first call (NULL as nullopt), for nouns and verbs. The set:
// lemmas of index.noun and index.verb, every word of noun.exc and verb.exc, regular inflections
// of index lemmas (collocations too), the same in mixed case, words with spaces, underscores,
// hyphens, digits, apostrophes and other punctuation, empty and very long strings, and
// pseudo-random non-words (fixed seed).
//
// libwordnet answers each word from its files on disk (some 50-100 us a word), so by default
// the index lemmas and their inflections are a fixed sample (every Nth, a few seconds in all);
// HELIOS_WORDNET_EXHAUSTIVE=1 compares every one of them (11 million lookups, some 15 minutes).
#include "nl2sql/engine/wordnet_morph.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// Last: libwordnet's header defines macros (CLASS, NOUN, bit, ...) that would collide with the
// headers above.
#include <wn.h>

namespace helios::nl2sql::engine {
namespace {

// morphstr()'s first answer for `word`.
std::optional<std::string> Libwordnet(std::string_view word, WordNetPos pos) {
  std::string buffer(word);
  const char* base = morphstr(buffer.data(), pos == WordNetPos::kNoun ? NOUN : VERB);
  if (base == nullptr) return std::nullopt;
  return std::string(base);
}

std::string Show(const std::optional<std::string>& s) {
  return s ? "\"" + *s + "\"" : std::string("NULL");
}

bool Exhaustive() {
  const char* value = std::getenv("HELIOS_WORDNET_EXHAUSTIVE");
  return value != nullptr && std::string_view(value) == "1";
}

// Every `stride`th element of `all`, starting at `offset`; all of them when exhaustive.
std::vector<std::string> Sample(const std::vector<std::string>& all, size_t stride,
                                size_t offset = 0) {
  if (Exhaustive()) return all;
  std::vector<std::string> out;
  for (size_t i = offset % stride; i < all.size(); i += stride) out.push_back(all[i]);
  return out;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lemmas of index.<pos> (the licence lines at the top start with spaces).
std::vector<std::string> IndexLemmas(const std::string& file) {
  std::vector<std::string> out;
  for (const std::string& line : FileLines(WordNetDictDir() + "/" + file)) {
    if (!line.empty() && line[0] != ' ') out.push_back(line.substr(0, line.find(' ')));
  }
  return out;
}

// Every word of <pos>.exc: the inflected forms and their base forms.
std::vector<std::string> ExceptionWords(const std::string& file) {
  std::vector<std::string> out;
  for (const std::string& line : FileLines(WordNetDictDir() + "/" + file)) {
    std::istringstream fields(line);
    for (std::string word; fields >> word;) out.push_back(word);
  }
  return out;
}

// Regular inflections of a lemma, right or wrong ("boxs" as well as "boxes"); for a
// collocation, also of its first word ("look_up" -> "looked_up").
std::vector<std::string> Inflections(const std::string& lemma) {
  std::vector<std::string> out;
  auto inflect = [&out](const std::string& word, const std::string& rest) {
    for (const char* ending : {"s", "es", "ed", "d", "ing", "ful", "sful", "er", "ss", "'s"}) {
      out.push_back(word + ending + rest);
    }
    char last = word.back();
    std::string stem = word.substr(0, word.size() - 1);
    if (last == 'y') {
      for (const char* ending : {"ies", "ied", "iesful"}) out.push_back(stem + ending + rest);
    }
    if (last == 'e') out.push_back(stem + "ing" + rest);
    if (word.size() > 3 && word.ends_with("man")) {
      out.push_back(word.substr(0, word.size() - 3) + "men" + rest);
    }
    if (std::string_view("aeiouy").find(last) == std::string_view::npos) {
      out.push_back(word + last + "ed" + rest);
      out.push_back(word + last + "ing" + rest);
    }
  };
  if (lemma.empty()) return out;
  inflect(lemma, "");
  size_t separator = lemma.find_first_of("_-");
  if (separator != std::string::npos && separator > 0) {
    inflect(lemma.substr(0, separator), lemma.substr(separator));
  }
  return out;
}

// The same words written otherwise: capitalised, upper case, mixed case, with spaces for
// underscores, with hyphens for underscores.
std::vector<std::string> Respellings(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const std::string& word : words) {
    std::string capital = word, upper = word, mixed = word, spaced = word, hyphened = word;
    auto up = [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); };
    if (!capital.empty()) capital[0] = up(capital[0]);
    for (size_t i = 0; i < word.size(); ++i) {
      upper[i] = up(word[i]);
      if (i % 2 == 1) mixed[i] = up(word[i]);
      if (word[i] == '_') {
        spaced[i] = ' ';
        hyphened[i] = '-';
      }
    }
    for (std::string* w : {&capital, &upper, &mixed, &spaced, &hyphened}) {
      if (*w != word) out.push_back(*w);
    }
  }
  return out;
}

// Hand-picked words for each path of Morphy, and strings at its edges.
std::vector<std::string> EdgeCases() {
  std::vector<std::string> out = {"",
                                  " ",
                                  "_",
                                  "-",
                                  "--",
                                  "__",
                                  "_-_",
                                  "'",
                                  "'s",
                                  ".",
                                  "(",
                                  "()",
                                  "s",
                                  "ss",
                                  "es",
                                  "ed",
                                  "ing",
                                  "ful",
                                  "men",
                                  "ies",
                                  "a",
                                  "ab",
                                  "abs",
                                  "axes",
                                  "aurar",
                                  "involucra",
                                  "diastemata",
                                  "people",
                                  "customers",
                                  "categories",
                                  "sold",
                                  "bought",
                                  "has",
                                  "is",
                                  "was",
                                  "were",
                                  "boxes",
                                  "boxesful",
                                  "cupful",
                                  "cupsful",
                                  "glasses",
                                  "glass",
                                  "addresses",
                                  "children",
                                  "feet",
                                  "salespeople",
                                  "women",
                                  "firemen",
                                  "looked up",
                                  "looked_up",
                                  "looks_up_words",
                                  "looking_for_trouble",
                                  "went_to_town",
                                  "went_to_towns",
                                  "gave_up_the_ghosts",
                                  "pasquilled_about",
                                  "xyz_up",
                                  "sea lions",
                                  "sea_lions",
                                  "Sea-Lions",
                                  "ice-creams",
                                  "ice_creams_",
                                  "_dogs",
                                  "dogs_",
                                  "-dogs",
                                  "dogs-",
                                  "dogs--",
                                  "a__b",
                                  "a--b",
                                  "a_-b",
                                  "dogs_and_cats",
                                  "dogs-and-cats",
                                  "dogs and cats",
                                  "u.s.",
                                  "u.s.a.",
                                  "st.",
                                  "mr.",
                                  "dr.s",
                                  "mt._mckinleys",
                                  "dogs(x)",
                                  "Dogs(",
                                  "(dogs",
                                  "DOGS",
                                  "Customers",
                                  "CaTeGoRiEs",
                                  "x-rays",
                                  "t-shirts",
                                  "3-d",
                                  "4wd",
                                  "1990s",
                                  "24/7",
                                  "a.m.",
                                  "o'clock",
                                  "o'clocks",
                                  "don't",
                                  "rock'n'roll",
                                  "jack-o'-lanterns",
                                  "dog\tsled",
                                  "dog\nsled",
                                  "dog\rs",
                                  "caf\xc3\xa9s",
                                  "na\xc3\xafve",
                                  "\xff\xfe",
                                  "up",
                                  "to",
                                  "_to",
                                  "go_",
                                  "go__to",
                                  "go_to_",
                                  "go_to__",
                                  "__go_to",
                                  "be_in_houses",
                                  "bok",
                                  "bok-",
                                  "comics",
                                  "comics_strips"};
  out.push_back(std::string("dogs\0cats", 9));  // libwordnet reads up to the NUL
  return out;
}

// Strings around libwordnet's 255-character limit, made of words whose base form is no longer.
std::vector<std::string> LongStrings() {
  std::vector<std::string> out;
  for (size_t n : {250, 254, 255, 256, 1000}) {
    out.push_back(std::string(n - 4, '_') + "dogs");
    out.push_back("dogs" + std::string(n - 4, '-'));
    out.push_back(std::string(n - 4, 'a') + "dogs");
    out.push_back(std::string(n - 4, 'x') + "ying");
    out.push_back("looked_up" + std::string(n - 9, '_'));
    std::string collocation;
    while (collocation.size() + 5 <= n) collocation += "dogs_";
    collocation.resize(n, 's');
    out.push_back(collocation);
    out.push_back(std::string(n - 4, ' ') + "DOGS");
    out.push_back("dogs(" + std::string(n - 5, 'x'));
  }
  return out;
}

// Strings of letters, digits and punctuation, many ending as inflections do.
std::vector<std::string> NonWords(size_t count) {
  std::mt19937 random(20251215);
  const std::string letters = "aeioustrnledgmhcyfpxbkwz'-_ .0123456789";
  const std::vector<std::string> endings = {"",    "s",   "es",   "ies", "ed",   "ing",
                                            "ful", "ss",  "men",  "ses", "xes",  "ches",
                                            "d",   "ied", "sful", "_up", "_to_x"};
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string word;
    size_t length = 1 + random() % 12;
    for (size_t k = 0; k < length; ++k) word += letters[random() % letters.size()];
    out.push_back(word + endings[random() % endings.size()]);
  }
  return out;
}

class WordNetMorphologyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(wninit(), 0) << "libwordnet could not open its dictionary";
    auto loaded = WordNetMorphology::Load(WordNetDictDir());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    morphology_ = std::move(*loaded).release();
  }
  static void TearDownTestSuite() {
    delete morphology_;
    morphology_ = nullptr;
  }

  // Compares BaseForm with morphstr for each word, nouns and verbs; every difference fails
  // the test, the first few are shown.
  static void ExpectSameAsLibwordnet(const std::vector<std::string>& words) {
    ASSERT_NE(morphology_, nullptr);
    size_t compared = 0;
    size_t different = 0;
    std::string shown;
    for (const std::string& word : words) {
      for (WordNetPos pos : {WordNetPos::kNoun, WordNetPos::kVerb}) {
        std::optional<std::string> ours = morphology_->BaseForm(word, pos);
        std::optional<std::string> theirs = Libwordnet(word, pos);
        ++compared;
        if (ours == theirs) continue;
        if (++different <= 10) {
          shown += "\n  " + std::string(pos == WordNetPos::kNoun ? "noun" : "verb") + " \"" +
                   word.substr(0, 80) + (word.size() > 80 ? "...\"" : "\"") + " (" +
                   std::to_string(word.size()) + " chars): ours " + Show(ours) + ", morphstr " +
                   Show(theirs);
        }
      }
    }
    std::printf("%zu lookups compared with morphstr, %zu differ\n", compared, different);
    EXPECT_EQ(different, 0u) << different << " of " << compared << " lookups differ:" << shown;
    ::testing::Test::RecordProperty("lookups_compared", static_cast<int>(compared));
    EXPECT_GT(compared, 0u);
  }

  static const WordNetMorphology* morphology_;
};

const WordNetMorphology* WordNetMorphologyTest::morphology_ = nullptr;

TEST_F(WordNetMorphologyTest, ExceptionListWordsMatchLibwordnet) {
  std::vector<std::string> words = ExceptionWords("noun.exc");
  std::vector<std::string> verbs = ExceptionWords("verb.exc");
  words.insert(words.end(), verbs.begin(), verbs.end());
  ASSERT_GT(words.size(), 8000u);
  ExpectSameAsLibwordnet(words);
}

TEST_F(WordNetMorphologyTest, IndexLemmasMatchLibwordnet) {
  std::vector<std::string> nouns = IndexLemmas("index.noun");
  std::vector<std::string> verbs = IndexLemmas("index.verb");
  ASSERT_GT(nouns.size(), 100000u);
  ASSERT_GT(verbs.size(), 10000u);
  std::vector<std::string> words = Sample(nouns, 37);
  std::vector<std::string> sampled_verbs = Sample(verbs, 5);
  words.insert(words.end(), sampled_verbs.begin(), sampled_verbs.end());
  ExpectSameAsLibwordnet(words);
}

TEST_F(WordNetMorphologyTest, InflectionsOfIndexLemmasMatchLibwordnet) {
  std::vector<std::string> lemmas = Sample(IndexLemmas("index.noun"), 701, 7);
  std::vector<std::string> verbs = Sample(IndexLemmas("index.verb"), 97, 3);
  lemmas.insert(lemmas.end(), verbs.begin(), verbs.end());
  std::vector<std::string> words;
  for (const std::string& lemma : lemmas) {
    std::vector<std::string> forms = Inflections(lemma);
    words.insert(words.end(), forms.begin(), forms.end());
  }
  ExpectSameAsLibwordnet(words);
}

TEST_F(WordNetMorphologyTest, RespelledWordsMatchLibwordnet) {
  std::vector<std::string> words = Sample(IndexLemmas("index.noun"), 1499, 11);
  std::vector<std::string> verbs = Sample(IndexLemmas("index.verb"), 197, 5);
  words.insert(words.end(), verbs.begin(), verbs.end());
  std::vector<std::string> exceptions = Sample(ExceptionWords("verb.exc"), 47);
  words.insert(words.end(), exceptions.begin(), exceptions.end());
  std::vector<std::string> inflected;
  for (const std::string& word : words) {
    std::vector<std::string> forms = Inflections(word);
    inflected.insert(inflected.end(), forms.begin(), forms.begin() + 5);
  }
  words.insert(words.end(), inflected.begin(), inflected.end());
  ExpectSameAsLibwordnet(Respellings(words));
}

TEST_F(WordNetMorphologyTest, EdgeCasesMatchLibwordnet) {
  std::vector<std::string> words = EdgeCases();
  std::vector<std::string> respelled = Respellings(words);
  words.insert(words.end(), respelled.begin(), respelled.end());
  std::vector<std::string> long_strings = LongStrings();
  words.insert(words.end(), long_strings.begin(), long_strings.end());
  ExpectSameAsLibwordnet(words);
}

TEST_F(WordNetMorphologyTest, NonWordsMatchLibwordnet) { ExpectSameAsLibwordnet(NonWords(3000)); }

TEST_F(WordNetMorphologyTest, KnownBaseForms) {
  const WordNetMorphology& m = *morphology_;
  EXPECT_EQ(m.BaseForm("customers", WordNetPos::kNoun), "customer");
  EXPECT_EQ(m.BaseForm("categories", WordNetPos::kNoun), "category");
  EXPECT_EQ(m.BaseForm("sold", WordNetPos::kVerb), "sell");
  EXPECT_EQ(m.BaseForm("sold", WordNetPos::kNoun), std::nullopt);
  EXPECT_EQ(m.BaseForm("Looked Up", WordNetPos::kVerb), "look_up");
  EXPECT_EQ(m.BaseForm("boxesful", WordNetPos::kNoun), "boxful");
  EXPECT_EQ(m.BaseForm("glasses", WordNetPos::kNoun), "glass");
  EXPECT_EQ(m.BaseForm("glass", WordNetPos::kNoun), std::nullopt);  // "ss" is not a plural
  // A word listed twice in noun.exc: the line libwordnet's binary search lands on.
  EXPECT_EQ(m.BaseForm("aurar", WordNetPos::kNoun), "eyir");
  EXPECT_EQ(m.BaseForm("involucra", WordNetPos::kNoun), "involucrum");
  EXPECT_EQ(m.BaseForm("", WordNetPos::kNoun), std::nullopt);
  EXPECT_EQ(m.BaseForm(std::string(255 - 4, '_') + "dogs", WordNetPos::kNoun),
            std::string(255 - 4, '_') + "dog");
  EXPECT_EQ(m.BaseForm(std::string(256 - 4, '_') + "dogs", WordNetPos::kNoun), std::nullopt);
  EXPECT_GT(m.MemoryBytes(), 1000000u);
}

// Where libwordnet overruns a 256-byte buffer and aborts the process ("bok" is "boschbok" in
// noun.exc, so this collocation's base form would be 256 characters long; "pasquil" is
// "pasquinade" in verb.exc), BaseForm answers nullopt. Not compared with morphstr, which would
// end the test.
TEST_F(WordNetMorphologyTest, NoAnswerWhereLibwordnetWouldAbort) {
  const WordNetMorphology& m = *morphology_;
  EXPECT_EQ(m.BaseForm("bok" + std::string(248, '_'), WordNetPos::kNoun), std::nullopt);
  EXPECT_EQ(m.BaseForm("bok" + std::string(248, '-'), WordNetPos::kVerb), std::nullopt);
  EXPECT_EQ(m.BaseForm("pasquil_to" + std::string(243, '_'), WordNetPos::kVerb), std::nullopt);
}

TEST(WordNetMorphologyLoadTest, UnreadableDictionaryIsUnavailable) {
  auto loaded = WordNetMorphology::Load("/nonexistent/wordnet");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(loaded.error().message.find("/nonexistent"), std::string::npos);
}

TEST(WordNetDictDirTest, FollowsLibwordnetsSearchOrder) {
  EXPECT_EQ(WordNetDictDir("/a", "/b"), "/a");
  EXPECT_EQ(WordNetDictDir(nullptr, "/b"), "/b/dict");
  EXPECT_EQ(WordNetDictDir(nullptr, nullptr), "/usr/share/wordnet");
}

}  // namespace
}  // namespace helios::nl2sql::engine
