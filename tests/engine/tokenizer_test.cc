#include "nl2sql/engine/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nl2sql/engine/lexicon.h"

namespace helios::nl2sql::engine {
namespace {

using Kind = Token::Kind;

std::vector<std::string> Texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}

// The single number token of a question that holds only a number.
Token OnlyToken(std::string_view question) {
  auto tokens = Tokenize(question);
  EXPECT_EQ(tokens.size(), 1u) << "question: " << question;
  return tokens.empty() ? Token{} : tokens[0];
}

TEST(TokenizerTest, EmptyAndBlankQuestionsHaveNoTokens) {
  EXPECT_TRUE(Tokenize("").empty());
  EXPECT_TRUE(Tokenize("   \t\n ").empty());
  EXPECT_EQ(Tokenize("?!,.;:").size(), 1u);  // "!" is a comparison symbol, the rest separate
}

TEST(TokenizerTest, WordsAreLowercasedAndKeepWhatWasTyped) {
  auto t = Tokenize("Show me the Customers in GERMANY");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(Texts(t),
            (std::vector<std::string>{"show", "me", "the", "customers", "in", "germany"}));
  EXPECT_EQ(t[0].raw, "Show");
  EXPECT_EQ(t[3].raw, "Customers");
  EXPECT_EQ(t[5].raw, "GERMANY");
  for (const auto& tok : t) EXPECT_EQ(tok.kind, Kind::kWord) << tok.raw;
  EXPECT_FALSE(t[0].used);
}

TEST(TokenizerTest, ALetterNamedAsSuchIsAQuotedText) {
  auto tokens = Tokenize("names with the letter M in them");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[4].kind, Kind::kQuoted);
  EXPECT_EQ(tokens[4].text, "M");
  // Only a single letter right after "letter"; other words stay words.
  for (std::string_view q : {"the letter grade of each student", "a letter to me", "letters a"}) {
    for (const auto& t : Tokenize(q)) EXPECT_EQ(t.kind, Kind::kWord) << q << ": " << t.text;
  }
}

TEST(TokenizerTest, AnEmailAddressIsOneQuotedText) {
  auto t = Tokenize("the id of the candidate whose email is ann.lee-9@mail.example.org.");
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[8].kind, Kind::kQuoted);
  EXPECT_EQ(t[8].text, "ann.lee-9@mail.example.org");
  t = Tokenize("email (bo@x.io) or not");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1].kind, Kind::kQuoted);
  EXPECT_EQ(t[1].text, "bo@x.io");
  // Not addresses: no dot after the "@", no letters after the last dot, no local part.
  for (std::string_view q : {"ann@localhost", "ann@example.123", "@example.org", "a@.org"}) {
    for (const auto& tok : Tokenize(q)) EXPECT_NE(tok.kind, Kind::kQuoted) << q << ": " << tok.text;
  }
}

TEST(TokenizerTest, ContractionsOfNotAreTwoWords) {
  EXPECT_EQ(Texts(Tokenize("storms which don't have")),
            (std::vector<std::string>{"storms", "which", "do", "not", "have"}));
  EXPECT_EQ(Texts(Tokenize("who DIDN'T enroll, can't, won't")),
            (std::vector<std::string>{"who", "did", "not", "enroll", "can", "not", "will", "not"}));
  EXPECT_EQ(Texts(Tokenize("it doesn\u2019t")), (std::vector<std::string>{"it", "does", "not"}));
  // Not a contraction: a possessive, and a quoted word.
  EXPECT_EQ(Texts(Tokenize("the customer's orders")),
            (std::vector<std::string>{"the", "customer", "orders"}));
}

TEST(TokenizerTest, CapitalisationIsFlaggedFromTheFirstLetter) {
  auto t = Tokenize("orders from Berlin and london or ÜBER");
  ASSERT_EQ(t.size(), 7u);
  EXPECT_FALSE(t[0].capitalized);
  EXPECT_TRUE(t[2].capitalized);   // Berlin
  EXPECT_FALSE(t[4].capitalized);  // london
  EXPECT_FALSE(t[6].capitalized);  // a non-ASCII capital is not recognised: no crash, no flag
}

TEST(TokenizerTest, WordsCarryTheirMatchingKey) {
  auto t = Tokenize("customers customer Categories");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_FALSE(t[0].key.empty());
  EXPECT_EQ(t[0].key, t[1].key);
  EXPECT_EQ(t[0].key, Key("customer"));
  EXPECT_EQ(t[2].key, Key("category"));
  EXPECT_NE(t[0].key, t[2].key);
}

TEST(TokenizerTest, PlainIntegersAndDecimals) {
  Token n = OnlyToken("42");
  EXPECT_EQ(n.kind, Kind::kNumber);
  EXPECT_EQ(n.number, 42);
  EXPECT_TRUE(n.integer);
  EXPECT_EQ(n.raw, "42");

  Token d = OnlyToken("2.5");
  EXPECT_EQ(d.kind, Kind::kNumber);
  EXPECT_DOUBLE_EQ(d.number, 2.5);
  EXPECT_FALSE(d.integer);

  Token lead = OnlyToken(".5");
  EXPECT_DOUBLE_EQ(lead.number, 0.5);
  EXPECT_FALSE(lead.integer);

  // A trailing full stop ends the sentence; it is no decimal point.
  auto t = Tokenize("more than 10.");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[2].number, 10);
  EXPECT_TRUE(t[2].integer);
}

TEST(TokenizerTest, ThousandsSeparatorsCurrencyAndSuffixes) {
  Token thousand = OnlyToken("1,000");
  EXPECT_EQ(thousand.number, 1000);
  EXPECT_TRUE(thousand.integer);
  EXPECT_EQ(thousand.raw, "1,000");

  EXPECT_EQ(OnlyToken("1,000,000").number, 1000000);

  Token dollars = OnlyToken("$20");
  EXPECT_EQ(dollars.kind, Kind::kNumber);
  EXPECT_EQ(dollars.number, 20);
  EXPECT_EQ(dollars.raw, "$20");

  Token cents = OnlyToken("$1,000.50");
  EXPECT_DOUBLE_EQ(cents.number, 1000.5);
  EXPECT_FALSE(cents.integer);

  Token k = OnlyToken("5k");
  EXPECT_EQ(k.number, 5000);
  EXPECT_TRUE(k.integer);
  EXPECT_EQ(OnlyToken("5K").number, 5000);
  EXPECT_EQ(OnlyToken("2m").number, 2000000);
  EXPECT_EQ(OnlyToken("20%").number, 20);
}

TEST(TokenizerTest, CommaNotFollowedByThreeDigitsSeparatesNumbers) {
  auto t = Tokenize("in 2024, 5 customers");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1].number, 2024);
  EXPECT_EQ(t[2].number, 5);

  auto two = Tokenize("1,2345");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].number, 1);
  EXPECT_EQ(two[1].number, 2345);
}

TEST(TokenizerTest, OrdinalsAndGluedUnitsReadAsTheNumber) {
  Token third = OnlyToken("3rd");
  EXPECT_EQ(third.kind, Kind::kNumber);
  EXPECT_EQ(third.number, 3);
  EXPECT_EQ(third.raw, "3rd");
  EXPECT_EQ(OnlyToken("21st").number, 21);
  // "k" glued to more letters is no thousands suffix.
  Token kg = OnlyToken("5kg");
  EXPECT_EQ(kg.number, 5);
  EXPECT_EQ(kg.raw, "5kg");
}

TEST(TokenizerTest, AlphanumericWordsStartingWithADigitStayWhole) {
  auto t = Tokenize("1Q84");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].raw, "1Q84");
  auto u = Tokenize("price of 4x4 cars");
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u[2].raw, "4x4");
}

TEST(TokenizerTest, NumberWords) {
  Token five = OnlyToken("five");
  EXPECT_EQ(five.kind, Kind::kNumber);
  EXPECT_EQ(five.number, 5);
  EXPECT_TRUE(five.integer);
  EXPECT_EQ(five.raw, "five");
  EXPECT_TRUE(five.key.empty());

  EXPECT_EQ(OnlyToken("Twenty").number, 20);
  EXPECT_EQ(OnlyToken("dozen").number, 12);

  Token two_hundred = OnlyToken("two hundred");
  EXPECT_EQ(two_hundred.number, 200);
  EXPECT_EQ(two_hundred.raw, "two hundred");

  EXPECT_EQ(OnlyToken("five thousand").number, 5000);
  EXPECT_EQ(OnlyToken("three million").number, 3000000);

  // "zero hundred" is not folded (the multiplier needs a positive number before it).
  auto zero = Tokenize("zero hundred");
  ASSERT_EQ(zero.size(), 2u);
  EXPECT_EQ(zero[0].number, 0);
  EXPECT_EQ(zero[1].number, 100);

  // A number word after a word stays on its own.
  auto top = Tokenize("top ten products");
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[1].kind, Kind::kNumber);
  EXPECT_EQ(top[1].number, 10);
  EXPECT_EQ(top[2].kind, Kind::kWord);
}

TEST(TokenizerTest, IsoDates) {
  auto t = Tokenize("orders on 2024-03-01 please");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[2].kind, Kind::kDate);
  EXPECT_EQ(t[2].text, "2024-03-01");
  EXPECT_EQ(t[2].raw, "2024-03-01");
  // The tokenizer does not validate the calendar: that is the date parser's job.
  Token bad = OnlyToken("2023-02-30");
  EXPECT_EQ(bad.kind, Kind::kDate);
  // A fifth digit means it is not a date.
  auto longer = Tokenize("2024-03-011");
  ASSERT_FALSE(longer.empty());
  EXPECT_NE(longer[0].kind, Kind::kDate);
}

TEST(TokenizerTest, DateShapedTextWithLettersIsNotADate) {
  auto t = Tokenize("1abc-03-04");
  for (const auto& tok : t) EXPECT_NE(tok.kind, Kind::kDate) << tok.raw;
  auto u = Tokenize("2024-0x-01");
  for (const auto& tok : u) EXPECT_NE(tok.kind, Kind::kDate) << tok.raw;
}

TEST(TokenizerTest, QuotedStrings) {
  auto single = Tokenize("books titled 'War and Peace' now");
  ASSERT_EQ(single.size(), 4u);
  EXPECT_EQ(single[2].kind, Kind::kQuoted);
  EXPECT_EQ(single[2].text, "War and Peace");  // as typed, not lowercased
  EXPECT_EQ(single[2].raw, "'War and Peace'");
  EXPECT_EQ(single[3].text, "now");

  auto dbl = Tokenize("name is \"O'Brien & Sons\"");
  ASSERT_EQ(dbl.size(), 3u);
  EXPECT_EQ(dbl[2].kind, Kind::kQuoted);
  EXPECT_EQ(dbl[2].text, "O'Brien & Sons");

  auto curly = Tokenize("title \xE2\x80\x9CThe Idiot\xE2\x80\x9D");
  ASSERT_EQ(curly.size(), 2u);
  EXPECT_EQ(curly[1].kind, Kind::kQuoted);
  EXPECT_EQ(curly[1].text, "The Idiot");
  EXPECT_EQ(curly[1].raw, "\xE2\x80\x9CThe Idiot\xE2\x80\x9D");

  // Typographic single quotes quote as ASCII ones do; one inside a word is an apostrophe.
  auto single_curly =
      Tokenize("names containing \xE2\x80\x98Swift\xE2\x80\x99 or the customer\xE2\x80\x99s");
  ASSERT_EQ(single_curly.size(), 6u);
  EXPECT_EQ(single_curly[2].kind, Kind::kQuoted);
  EXPECT_EQ(single_curly[2].text, "Swift");
  EXPECT_EQ(single_curly[5].text, "customer");
}

TEST(TokenizerTest, UnclosedAndEmptyQuotesAreDropped) {
  auto open = Tokenize("name 'Bob");
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[1].kind, Kind::kWord);
  EXPECT_EQ(open[1].text, "bob");

  auto empty = Tokenize("name '' here");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].text, "name");
  EXPECT_EQ(empty[1].text, "here");
}

TEST(TokenizerTest, PossessivesLoseTheirApostrophe) {
  auto t = Tokenize("the customer's orders");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].text, "customer");
  EXPECT_EQ(t[1].kind, Kind::kWord);
  EXPECT_EQ(t[2].text, "orders");

  auto plural = Tokenize("customers' emails");
  ASSERT_EQ(plural.size(), 2u);
  EXPECT_EQ(plural[0].text, "customers");
  EXPECT_EQ(plural[1].text, "emails");

  auto upper = Tokenize("BOB'S books");
  ASSERT_EQ(upper.size(), 2u);
  EXPECT_EQ(upper[0].text, "bob");
}

TEST(TokenizerTest, EMailIsOneWord) {
  auto t = Tokenize("customer e-mail addresses");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].text, "email");
  EXPECT_EQ(t[1].kind, Kind::kWord);
  EXPECT_EQ(Tokenize("E-mail")[0].text, "email");
  // Other hyphenated words split at the hyphen.
  EXPECT_EQ(Texts(Tokenize("year-over-year")), (std::vector<std::string>{"year", "over", "year"}));
}

TEST(TokenizerTest, ComparisonSymbols) {
  auto t = Tokenize("price >= 10 and qty <> 3 and x != 4 and y <= 2 and z > 1 and w < 0 and v = 5");
  std::vector<std::string> symbols;
  for (const auto& tok : t)
    if (tok.kind == Kind::kSymbol) symbols.push_back(tok.text);
  EXPECT_EQ(symbols, (std::vector<std::string>{">=", "<>", "!=", "<=", ">", "<", "="}));

  auto glued = Tokenize("price>=10");
  ASSERT_EQ(glued.size(), 3u);
  EXPECT_EQ(glued[0].text, "price");
  EXPECT_EQ(glued[1].kind, Kind::kSymbol);
  EXPECT_EQ(glued[1].text, ">=");
  EXPECT_EQ(glued[2].number, 10);
}

TEST(TokenizerTest, UnicodeTextPassesThrough) {
  auto t = Tokenize("clients à Zürich");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].text, "à");
  EXPECT_EQ(t[2].text, "zürich");  // ASCII letters lowercased, the rest untouched
  EXPECT_EQ(t[2].raw, "Zürich");

  auto cjk = Tokenize("東京の顧客は何人？");
  ASSERT_EQ(cjk.size(), 1u);
  EXPECT_EQ(cjk[0].kind, Kind::kWord);
  EXPECT_EQ(cjk[0].text, "東京の顧客は何人？");

  auto emoji = Tokenize("top 5 \xF0\x9F\x93\x9A books");
  ASSERT_EQ(emoji.size(), 4u);
  EXPECT_EQ(emoji[1].number, 5);
  EXPECT_EQ(emoji[3].text, "books");
}

TEST(TokenizerTest, MalformedUtf8AndControlBytesDoNotCrash) {
  const std::string inputs[] = {
      std::string("\xFF\xFE\xFD"),
      std::string("abc\x80"),
      std::string("\xE2\x80"),          // a truncated typographic quote
      std::string("\xE2\x80\x9Copen"),  // an opening quote never closed
      std::string("a\0b", 3),
      std::string("$"),
      std::string("'"),
      std::string("\""),
      std::string("1,"),
      std::string("e-"),
      std::string("2024-"),
  };
  for (const auto& in : inputs) {
    auto t = Tokenize(in);
    for (const auto& tok : t) EXPECT_FALSE(tok.raw.empty()) << "input of " << in.size() << " bytes";
  }
  auto truncated = Tokenize("\xE2\x80\x9Copen");
  ASSERT_EQ(truncated.size(), 1u);
  EXPECT_EQ(truncated[0].kind, Kind::kWord);
}

}  // namespace
}  // namespace helios::nl2sql::engine
