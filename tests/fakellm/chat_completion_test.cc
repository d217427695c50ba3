// The fake model's answer: an OpenAI chat.completion whose content the product's own SQL
// extraction reads back as the configured query, and 400 for bodies a real endpoint refuses.
#include "fakellm/chat_completion.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm/sql_extract.h"

namespace helios::fakellm {
namespace {

using nlohmann::json;

constexpr std::string_view kBody =
    R"({"model":"gpt-test","temperature":0.1,"response_format":{"type":"json_object"},)"
    R"("messages":[{"role":"system","content":"Answer with JSON."},)"
    R"({"role":"user","content":"How are customers spread over countries?"}]})";

TEST(ChatCompletionTest, AnswersWithTheSqlInTheFormThePromptAsksFor) {
  const ChatCompletions completions("SELECT 1 AS \"one\"", "Just one.");
  const ChatReply reply = completions.Answer(kBody, 7, 1'700'000'000);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json answer = json::parse(reply.body);
  EXPECT_EQ(answer["id"], "chatcmpl-fake-7");
  EXPECT_EQ(answer["object"], "chat.completion");
  EXPECT_EQ(answer["created"], 1'700'000'000);
  EXPECT_EQ(answer["model"], "gpt-test");
  ASSERT_EQ(answer["choices"].size(), 1u);
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(answer["choices"][0]["message"]["role"], "assistant");
  const std::string content = answer["choices"][0]["message"]["content"];
  EXPECT_EQ(content, completions.content());

  // Read the way the product reads a model's answer.
  auto sql = llm::ExtractSql(content);
  ASSERT_TRUE(sql.has_value()) << sql.error().message;
  EXPECT_EQ(sql->sql, "SELECT 1 AS \"one\"");
  EXPECT_EQ(sql->explanation, "Just one.");
  EXPECT_GT(answer["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(answer["usage"]["total_tokens"].get<int>(),
            answer["usage"]["prompt_tokens"].get<int>() +
                answer["usage"]["completion_tokens"].get<int>());
}

TEST(ChatCompletionTest, TheDefaultSqlCountsCustomersByCountry) {
  const ChatCompletions completions(kDefaultSql, "Customers per country.");
  auto sql = llm::ExtractSql(completions.content());
  ASSERT_TRUE(sql.has_value());
  EXPECT_EQ(sql->sql, kDefaultSql);
}

TEST(ChatCompletionTest, EscapesTheModelNameItEchoes) {
  const ChatCompletions completions(kDefaultSql, "");
  const ChatReply reply =
      completions.Answer(R"({"model":"a\"b\\c","messages":[{"role":"user","content":"q"}]})", 1, 0);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(json::parse(reply.body)["model"], "a\"b\\c");
}

struct BadBody {
  const char* name;
  const char* body;
  const char* says;
};

class BadBodyTest : public ::testing::TestWithParam<BadBody> {};

TEST_P(BadBodyTest, Gets400WithAnOpenAiStyleError) {
  const ChatCompletions completions(kDefaultSql, "");
  const ChatReply reply = completions.Answer(GetParam().body, 1, 0);
  EXPECT_EQ(reply.status, 400);
  const json error = json::parse(reply.body);
  EXPECT_EQ(error["error"]["type"], "invalid_request_error");
  EXPECT_NE(error["error"]["message"].get<std::string>().find(GetParam().says), std::string::npos)
      << error.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, BadBodyTest,
    ::testing::Values(
        BadBody{"NotJson", "{\"model\": ", "not valid JSON"},
        BadBody{"Empty", "", "not valid JSON"},
        BadBody{"NotAnObject", "[1, 2]", "not a JSON object"},
        BadBody{"NoModel", R"({"messages":[{"role":"user","content":"q"}]})", "'model'"},
        BadBody{"EmptyModel", R"({"model":"","messages":[{"role":"user","content":"q"}]})",
                "'model'"},
        BadBody{"NoMessages", R"({"model":"m"})", "'messages'"},
        BadBody{"MessagesNotArray", R"({"model":"m","messages":"hello"})", "'messages'"},
        BadBody{"NoMessagesInArray", R"({"model":"m","messages":[]})", "'messages'"},
        BadBody{"MessageWithoutContent", R"({"model":"m","messages":[{"role":"user"}]})",
                "messages[0]"},
        BadBody{"MessageNotObject", R"({"model":"m","messages":[{"role":"user","content":"q"},3]})",
                "messages[1]"}),
    [](const ::testing::TestParamInfo<BadBody>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace helios::fakellm
