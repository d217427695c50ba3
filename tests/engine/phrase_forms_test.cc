// PhraseForms composes a phrase's lookup forms from its words' forms (WordFormsOf), computed
// once per question. These tests hold it to the per-phrase functions it replaces in the tagger:
// NormalizeValueText of each word joined by spaces, LemmatizeValueText of that, and PhraseKey.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/text.h"
#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/schema_index.h"

namespace helios::nl2sql::engine {
namespace {

// A word of a question: as typed, and its lowercase text (empty for a number, which has no key).
struct Word {
  std::string raw;
  std::string lowercase;
};

// The forms as the tagger computed them for each phrase before PhraseForms.
struct Reference {
  std::string value_text, lemmatized, key;
};

Reference ReferenceFor(const std::vector<Word>& phrase) {
  Reference r;
  std::vector<std::string> words;
  for (const Word& w : phrase) {
    if (!r.value_text.empty()) r.value_text += ' ';
    r.value_text += NormalizeValueText(w.raw);
    words.push_back(w.lowercase);
  }
  r.lemmatized = LemmatizeValueText(r.value_text);
  r.key = PhraseKey(words);
  return r;
}

PhraseForms Composed(const std::vector<Word>& phrase) {
  PhraseForms forms;
  for (const Word& w : phrase) forms.Append(WordFormsOf(w.raw, w.lowercase));
  return forms;
}

std::string Describe(const std::vector<Word>& phrase) {
  std::string out;
  for (const Word& w : phrase) out += "[" + w.raw + "]";
  return out;
}

Word W(std::string raw) { return Word{raw, text::ToLower(raw)}; }
Word Number(std::string raw) { return Word{std::move(raw), ""}; }

// Plural nouns, irregular forms, capitals, words that normalise to several parts or to nothing,
// numbers and non-ASCII letters.
const std::vector<Word>& Vocabulary() {
  static const std::vector<Word> kWords = {
      W("Customers"),  W("sales"),    W("people"),  W("sold"), W("categories"), W("O'Brien-Smith"),
      W("&&"),         W("Zürich"),   W("sign"),    W("up"),   W("of"),         W("managers"),
      Number("1,000"), Number("$20"), Number("5th")};
  return kWords;
}

TEST(PhraseFormsTest, EveryPhraseOfUpToFourWordsMatchesThePerPhraseFunctions) {
  const std::vector<Word>& vocabulary = Vocabulary();
  size_t compared = 0;
  std::vector<Word> phrase;
  // Every sequence of 1 to 4 vocabulary words, by counting in base vocabulary.size().
  for (size_t len = 1; len <= 4; ++len) {
    std::vector<size_t> digits(len, 0);
    while (true) {
      phrase.clear();
      for (size_t d : digits) phrase.push_back(vocabulary[d]);
      const Reference want = ReferenceFor(phrase);
      const PhraseForms got = Composed(phrase);
      ASSERT_EQ(got.value_text, want.value_text) << Describe(phrase);
      ASSERT_EQ(got.lemmatized, want.lemmatized) << Describe(phrase);
      bool all_words = true;
      for (const Word& w : phrase) all_words = all_words && !w.lowercase.empty();
      if (all_words) {
        ASSERT_EQ(got.key, want.key) << Describe(phrase);
      }
      ++compared;
      size_t k = 0;
      while (k < len && ++digits[k] == vocabulary.size()) digits[k++] = 0;
      if (k == len) break;
    }
  }
  EXPECT_EQ(compared, 15u + 15u * 15u + 15u * 15u * 15u + 15u * 15u * 15u * 15u);
}

TEST(PhraseFormsTest, WordsThatNormaliseToNothingAddNoLeadingSpace) {
  const PhraseForms forms = Composed({W("&&"), W("Sales"), W("&&"), W("Managers")});
  EXPECT_EQ(forms.value_text, "sales  managers");
  EXPECT_EQ(forms.lemmatized, LemmatizeValueText("sales  managers"));
  EXPECT_EQ(forms.lemmatized, "sale  manager");
}

TEST(PhraseFormsTest, AWordOfSeveralPartsIsLemmatisedPartByPart) {
  const WordForms forms = WordFormsOf("Sales-Managers", "sales-managers");
  EXPECT_EQ(forms.normalized, "sales managers");
  EXPECT_EQ(forms.lemmas, (std::vector<std::string>{"sale", "manager"}));
  EXPECT_EQ(forms.key, Key("sales-managers"));
}

TEST(PhraseFormsTest, ANumberGetsNoKey) {
  const WordForms forms = WordFormsOf("$1,000", "");
  EXPECT_EQ(forms.normalized, "1 000");
  EXPECT_TRUE(forms.key.empty());
}

}  // namespace
}  // namespace helios::nl2sql::engine
