#include "server/api_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "server/http_status.h"
#include "server/query_request.h"

namespace helios::server {
namespace {

using nlohmann::json;

TEST(HttpStatusForTest, EveryCodeHasItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotUnderstood), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnsafeSql), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kDatabaseError), 502);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
}

TEST(Base64EncodeTest, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\x00\xff\x10", 3)), "AP8Q");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

nl2sql::Answer SampleAnswer() {
  nl2sql::Answer answer;
  answer.session_id = "s-1";
  answer.turn = 2;
  answer.sql = "SELECT name, COUNT(*) FROM customers GROUP BY name";
  answer.explanation = "Counts customers by name.";
  answer.columns = {"name", "count", "avg", "missing", "blob", "big"};
  answer.rows = {
      {std::string("Alice"), int64_t{42}, 2.5, std::monostate{}, db::Blob{{0x00, 0xff, 0x10}},
       int64_t{9'007'199'254'740'993}},
      {std::string("B\"ob\n"), int64_t{-1}, std::nan(""), std::string("x"), db::Blob{},
       std::numeric_limits<double>::infinity()},
  };
  answer.row_count = 2;
  answer.truncated = true;
  answer.source = "engine";
  answer.confidence = 0.875;
  answer.cache_hit = true;
  answer.cached_question = "names of customers";
  answer.latency_ms = 12.5;
  answer.chart.type = "bar";
  answer.chart.x = "name";
  answer.chart.y = {"count"};
  answer.chart.spec = R"({"mark":"bar","data":{"values":[{"name":"Alice","count":42}]}})";
  answer.chart.note = "Top 20 of 57";
  answer.suggestions = {"top 5 instead", "only in Germany"};
  return answer;
}

TEST(AnswerToJsonTest, ShapeAndKeyOrder) {
  std::string text = AnswerToJson(SampleAnswer());
  json body = json::parse(text);
  std::vector<std::string> keys;
  for (auto it = body.begin(); it != body.end(); ++it) keys.push_back(it.key());
  // nlohmann::json sorts keys, so check the written order on the raw text instead.
  size_t last = 0;
  for (std::string key : {"session_id", "turn", "sql", "explanation", "columns", "rows",
                          "row_count", "truncated", "source", "confidence", "correction_rounds",
                          "cache_hit", "cached_question", "latency_ms", "chart", "suggestions"}) {
    size_t at = text.find("\"" + key + "\":");
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at, last) << key << " out of order";
    last = at;
  }
  EXPECT_EQ(keys.size(), 16u);
  EXPECT_EQ(body["session_id"], "s-1");
  EXPECT_EQ(body["turn"], 2);
  EXPECT_EQ(body["sql"], "SELECT name, COUNT(*) FROM customers GROUP BY name");
  EXPECT_EQ(body["explanation"], "Counts customers by name.");
  EXPECT_EQ(body["columns"], json({"name", "count", "avg", "missing", "blob", "big"}));
  EXPECT_EQ(body["row_count"], 2);
  EXPECT_EQ(body["truncated"], true);
  EXPECT_EQ(body["source"], "engine");
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), 0.875);
  EXPECT_EQ(body["cache_hit"], true);
  EXPECT_EQ(body["cached_question"], "names of customers");
  EXPECT_DOUBLE_EQ(body["latency_ms"].get<double>(), 12.5);
  // The spec is an object in the answer, not a string holding JSON.
  EXPECT_EQ(body["chart"],
            json({{"type", "bar"},
                  {"x", "name"},
                  {"y", {"count"}},
                  {"spec",
                   {{"mark", "bar"}, {"data", {{"values", {{{"name", "Alice"}, {"count", 42}}}}}}}},
                  {"note", "Top 20 of 57"}}));
  EXPECT_EQ(body["suggestions"], json({"top 5 instead", "only in Germany"}));
}

TEST(AnswerToJsonTest, NoSpecIsNullAndABrokenSpecIsNotSent) {
  nl2sql::Answer answer = SampleAnswer();
  answer.chart.spec.clear();
  EXPECT_TRUE(json::parse(AnswerToJson(answer))["chart"]["spec"].is_null());
  answer.chart.spec = "{\"mark\": ";
  json body = json::parse(AnswerToJson(answer));
  EXPECT_TRUE(body["chart"]["spec"].is_null());
  EXPECT_EQ(body["rows"].size(), 2u) << "the answer itself is still whole";
  // Not an object, trailing text, or bytes that are not UTF-8: no spec either, and the body
  // stays valid JSON.
  for (const std::string bad : {"[1, 2]", "{} {}", "{\"mark\": \"b\xff\"}", "  {}"}) {
    answer.chart.spec = bad;
    answer.chart.note = "a \"quoted\" note\n";
    json parsed = json::parse(AnswerToJson(answer), nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << bad;
    EXPECT_TRUE(parsed["chart"]["spec"].is_null()) << bad;
    EXPECT_EQ(parsed["chart"]["note"], "a \"quoted\" note\n");
  }
}

TEST(AnswerToJsonTest, MembersKeepTheirOrder) {
  const std::string body = AnswerToJson(SampleAnswer());
  std::vector<size_t> at;
  for (const char* key : {"\"session_id\"", "\"rows\"", "\"latency_ms\"", "\"chart\"", "\"spec\"",
                          "\"note\"", "\"suggestions\""}) {
    at.push_back(body.find(key));
    ASSERT_NE(at.back(), std::string::npos) << key;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << body;
  EXPECT_EQ(body.back(), '}');
}

TEST(AnswerToJsonTest, TheCachedQuestionAppearsOnlyOnAHit) {
  nl2sql::Answer miss = SampleAnswer();
  miss.cache_hit = false;
  json body = json::parse(AnswerToJson(miss));
  EXPECT_FALSE(body.contains("cached_question"));
  EXPECT_EQ(body["cache_hit"], false);
}

TEST(AnswerToJsonTest, CellsKeepTheirTypes) {
  json rows = json::parse(AnswerToJson(SampleAnswer()))["rows"];
  ASSERT_EQ(rows.size(), 2u);
  const json& first = rows[0];
  EXPECT_EQ(first[0], "Alice");
  ASSERT_TRUE(first[1].is_number_integer());
  EXPECT_EQ(first[1].get<int64_t>(), 42);
  ASSERT_TRUE(first[2].is_number_float());
  EXPECT_DOUBLE_EQ(first[2].get<double>(), 2.5);
  EXPECT_TRUE(first[3].is_null());
  EXPECT_EQ(first[4], "AP8Q");
  // Integers beyond 2^53 are written exactly, not through a double.
  EXPECT_EQ(first[5].get<int64_t>(), 9'007'199'254'740'993);
  const json& second = rows[1];
  EXPECT_EQ(second[0], "B\"ob\n");
  EXPECT_EQ(second[1].get<int64_t>(), -1);
  EXPECT_TRUE(second[2].is_null()) << "NaN must become null";
  EXPECT_EQ(second[4], "");
  EXPECT_TRUE(second[5].is_null()) << "infinity must become null";
}

TEST(AnswerToJsonTest, InvalidUtf8IsReplacedNotThrown) {
  nl2sql::Answer answer;
  answer.columns = {"c\xff"};
  answer.rows = {{std::string("caf\xC3")}};
  json body = json::parse(AnswerToJson(answer));
  EXPECT_EQ(body["columns"][0], "c\xEF\xBF\xBD");
  EXPECT_EQ(body["rows"][0][0], "caf\xEF\xBF\xBD");
  EXPECT_EQ(body["rows"].size(), 1u);
  EXPECT_EQ(body["chart"]["x"], "");
  EXPECT_EQ(body["chart"]["y"], json::array());
  EXPECT_EQ(body["suggestions"], json::array());
}

TEST(ErrorToJsonTest, Envelope) {
  json body = json::parse(ErrorToJson(Error(ErrorCode::kNotUnderstood, "what \"is\" that?")));
  EXPECT_EQ(body,
            json({{"error", {{"code", "not_understood"}, {"message", "what \"is\" that?"}}}}));
  EXPECT_EQ(ErrorBodyToJson("method_not_allowed", "no"),
            R"({"error":{"code":"method_not_allowed","message":"no"}})");
}

TEST(ErrorToJsonTest, DetailsFollowTheMessageInOrder) {
  Error error(ErrorCode::kNotUnderstood, "not sure");
  error.details = {{"recognised", {"table orders"}}, {"unknown_words", {}}, {"tables", {"a", "b"}}};
  EXPECT_EQ(ErrorToJson(error),
            R"({"error":{"code":"not_understood","message":"not sure","details":)"
            R"({"recognised":["table orders"],"unknown_words":[],"tables":["a","b"]}}})");
}

TEST(HealthToJsonTest, OkAndDegraded) {
  nl2sql::HealthReport ok;
  ok.ok = true;
  ok.dependencies = {{"database", true, "sqlite demo", 1.25}};
  EXPECT_EQ(HealthToJson(ok, "1.2.3", 90),
            R"({"status":"ok","version":"1.2.3","uptime_seconds":90,"dependencies":)"
            R"({"database":{"status":"ok","detail":"sqlite demo","latency_ms":1.25}}})");
  nl2sql::HealthReport down;
  down.dependencies = {{"database", false, "connection refused", 0}};
  json body = json::parse(HealthToJson(down, "v", 0));
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["dependencies"]["database"]["status"], "down");
  EXPECT_EQ(body["dependencies"]["database"]["detail"], "connection refused");
  nl2sql::HealthReport none;
  EXPECT_EQ(json::parse(HealthToJson(none, "v", 0))["dependencies"], json::object());
}

// ParseQueryRequest

Error ParseError(std::string_view body, size_t max = 100) {
  auto parsed = ParseQueryRequest(body, max);
  EXPECT_FALSE(parsed.has_value()) << body;
  return parsed ? Error() : parsed.error();
}

bool Mentions(const Error& error, std::string_view text) {
  return error.message.find(text) != std::string::npos;
}

TEST(ParseQueryRequestTest, AcceptsAFullRequest) {
  auto parsed = ParseQueryRequest(
      R"({"session_id":"abc-1.2:3_X","query":"how many customers?","database":"demo","extra":1})",
      100);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->session_id, "abc-1.2:3_X");
  EXPECT_EQ(parsed->query, "how many customers?");
  EXPECT_EQ(parsed->database, "demo");
}

TEST(ParseQueryRequestTest, OptionalFieldsMayBeAbsentNullOrEmpty) {
  for (std::string_view body :
       {R"({"query":"q"})", R"({"query":"q","session_id":null,"database":null})",
        R"({"query":"q","session_id":"","database":""})"}) {
    auto parsed = ParseQueryRequest(body, 100);
    ASSERT_TRUE(parsed.has_value()) << body << ": " << parsed.error().message;
    EXPECT_EQ(parsed->session_id, "");
    EXPECT_EQ(parsed->database, "");
  }
}

TEST(ParseQueryRequestTest, RejectsMalformedJsonAndNonObjects) {
  for (std::string_view body : {"", "{", "{not json}", R"({"query":"q",})", "nul"}) {
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument) << body;
    EXPECT_TRUE(Mentions(error, "not valid JSON")) << body << ": " << error.message;
  }
  for (std::string_view body : {"[]", R"(["query"])", R"("query")", "42", "null"}) {
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument) << body;
    EXPECT_TRUE(Mentions(error, "must be a JSON object")) << body << ": " << error.message;
  }
}

TEST(ParseQueryRequestTest, DeeplyNestedJsonIsRejectedNotACrash) {
  std::string deep(200'000, '[');
  deep += std::string(200'000, ']');
  EXPECT_EQ(ParseError(deep).code, ErrorCode::kInvalidArgument);
  std::string deep_object =
      R"({"query":"q","x":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_TRUE(ParseQueryRequest(deep_object, 100).has_value());
}

TEST(ParseQueryRequestTest, QueryIsRequiredAndMustBeANonBlankString) {
  Error missing = ParseError(R"({"session_id":"s"})");
  EXPECT_EQ(missing.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.message, "field 'query' is required");
  EXPECT_EQ(ParseError(R"({"query":null})").message, "field 'query' is required");
  for (std::string_view body :
       {R"({"query":42})", R"({"query":["q"]})", R"({"query":{}})", R"({"query":true})"}) {
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.message, "field 'query' must be a string") << body;
  }
  for (std::string_view body : {R"({"query":""})", R"({"query":"  \t\n "})"}) {
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.message, "field 'query' must not be empty") << body;
  }
}

TEST(ParseQueryRequestTest, OptionalFieldsOfTheWrongTypeAreNamed) {
  Error session = ParseError(R"({"query":"q","session_id":7})");
  EXPECT_EQ(session.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(session.message, "field 'session_id' must be a string");
  Error database = ParseError(R"({"query":"q","database":["a"]})");
  EXPECT_EQ(database.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(database.message, "field 'database' must be a string");
}

TEST(ParseQueryRequestTest, SessionIdMustLookLikeAnId) {
  for (std::string_view bad : {"a b", "a/b", "x;drop", "caf\\u00e9", "a\\nb"}) {
    std::string body = R"({"query":"q","session_id":")" + std::string(bad) + "\"}";
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(Mentions(error, "field 'session_id'")) << error.message;
  }
  std::string at_limit(128, 'a');
  EXPECT_TRUE(ParseQueryRequest(R"({"query":"q","session_id":")" + at_limit + "\"}", 100));
  Error too_long = ParseError(R"({"query":"q","session_id":")" + at_limit + "a\"}");
  EXPECT_TRUE(Mentions(too_long, "field 'session_id' must be at most 128 characters"));
  Error bad_database = ParseError(R"({"query":"q","database":"../etc"})");
  EXPECT_TRUE(Mentions(bad_database, "field 'database'"));
}

TEST(ParseQueryRequestTest, ControlCharactersOtherThanTabLfCrAreRejected) {
  auto ok = ParseQueryRequest(R"({"query":"line one\nline two\r\n\tindented"})", 100);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->query, "line one\nline two\r\n\tindented");
  struct Case {
    std::string_view body;
    std::string_view code_point;
  };
  for (Case c :
       {Case{R"({"query":"abc\u0000"})", "U+0000"}, Case{R"({"query":"a\u0001"})", "U+0001"},
        Case{R"({"query":"a\u001b[31m"})", "U+001B"}, Case{R"({"query":"a\u007f"})", "U+007F"},
        Case{R"({"query":"\u00e9\u0085"})", "U+0085"}}) {
    Error error = ParseError(c.body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument) << c.body;
    EXPECT_TRUE(Mentions(error, "control character")) << error.message;
    EXPECT_TRUE(Mentions(error, c.code_point)) << error.message;
  }
  Error position = ParseError(R"({"query":"\u00e9ab\u0002"})");
  EXPECT_TRUE(Mentions(position, "at character 4")) << position.message;
  // Raw control bytes inside a JSON string are not valid JSON either way.
  EXPECT_EQ(ParseError(std::string("{\"query\":\"a\x01\"}")).code, ErrorCode::kInvalidArgument);
}

TEST(ParseQueryRequestTest, InvalidUtf8IsRejected) {
  for (std::string_view body : {"{\"query\":\"caf\xC3\"}", "{\"query\":\"\xff\"}",
                                "{\"query\":\"\xED\xA0\x80\"}", "{\"query\":\"\xC0\xAF\"}"}) {
    Error error = ParseError(body);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.message, "the request body is not valid UTF-8");
  }
  // A lone surrogate escape cannot become UTF-8 either.
  EXPECT_EQ(ParseError(R"({"query":"\ud800"})").code, ErrorCode::kInvalidArgument);
}

TEST(ParseQueryRequestTest, LengthIsCountedInCharacters) {
  // Ten characters, twenty bytes.
  std::string ten = "éééééééééé";
  auto at_limit = ParseQueryRequest(R"({"query":")" + ten + "\"}", 10);
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().message;
  Error over = ParseError(R"({"query":")" + ten + "é\"}", 10);
  EXPECT_EQ(over.code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(over.message,
            "field 'query' is too long: 11 characters, the limit is 10 characters (counted as "
            "Unicode characters, not bytes)");
  EXPECT_EQ(CountUtf8Characters("a東京😀"), 4u);
  EXPECT_EQ(CountUtf8Characters(""), 0u);
}

TEST(IsValidIdTest, Rules) {
  EXPECT_TRUE(IsValidId("a"));
  EXPECT_TRUE(IsValidId("3f2c9a1e-1b2c-4d5e-8f90-123456789abc"));
  EXPECT_TRUE(IsValidId("tenant:session.1_A-Z"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId("a\r\nX-Injected: 1"));
  EXPECT_FALSE(IsValidId("é"));
}

}  // namespace
}  // namespace helios::server
