// Request framing of the fake model: complete, partial and pipelined requests, keep-alive, and
// the status each malformed request is answered with.
#include "fakellm/http_request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace helios::fakellm {
namespace {

using State = ParseOutcome::State;

TEST(HttpRequestParserTest, ReadsARequestWithABody) {
  const std::string text =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  const ParseOutcome outcome = ParseRequest(text);
  ASSERT_EQ(outcome.state, State::kComplete) << outcome.error_message;
  EXPECT_EQ(outcome.request.method, "POST");
  EXPECT_EQ(outcome.request.target, "/v1/chat/completions");
  EXPECT_EQ(outcome.request.body, "{\"a\":1}");
  EXPECT_TRUE(outcome.request.keep_alive);
  EXPECT_EQ(outcome.consumed, text.size());
}

TEST(HttpRequestParserTest, WaitsForTheRestOfHeadersAndBody) {
  const std::string text = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
  for (size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_EQ(ParseRequest(text.substr(0, cut)).state, State::kIncomplete) << "cut at " << cut;
  }
  EXPECT_EQ(ParseRequest(text).state, State::kComplete);
}

TEST(HttpRequestParserTest, ConsumesOnlyTheFirstOfPipelinedRequests) {
  const std::string first = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "POST /y HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
  const std::string both = first + second;
  const ParseOutcome outcome = ParseRequest(both);
  ASSERT_EQ(outcome.state, State::kComplete);
  EXPECT_EQ(outcome.request.target, "/health");
  EXPECT_EQ(outcome.request.body, "");
  ASSERT_EQ(outcome.consumed, first.size());
  const ParseOutcome next = ParseRequest(std::string_view(both).substr(outcome.consumed));
  ASSERT_EQ(next.state, State::kComplete);
  EXPECT_EQ(next.request.body, "ok");
}

TEST(HttpRequestParserTest, SkipsEmptyLinesBeforeARequest) {
  const std::string text = "\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const ParseOutcome outcome = ParseRequest(text);
  ASSERT_EQ(outcome.state, State::kComplete);
  EXPECT_EQ(outcome.request.target, "/");
  EXPECT_EQ(outcome.consumed, text.size());
}

TEST(HttpRequestParserTest, KeepAliveFollowsTheVersionAndTheConnectionHeader) {
  EXPECT_TRUE(ParseRequest("GET / HTTP/1.1\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(ParseRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(
      ParseRequest("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(ParseRequest("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(ParseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
}

TEST(HttpRequestParserTest, HeaderNamesAreCaseInsensitive) {
  const ParseOutcome outcome = ParseRequest("POST / HTTP/1.1\r\ncontent-LENGTH:  3 \r\n\r\nabc");
  ASSERT_EQ(outcome.state, State::kComplete);
  EXPECT_EQ(outcome.request.body, "abc");
}

struct Malformed {
  const char* name;
  std::string text;
  int status;
};

class MalformedRequestTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedRequestTest, IsAnsweredWithItsStatus) {
  const ParseOutcome outcome = ParseRequest(GetParam().text, RequestLimits{256, 1024});
  ASSERT_EQ(outcome.state, State::kError);
  EXPECT_EQ(outcome.error_status, GetParam().status);
  EXPECT_FALSE(outcome.error_message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Requests, MalformedRequestTest,
    ::testing::Values(
        Malformed{"NoSpaces", "GARBAGE\r\n\r\n", 400},
        // Judged once the request line ends, before the headers do.
        Malformed{"NonsenseLineAlone", "hello there\r\n", 400},
        Malformed{"NoVersion", "GET /\r\n\r\n", 400},
        Malformed{"NotHttp", "GET / FTP/1.1\r\n\r\n", 400},
        Malformed{"MethodNotAToken", "G(T / HTTP/1.1\r\n\r\n", 400},
        Malformed{"TargetWithControl", "GET /\x01 HTTP/1.1\r\n\r\n", 400},
        Malformed{"Http2", "GET / HTTP/2.0\r\n\r\n", 505},
        Malformed{"HeaderWithoutColon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400},
        Malformed{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        Malformed{"FoldedHeader", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400},
        Malformed{"LengthNotANumber", "POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400},
        Malformed{"NegativeLength", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        Malformed{"TwoLengths",
                  "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
        Malformed{"Chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
        Malformed{"BodyTooLarge", "POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413},
        Malformed{"HeadersTooLarge", "GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n",
                  431},
        Malformed{"EndlessHeadersTooLarge", "GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), 431},
        Malformed{"EndlessRequestLine", std::string(300, 'a'), 431}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace helios::fakellm
