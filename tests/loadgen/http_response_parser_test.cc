#include "http_response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace helios::loadgen {
namespace {

constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "4\r\nWiki\r\n"
    "5;name=value\r\npedia\r\n"
    "E\r\n in\r\n\r\nchunks.\r\n"
    "0\r\n"
    "Trailer-Field: x\r\n"
    "\r\n";
constexpr uint64_t kChunkedBodyBytes = 4 + 5 + 14;

// Feeds `pieces` in order; the parser's outcome after the last, with the bytes consumed.
struct Fed {
  bool ok = true;
  std::string error;
  size_t consumed = 0;
  bool complete = false;
};

Fed FeedAll(HttpResponseParser& parser, std::initializer_list<std::string_view> pieces) {
  Fed fed;
  for (std::string_view piece : pieces) {
    auto progress = parser.Feed(piece);
    if (!progress) {
      fed.ok = false;
      fed.error = progress.error().message;
      EXPECT_EQ(progress.error().code, ErrorCode::kInvalidArgument);
      return fed;
    }
    fed.consumed += progress->consumed;
    fed.complete = progress->complete;
  }
  return fed;
}

TEST(HttpResponseParser, ContentLengthBody) {
  HttpResponseParser parser;
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  const Fed fed = FeedAll(parser, {response});
  ASSERT_TRUE(fed.ok) << fed.error;
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(fed.consumed, response.size());
  EXPECT_EQ(parser.status(), 200);
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_EQ(parser.body_bytes(), 5u);
}

TEST(HttpResponseParser, StopsAtTheEndOfTheResponse) {
  HttpResponseParser parser;
  const std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno";
  auto progress = parser.Feed(response + "HTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(progress) << progress.error().message;
  EXPECT_TRUE(progress->complete);
  EXPECT_EQ(progress->consumed, response.size());
  EXPECT_EQ(parser.status(), 503);
  // A complete parser takes nothing more until Reset.
  auto more = parser.Feed("x");
  ASSERT_TRUE(more);
  EXPECT_EQ(more->consumed, 0u);
}

TEST(HttpResponseParser, ContentLengthSplitInTwoAtEveryByte) {
  const std::string response =
      "HTTP/1.1 201 Created\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\nhello world";
  for (size_t split = 0; split <= response.size(); ++split) {
    HttpResponseParser parser;
    const std::string_view all = response;
    auto first = parser.Feed(all.substr(0, split));
    ASSERT_TRUE(first) << "split " << split << ": " << first.error().message;
    EXPECT_EQ(first->complete, split == response.size()) << "split " << split;
    const Fed rest = FeedAll(parser, {all.substr(first->consumed)});
    ASSERT_TRUE(rest.ok) << "split " << split << ": " << rest.error;
    EXPECT_TRUE(parser.complete()) << "split " << split;
    EXPECT_EQ(first->consumed + rest.consumed, response.size()) << "split " << split;
    EXPECT_EQ(parser.status(), 201);
    EXPECT_EQ(parser.body_bytes(), 11u);
  }
}

TEST(HttpResponseParser, ChunkedSplitInTwoAtEveryByte) {
  for (size_t split = 0; split <= kChunked.size(); ++split) {
    HttpResponseParser parser;
    auto first = parser.Feed(kChunked.substr(0, split));
    ASSERT_TRUE(first) << "split " << split << ": " << first.error().message;
    EXPECT_EQ(first->consumed, split);
    EXPECT_EQ(first->complete, split == kChunked.size()) << "split " << split;
    auto rest = parser.Feed(kChunked.substr(split));
    ASSERT_TRUE(rest) << "split " << split << ": " << rest.error().message;
    EXPECT_TRUE(rest->complete || split == kChunked.size()) << "split " << split;
    EXPECT_TRUE(parser.complete()) << "split " << split;
    EXPECT_EQ(parser.body_bytes(), kChunkedBodyBytes) << "split " << split;
    EXPECT_TRUE(parser.keep_alive());
  }
}

TEST(HttpResponseParser, ChunkedOneByteAtATime) {
  HttpResponseParser parser;
  for (size_t i = 0; i < kChunked.size(); ++i) {
    ASSERT_FALSE(parser.complete()) << "complete before byte " << i;
    auto progress = parser.Feed(kChunked.substr(i, 1));
    ASSERT_TRUE(progress) << "byte " << i << ": " << progress.error().message;
    ASSERT_EQ(progress->consumed, 1u) << "byte " << i;
  }
  EXPECT_TRUE(parser.complete());
  EXPECT_EQ(parser.body_bytes(), kChunkedBodyBytes);
}

TEST(HttpResponseParser, HeadersSplitAcrossReads) {
  HttpResponseParser parser;
  const Fed fed = FeedAll(parser, {"HTTP/1.1 20", "0 OK\r", "\nCont", "ent-Len", "gth: 3\r\n",
                                   "Connection: cl", "ose\r\n\r", "\nab", "c"});
  ASSERT_TRUE(fed.ok) << fed.error;
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(parser.status(), 200);
  EXPECT_EQ(parser.body_bytes(), 3u);
  EXPECT_FALSE(parser.keep_alive());
}

TEST(HttpResponseParser, ConnectionCloseAndHttp10) {
  {
    HttpResponseParser parser;
    ASSERT_TRUE(FeedAll(parser, {"HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\n"
                                 "Content-Length: 0\r\n\r\n"})
                    .complete);
    EXPECT_FALSE(parser.keep_alive());
  }
  {
    HttpResponseParser parser;
    ASSERT_TRUE(FeedAll(parser, {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"}).complete);
    EXPECT_FALSE(parser.keep_alive()) << "HTTP/1.0 closes unless it says keep-alive";
  }
  {
    HttpResponseParser parser;
    ASSERT_TRUE(
        FeedAll(parser, {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"})
            .complete);
    EXPECT_TRUE(parser.keep_alive());
  }
}

TEST(HttpResponseParser, BodyUntilCloseEndsAtEof) {
  HttpResponseParser parser;
  const Fed fed =
      FeedAll(parser, {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome", " more"});
  ASSERT_TRUE(fed.ok) << fed.error;
  EXPECT_FALSE(fed.complete);
  ASSERT_TRUE(parser.FeedEof());
  EXPECT_TRUE(parser.complete());
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(parser.body_bytes(), 9u);
}

TEST(HttpResponseParser, ResponsesWithoutBodies) {
  {
    HttpResponseParser parser;
    EXPECT_TRUE(FeedAll(parser, {"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"}).complete);
    EXPECT_TRUE(parser.keep_alive());
  }
  {
    HttpResponseParser parser;
    parser.Reset(/*head_request=*/true);
    EXPECT_TRUE(FeedAll(parser, {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"}).complete);
    EXPECT_EQ(parser.body_bytes(), 0u);
  }
}

TEST(HttpResponseParser, SkipsInterimResponses) {
  HttpResponseParser parser;
  const Fed fed = FeedAll(
      parser, {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  ASSERT_TRUE(fed.ok) << fed.error;
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(parser.status(), 200);
  EXPECT_EQ(parser.body_bytes(), 2u);
}

TEST(HttpResponseParser, ResetPreparesForTheNextResponse) {
  HttpResponseParser parser;
  ASSERT_TRUE(
      FeedAll(parser, {"HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"})
          .complete);
  parser.Reset();
  EXPECT_FALSE(parser.started());
  EXPECT_FALSE(parser.complete());
  ASSERT_TRUE(FeedAll(parser, {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}).complete);
  EXPECT_EQ(parser.status(), 200);
  EXPECT_TRUE(parser.keep_alive());
}

TEST(HttpResponseParser, MalformedResponsesSayWhatIsWrong) {
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"SMTP ready\r\n", "bad status line"},
      {"HTTP/1.1 2x0 OK\r\n", "bad status code"},
      {"HTTP/1.1 999 Nine\r\n", "bad status code"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n", "bad header line"},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\n", "bad header name"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n", "two different"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "longer than"},
      {"HTTP/1.1 200 OK\r\n" + std::string(70 * 1024, 'a'), "exceed"},
  };
  for (const auto& c : cases) {
    HttpResponseParser parser;
    const Fed fed = FeedAll(parser, {c.input});
    EXPECT_FALSE(fed.ok) << c.input.substr(0, 80);
    EXPECT_NE(fed.error.find("malformed HTTP response"), std::string::npos) << fed.error;
    EXPECT_NE(fed.error.find(c.expected), std::string::npos)
        << "input '" << c.input.substr(0, 80) << "' gave '" << fed.error << "'";
  }
}

TEST(HttpResponseParser, EofBeforeTheEndIsAnError) {
  {
    HttpResponseParser parser;
    ASSERT_TRUE(FeedAll(parser, {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}).ok);
    auto eof = parser.FeedEof();
    ASSERT_FALSE(eof);
    EXPECT_EQ(eof.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(eof.error().message.find("middle"), std::string::npos) << eof.error().message;
  }
  {
    HttpResponseParser parser;
    auto eof = parser.FeedEof();
    ASSERT_FALSE(eof);
    EXPECT_NE(eof.error().message.find("without a response"), std::string::npos);
  }
}

}  // namespace
}  // namespace helios::loadgen
