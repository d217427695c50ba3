#include "nl2sql/engine/lexicon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

// Last: libwordnet's header defines macros (CLASS, NOUN, bit, ...) that would collide with the
// headers above.
#include <wn.h>

namespace helios::nl2sql::engine {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(LemmaTest, PluralNounsBecomeSingular) {
  EXPECT_EQ(Lemma("categories"), "category");
  EXPECT_EQ(Lemma("customers"), "customer");
  EXPECT_EQ(Lemma("boxes"), "box");
  EXPECT_EQ(Lemma("children"), "child");
  EXPECT_EQ(Lemma("salespeople"), "salesperson");
}

TEST(LemmaTest, PeopleBecomesPerson) {
  EXPECT_EQ(Lemma("people"), "person");
  EXPECT_EQ(Key("people"), Key("person"));
}

TEST(LemmaTest, VerbsBecomeTheirBaseForm) {
  EXPECT_EQ(Lemma("sold"), "sell");
  EXPECT_EQ(Lemma("bought"), "buy");
}

TEST(LemmaTest, DictionaryFormsAndUnknownWordsComeBackUnchanged) {
  EXPECT_EQ(Lemma("category"), "category");
  EXPECT_EQ(Lemma("person"), "person");
  EXPECT_EQ(Lemma("xyzzyq"), "xyzzyq");
  EXPECT_EQ(Lemma(""), "");
  EXPECT_EQ(Lemma("is"), "is");  // words shorter than three letters are left alone
}

// Lemma() as it was before WordNet's morphology moved into memory: libwordnet's morphstr(),
// nouns first, then verbs.
std::string LemmaFromLibwordnet(const std::string& w) {
  if (w.size() < 3 || wninit() != 0) return w;
  if (w == "people") return "person";
  auto morph = [&w](int pos) {
    std::string buffer = w;
    const char* base = morphstr(buffer.data(), pos);
    return base ? std::string(base) : std::string();
  };
  std::string base = morph(NOUN);
  if (base.empty()) base = morph(VERB);
  if (base.empty() || base.find('_') != std::string::npos) return w;
  return base;
}

// The words of the golden questions (tests/golden/data), lowercased, and words of database
// questions that WordNet inflects. (Not through the tokenizer: it asks the lexicon for keys,
// and the threads test below wants the lexicon untouched until its threads start.)
std::vector<std::string> QuestionWords() {
  std::vector<std::string> words = {
      "customers", "sold",     "people",    "categories", "bought",    "children", "employees",
      "orders",    "products", "countries", "cities",     "salaries",  "movies",   "students",
      "has",       "was",      "does",      "made",       "placed",    "shipped",  "earned",
      "spent",     "written",  "taught",    "flights",    "airlines",  "wives",    "teeth",
      "analyses",  "criteria", "indices",   "matrices",   "geese",     "mice",     "oxen",
      "running",   "stopped",  "lying",     "dying",      "addresses", "boxes",    "glasses",
      "women",     "salesmen", "cupsful",   "data",       "media",     "series",   "species",
      "news",      "physics",  "average",   "highest",    "earliest",  "abc123s",  "o'neill",
      "e-mails",   "t-shirts", "xyzzyq",    "iphones",    "q3",        "covid-19", "café"};
  for (const char* file : {"questions.json", "conversations.json"}) {
    std::ifstream in(std::string(HELIOS_SOURCE_DIR) + "/tests/golden/data/" + file);
    const nlohmann::json data = nlohmann::json::parse(in);
    std::vector<std::string> questions;
    for (const auto& c : data.contains("cases") ? data["cases"] : nlohmann::json::array()) {
      questions.push_back(c["question"]);
    }
    for (const auto& conversation :
         data.contains("conversations") ? data["conversations"] : nlohmann::json::array()) {
      for (const auto& turn : conversation["turns"]) questions.push_back(turn["question"]);
    }
    for (const std::string& q : questions) {
      std::string word;
      for (char c : q + " ") {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'' || c == '-' || c == '_') {
          word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!word.empty()) {
          words.push_back(word);
          word.clear();
        }
      }
    }
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

TEST(LemmaTest, SameAsLibwordnetForQuestionWords) {
  const std::vector<std::string> words = QuestionWords();
  ASSERT_GT(words.size(), 250u);
  size_t changed = 0;
  for (const std::string& w : words) {
    std::string expected = LemmaFromLibwordnet(w);
    EXPECT_EQ(Lemma(w), expected) << w;
    changed += expected != w;
  }
  EXPECT_GT(changed, 50u);  // the words are not all dictionary forms already
}

// Several threads at once, from the first lookup (the dictionary is read then): every thread
// gets the answers a single thread gets.
TEST(LemmaTest, SameAnswersFromSeveralThreadsAtOnce) {
  const std::vector<std::string> words = QuestionWords();
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&words, &got, t] {
      for (int round = 0; round < 3; ++round) {
        got[t].clear();
        // Each thread walks the words from another place, so they look up different words.
        for (size_t i = 0; i < words.size(); ++i) {
          got[t].push_back(Lemma(words[(i + t * words.size() / 4) % words.size()]));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < got.size(); ++t) {
    ASSERT_EQ(got[t].size(), words.size());
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[(i + t * words.size() / 4) % words.size()];
      EXPECT_EQ(got[t][i], LemmaFromLibwordnet(w)) << "thread " << t << ": " << w;
    }
  }
}

// libwordnet's morphstr() overran a buffer and aborted the process on this word ("bok" is
// "boschbok" in noun.exc, which made the collocation's base form 256 characters long); the
// tokenizer asks for the key of every word of a question.
TEST(LemmaTest, LongCollocationWithAnIrregularWordIsKeptAsItIs) {
  const std::string word = "bok" + std::string(248, '_');
  EXPECT_EQ(Lemma(word), word);
  EXPECT_FALSE(Key(word).empty());
}

TEST(KeyTest, SingularAndPluralAgree) {
  EXPECT_EQ(Key("customers"), Key("customer"));
  EXPECT_EQ(Key("categories"), Key("category"));
  EXPECT_EQ(Key("books"), Key("book"));
  EXPECT_EQ(Key("addresses"), Key("address"));
}

TEST(KeyTest, DifferentWordsDisagree) {
  EXPECT_NE(Key("customer"), Key("product"));
  EXPECT_NE(Key("book"), Key("author"));
  EXPECT_NE(Key("price"), Key("prize"));
  EXPECT_FALSE(Key("customer").empty());
}

TEST(KeyTest, IsDeterministicAcrossThreads) {
  const std::string expected = Key("categories");
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&got, i] {
      for (int k = 0; k < 50; ++k) got[i] = Key("categories");
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

TEST(StopWordTest, StructureWordsAreStopWords) {
  for (const char* w : {"the", "a", "me", "please", "show", "of", "which", "and"})
    EXPECT_TRUE(IsStopWord(w)) << w;
}

TEST(StopWordTest, ContentWordsAreNot) {
  for (const char* w : {"customer", "london", "price", "books", "expensive", "month", ""})
    EXPECT_FALSE(IsStopWord(w)) << w;
  // Matching is exact: callers pass lowercase words.
  EXPECT_FALSE(IsStopWord("The"));
}

TEST(SynonymsTest, CuratedGroups) {
  EXPECT_THAT(Synonyms("amount"), Contains("revenue"));
  EXPECT_THAT(Synonyms("amount"), Contains("sales"));
  EXPECT_THAT(Synonyms("customer"), Contains("client"));
  EXPECT_THAT(Synonyms("city"), Contains("town"));
  EXPECT_THAT(Synonyms("price"), Contains("cost"));
}

TEST(SynonymsTest, NeverIncludeTheWordItself) {
  for (const char* w : {"amount", "customer", "name", "number", "film"})
    EXPECT_THAT(Synonyms(w), Not(Contains(w))) << w;
}

TEST(SynonymsTest, AreSymmetric) {
  for (const char* w :
       {"amount", "customer", "employee", "price", "name", "city", "number", "category", "movie"}) {
    ASSERT_THAT(Synonyms(w), Not(IsEmpty())) << w;
    for (const auto& s : Synonyms(w)) EXPECT_THAT(Synonyms(s), Contains(w)) << w << " <-> " << s;
  }
}

TEST(SynonymsTest, AWordInTwoGroupsHasBoth) {
  // "number" can mean an identifier or a count.
  EXPECT_THAT(Synonyms("number"), Contains("id"));
  EXPECT_THAT(Synonyms("number"), Contains("count"));
}

TEST(SynonymsTest, UnknownWordsHaveNone) {
  EXPECT_THAT(Synonyms("zebra"), IsEmpty());
  EXPECT_THAT(Synonyms(""), IsEmpty());
  EXPECT_THAT(Synonyms("Amount"), IsEmpty());  // lowercase expected
}

TEST(NumberWordTest, UnitsTensAndMultipliers) {
  EXPECT_EQ(NumberWord("zero"), 0);
  EXPECT_EQ(NumberWord("one"), 1);
  EXPECT_EQ(NumberWord("five"), 5);
  EXPECT_EQ(NumberWord("twelve"), 12);
  EXPECT_EQ(NumberWord("twenty"), 20);
  EXPECT_EQ(NumberWord("ninety"), 90);
  EXPECT_EQ(NumberWord("hundred"), 100);
  EXPECT_EQ(NumberWord("thousand"), 1000);
  EXPECT_EQ(NumberWord("million"), 1000000);
  EXPECT_EQ(NumberWord("dozen"), 12);
}

TEST(NumberWordTest, OtherWordsAreNotNumbers) {
  EXPECT_EQ(NumberWord("fivex"), -1);
  EXPECT_EQ(NumberWord("first"), -1);
  EXPECT_EQ(NumberWord("twenty-five"), -1);
  EXPECT_EQ(NumberWord(""), -1);
  EXPECT_EQ(NumberWord("5"), -1);
}

TEST(PertainymsTest, NationalityAdjectivesNameTheirCountry) {
  EXPECT_THAT(Pertainyms("japanese"), Contains("Japan"));
  auto american = Pertainyms("american");
  EXPECT_THAT(american, Not(IsEmpty()));
  // Multi-word nouns come back with spaces, not WordNet's underscores.
  for (const auto& n : american) EXPECT_EQ(n.find('_'), std::string::npos) << n;
}

TEST(PertainymsTest, OtherWordsHaveNone) {
  EXPECT_THAT(Pertainyms("table"), IsEmpty());
  EXPECT_THAT(Pertainyms("customer"), IsEmpty());
  EXPECT_THAT(Pertainyms("xyzzyq"), IsEmpty());
  EXPECT_THAT(Pertainyms("ab"), IsEmpty());
  EXPECT_THAT(Pertainyms(""), IsEmpty());
}

}  // namespace
}  // namespace helios::nl2sql::engine
