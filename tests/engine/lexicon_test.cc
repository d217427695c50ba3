#include "nl2sql/engine/lexicon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

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
