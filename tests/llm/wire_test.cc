// The shared provider helpers: shortening and redacting text for messages, JSON mode, URLs.
#include "llm/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace helios::llm::wire {
namespace {

TEST(WireTest, ShortenCollapsesSpaceAndCutsOnACharacterBoundary) {
  EXPECT_EQ(Shorten("  a \n\n b\t c  "), "a b c");
  EXPECT_EQ(Shorten("abcdef", 4), "abcd...");
  // "é" is two bytes: cutting after 5 bytes would split it.
  EXPECT_EQ(Shorten("abcdé", 5), "abcd...");
  EXPECT_EQ(Shorten("", 10), "");
}

TEST(WireTest, RedactReplacesEveryOccurrence) {
  EXPECT_EQ(Redact("key sk-1 and sk-1 again", "sk-1"), "key [redacted] and [redacted] again");
  EXPECT_EQ(Redact("nothing here", ""), "nothing here");
}

// Providers refusing a key often show part of it; that part is the secret too.
TEST(WireTest, RedactRemovesThePartsOfAKeyAProviderShows) {
  const std::string key = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34";
  for (const std::string shown :
       {"sk-proj-****Mn34", "sk-proj-Ab12****************Mn34", "sk-pro...Mn34", "sk-p*****Mn34",
        "Ab12Cd34Ef56", "sk-proj-Ab12Cd34"}) {
    const std::string message = "Incorrect API key provided: " + shown + ". See your account.";
    const std::string redacted = Redact(message, key);
    EXPECT_EQ(redacted, "Incorrect API key provided: [redacted]. See your account.") << shown;
  }
  EXPECT_EQ(Redact(R"({"error":"bad key 'sk-proj-Ab12***Mn34'"})", key),
            R"({"error":"bad key '[redacted]'"})");
  // Words that share nothing of it, or too little, are kept.
  EXPECT_EQ(Redact("Rate limit reached for gpt-4o... Try again in 20s.", key),
            "Rate limit reached for gpt-4o... Try again in 20s.");
  EXPECT_EQ(Redact("model sk-2 at https://api.example.com/v1", key),
            "model sk-2 at https://api.example.com/v1");
  // A long error page: the whole key is replaced wherever it is, and the text is kept whole.
  std::string page = "Incorrect API key provided: sk-proj-****Mn34. ";
  while (page.size() < (1u << 20)) page += "<p>upstream gateway said no</p> ";
  page += key + " at the end";
  const std::string redacted_page = Redact(page, key);
  EXPECT_TRUE(redacted_page.starts_with("Incorrect API key provided: [redacted]. <p>"));
  EXPECT_TRUE(redacted_page.ends_with("</p> [redacted] at the end"));
  EXPECT_EQ(redacted_page.find("Mn34"), std::string::npos);
  EXPECT_EQ(redacted_page.size(), page.size() - key.size() -
                                      std::string("sk-proj-****Mn34").size() +
                                      2 * std::string("[redacted]").size());
  // A short secret is matched whole only.
  EXPECT_EQ(Redact("key abc1**** and abc12345", "abc12345"), "key abc1**** and [redacted]");
}

TEST(WireTest, JsonModeNeedsTheWordJsonInThePrompt) {
  CompletionRequest request;
  request.messages = {{Role::kSystem, "Answer in SQL."}, {Role::kUser, "How many?"}};
  EXPECT_FALSE(WantsJsonMode(request));
  request.messages[0].content = "Answer with a JSON object.";
  EXPECT_TRUE(WantsJsonMode(request));
  request.json_object = false;
  EXPECT_FALSE(WantsJsonMode(request));
}

TEST(WireTest, HttpUrls) {
  EXPECT_TRUE(IsHttpUrl("http://localhost:11434"));
  EXPECT_TRUE(IsHttpUrl("HTTPS://api.example.com/v1"));
  EXPECT_FALSE(IsHttpUrl("http://"));
  EXPECT_FALSE(IsHttpUrl("http:///path"));
  EXPECT_FALSE(IsHttpUrl("api.example.com"));
  EXPECT_FALSE(IsHttpUrl("http://exa mple.com"));
  EXPECT_EQ(UrlHost("https://user:pw@api.example.com:8443/v1?x=1"), "api.example.com:8443");
}

TEST(WireTest, JsonReadingNeverThrows) {
  EXPECT_FALSE(ParseJson("{\"a\": ").has_value());
  EXPECT_FALSE(ParseJson("\xff").has_value());
  const auto parsed = ParseJson(R"({"n": 3.6, "s": "x", "o": {}, "a": [], "big": 1e300})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(Int(*parsed, "n"), 4);
  EXPECT_EQ(Int(*parsed, "s"), std::nullopt);
  EXPECT_EQ(Int(*parsed, "big"), std::numeric_limits<int>::max());
  EXPECT_EQ(String(*parsed, "s"), "x");
  EXPECT_EQ(String(*parsed, "n"), "");
  EXPECT_NE(Object(*parsed, "o"), nullptr);
  EXPECT_EQ(Object(*parsed, "a"), nullptr);
  EXPECT_NE(Array(*parsed, "a"), nullptr);
  EXPECT_EQ(String(nlohmann::json::array(), "s"), "");
}

TEST(WireTest, DumpReplacesInvalidUtf8) {
  nlohmann::json body = {{"content", std::string("bad \xff byte")}};
  EXPECT_NO_THROW({ EXPECT_THAT(Dump(body), ::testing::HasSubstr("bad ")); });
}

}  // namespace
}  // namespace helios::llm::wire
