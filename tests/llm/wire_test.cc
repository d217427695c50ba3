// The shared provider helpers: shortening and redacting text for messages, JSON mode, URLs.
#include "llm/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

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
  // Any case, in any message, at either end of it; not split or cut short.
  request.json_object = true;
  for (const char* mention : {"json", "Json", "jSoN", "reply as JSON", "JSONL please"}) {
    request.messages = {{Role::kSystem, "rules"}, {Role::kUser, mention}};
    EXPECT_TRUE(WantsJsonMode(request)) << mention;
  }
  for (const char* other : {"", "j", "jso", "js on", "JSO", "nosj", "ＪＳＯＮ"}) {
    request.messages = {{Role::kSystem, "rules"}, {Role::kUser, other}};
    EXPECT_FALSE(WantsJsonMode(request)) << other;
  }
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

// Dump writes request bodies itself (json::Writer); the text must stay what nlohmann::json's
// dump with the replace handler writes, byte for byte.
std::string NlohmannDump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(WireTest, DumpWritesWhatNlohmannWrites) {
  const std::vector<std::string> strings = {"",
                                            "plain",
                                            "quote \" backslash \\ slash /",
                                            "tab\tnewline\ncr\rbell\x07nul" + std::string(1, '\0'),
                                            "\x1f\x7f",
                                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                            "lone \x80 continuation",
                                            "cut \xe2\x82",
                                            "overlong \xc0\xaf",
                                            "surrogate \xed\xa0\x80",
                                            "too high \xf4\x90\x80\x80",
                                            "\xff\xfe",
                                            std::string(5000, 'x') + "\xc3"};
  nlohmann::json body = {
      {"model", "gpt-4o-mini"},
      {"temperature", 0.1},
      {"max_tokens", 500},
      {"stream", false},
      {"stop", nullptr},
      {"response_format", {{"type", "json_object"}}},
      {"empty_object", nlohmann::json::object()},
      {"empty_array", nlohmann::json::array()},
      {"numbers",
       {0, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
        std::numeric_limits<uint64_t>::max(), 0.0, -0.0, 1.0, 0.1, 1e300, 1e-300, 3.0e-10,
        123456789.125, std::nan(""), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}},
  };
  nlohmann::json messages = nlohmann::json::array();
  for (const std::string& s : strings) {
    messages.push_back({{"role", "user"}, {"content", s}});
    body[s] = s;  // as a key too
  }
  body["messages"] = messages;
  EXPECT_EQ(Dump(body), NlohmannDump(body));
  for (const nlohmann::json& scalar : body["numbers"])
    EXPECT_EQ(Dump(scalar), NlohmannDump(scalar));
  for (const std::string& s : strings) EXPECT_EQ(Dump(nlohmann::json(s)), NlohmannDump(s)) << s;

  // Random documents of random bytes (a fixed seed: a failure is repeatable).
  std::mt19937_64 random(20261130);
  auto random_string = [&] {
    std::string s(random() % 24, ' ');
    for (char& c : s) {
      const uint64_t r = random() % 4;
      c = r == 0   ? static_cast<char>(random() % 256)
          : r == 1 ? static_cast<char>(random() % 32)
                   : static_cast<char>('a' + random() % 26);
    }
    return s;
  };
  std::function<nlohmann::json(int)> random_value = [&](int depth) -> nlohmann::json {
    switch (depth > 3 ? random() % 5 : random() % 7) {
      case 0:
        return random_string();
      case 1:
        return static_cast<int64_t>(random());
      case 2:
        return std::ldexp(static_cast<double>(random() % 1000000),
                          static_cast<int>(random() % 200) - 100);
      case 3:
        return random() % 2 == 0;
      case 4:
        return nullptr;
      case 5: {
        nlohmann::json o = nlohmann::json::object();
        for (uint64_t i = random() % 5; i > 0; --i) o[random_string()] = random_value(depth + 1);
        return o;
      }
      default: {
        nlohmann::json a = nlohmann::json::array();
        for (uint64_t i = random() % 5; i > 0; --i) a.push_back(random_value(depth + 1));
        return a;
      }
    }
  };
  for (int i = 0; i < 2000; ++i) {
    const nlohmann::json doc = random_value(0);
    ASSERT_EQ(Dump(doc), NlohmannDump(doc)) << "document " << i;
  }
}

}  // namespace
}  // namespace helios::llm::wire
