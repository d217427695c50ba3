// The generator against a real HTTP server on loopback. Rates and durations are small so that
// each test takes a few seconds; the assertions are about counts and the schedule, with margins
// wide enough for a busy machine (nothing here asserts how fast the machine is).
#include "load_generator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "loadgen/test_server.h"
#include "options.h"

namespace helios::loadgen {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

void Ok(int, const httplib::Request&, httplib::Response& response) {
  response.set_content("ok", "text/plain");
}

Options LoadOn(const TestServer& server, double rate, std::chrono::nanoseconds duration,
               int connections) {
  Options options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(server.port());
  options.rate = rate;
  options.duration = duration;
  options.connections = connections;
  options.timeout = 2s;
  return options;
}

// Every measured request ends exactly one way.
void ExpectAccounted(const Report& report) {
  const ErrorCounts& e = report.errors;
  EXPECT_EQ(report.scheduled, report.responses + e.read + e.write + e.closed + e.protocol +
                                  e.timeout + report.not_sent + report.unfinished);
  EXPECT_EQ(report.latency.count(), report.responses);
}

TEST(LoadGenerator, FixedRateIsAchievedAndEveryResponseCounted) {
  TestServer server(Ok);
  auto report = RunLoad(LoadOn(server, 200, 2s, 4));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->scheduled, 400u);
  EXPECT_EQ(report->sent, 400u);
  EXPECT_EQ(report->responses, 400u);
  EXPECT_EQ(report->status_counts, (std::map<int, uint64_t>{{200, 400}}));
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_EQ(report->not_sent, 0u);
  EXPECT_NEAR(report->achieved_rate, 200, 200 * 0.05);
  EXPECT_EQ(report->body_bytes, 400u * 2);
  EXPECT_EQ(server.requests(), 400u);
  ExpectAccounted(*report);
}

TEST(LoadGenerator, AServerStallShowsInTheLatencyOfEveryRequestScheduledDuringIt) {
  // One connection, 100 requests/s for 2 s; the server answers in about 1 ms, except request
  // 49 (scheduled at 0.49 s), which it holds for 500 ms. The 50 requests scheduled during the
  // stall wait in the generator's queue, and their latency counts from their scheduled time:
  // from about 500 ms down to a few ms. A closed-loop tool would record one slow request.
  constexpr auto kStall = 500ms;
  TestServer server([&](int number, const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(number == 49 ? std::chrono::milliseconds(kStall) : 1ms);
    response.set_content("ok", "text/plain");
  });
  auto report = RunLoad(LoadOn(server, 100, 2s, 1));
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->responses, 200u);
  ExpectAccounted(*report);

  // Waits of 100 ms or more: those scheduled in the stall's first 400 ms (40), the stalled
  // request itself, and a few scheduled while the queue drained at ~1 ms a request.
  const uint64_t waited = report->latency.CountAtOrAbove(100ms);
  EXPECT_GE(waited, 40u);
  EXPECT_LE(waited, 55u);
  EXPECT_GE(report->latency.Percentile(99), 400ms);
  EXPECT_GE(report->latency.Max(), kStall);
  EXPECT_LT(report->latency.Percentile(50), 50ms);
  // The queue held the requests that became due during the stall.
  EXPECT_GE(report->max_queue, 45u);
  EXPECT_LE(report->max_queue, 52u);
  EXPECT_GE(report->late, 45u);
  // Measured from the write, only the stalled request was slow.
  EXPECT_EQ(report->service_time.CountAtOrAbove(100ms), 1u);
  EXPECT_LT(report->service_time.Percentile(99), 100ms);
}

TEST(LoadGenerator, AnOverloadedServerLeavesRequestsQueuedAndSaysSo) {
  // 200 requests/s to a server that answers one every 20 ms (50/s) on one connection: the
  // queue grows for the whole run, and what is still queued a timeout after the last scheduled
  // time is reported as not sent, not silently dropped.
  TestServer server([](int, const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(20ms);
    response.set_content("ok", "text/plain");
  });
  Options options = LoadOn(server, 200, 500ms, 1);
  options.timeout = 200ms;
  auto report = RunLoad(options);
  ASSERT_TRUE(report) << report.error().message;
  ExpectAccounted(*report);
  EXPECT_EQ(report->scheduled, 100u);
  EXPECT_GE(report->responses, 10u);
  EXPECT_LE(report->responses, 40u);
  EXPECT_GE(report->not_sent, 55u);
  EXPECT_GE(report->max_queue, 55u);
  EXPECT_LT(report->achieved_rate, 70);
  EXPECT_GE(report->latency.Percentile(50), 100ms);
  EXPECT_LT(report->service_time.Percentile(50), 100ms);
}

TEST(LoadGenerator, CountsResponsesPerStatus) {
  TestServer server([](int number, const httplib::Request&, httplib::Response& response) {
    if (number % 4 == 3) {
      response.status = 503;
      response.set_content("busy", "text/plain");
    } else {
      response.set_content("ok", "text/plain");
    }
  });
  auto report = RunLoad(LoadOn(server, 400, 1s, 2));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 400u);
  EXPECT_EQ(report->status_counts, (std::map<int, uint64_t>{{200, 300}, {503, 100}}));
  const auto classes = report->StatusClassCounts();
  EXPECT_EQ(classes[2], 300u);
  EXPECT_EQ(classes[5], 100u);
  EXPECT_EQ(classes[4], 0u);
  EXPECT_EQ(report->errors.Total(), 0u);
}

TEST(LoadGenerator, ARequestWithoutAnswerTimesOutAndItsConnectionIsReplaced) {
  TestServer server([](int number, const httplib::Request&, httplib::Response& response) {
    if (number == 5) std::this_thread::sleep_for(1s);
    response.set_content("ok", "text/plain");
  });
  Options options = LoadOn(server, 50, 1s, 1);
  options.timeout = 200ms;
  auto report = RunLoad(options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->errors.timeout, 1u);
  EXPECT_EQ(report->responses, 49u);
  EXPECT_EQ(report->status_counts[200], 49u);
  EXPECT_GE(report->reconnects, 1u);
  EXPECT_GE(server.connections(), 2u);
  ExpectAccounted(*report);
}

TEST(LoadGenerator, ConnectionCloseFromTheServerReconnects) {
  // The server closes each connection after its second request (and says so).
  TestServer server(Ok, [](httplib::Server& s) { s.set_keep_alive_max_count(2); });
  auto report = RunLoad(LoadOn(server, 200, 500ms, 2));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 100u);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_GE(report->reconnects, 45u);
  EXPECT_GE(server.connections(), 45u);
  ExpectAccounted(*report);
}

TEST(LoadGenerator, ChunkedResponsesAreReadToTheirEnd) {
  TestServer server([](int, const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset < 3000) {
        const std::string chunk(1000, 'x');
        sink.write(chunk.data(), chunk.size());
      } else {
        sink.done();
      }
      return true;
    });
  });
  auto report = RunLoad(LoadOn(server, 100, 500ms, 2));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 50u);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_EQ(report->body_bytes, 50u * 3000);
  EXPECT_EQ(server.connections(), 2u) << "chunked responses keep the connection";
}

TEST(LoadGenerator, RequestsRotatePathsAndBodiesAndCarryTheHeaders) {
  TestServer server(Ok);
  Options options = LoadOn(server, 100, 100ms, 1);
  options.method = "POST";
  options.paths = {"/a", "/b?x=1"};
  options.bodies = {R"({"q": 1})", R"({"q": 22})", R"({"q": 333})"};
  options.headers = {"Authorization: Bearer secret-token", "Content-Type: application/json"};
  auto report = RunLoad(options);
  ASSERT_TRUE(report) << report.error().message;
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 10u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].method, "POST");
    EXPECT_EQ(seen[i].path, i % 2 == 0 ? "/a" : "/b") << i;
    EXPECT_EQ(seen[i].body, options.bodies[i % 3]) << i;
    EXPECT_EQ(seen[i].authorization, "Bearer secret-token");
    EXPECT_EQ(seen[i].content_type, "application/json");
    EXPECT_EQ(seen[i].host, "127.0.0.1:" + std::to_string(server.port()));
  }
  EXPECT_EQ(report->responses, 10u);
}

TEST(LoadGenerator, WarmupRequestsAreSentButNotReported) {
  TestServer server(Ok);
  Options options = LoadOn(server, 100, 500ms, 2);
  options.warmup = 500ms;
  auto report = RunLoad(options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(server.requests(), 100u);
  EXPECT_EQ(report->scheduled, 50u);
  EXPECT_EQ(report->responses, 50u);
  EXPECT_EQ(report->requests_written, 100u);
}

TEST(LoadGenerator, ClosedLoopSendsAsFastAsAnswered) {
  TestServer server([](int, const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(2ms);
    response.set_content("ok", "text/plain");
  });
  auto report = RunLoad(LoadOn(server, 0, 500ms, 2));
  ASSERT_TRUE(report) << report.error().message;
  // Two connections, each answered in about 2 ms: far more than an open loop would send at a
  // low rate, and never more than the server can answer one after another.
  EXPECT_GE(report->responses, 50u);
  EXPECT_LE(report->responses, 500u);
  EXPECT_EQ(report->scheduled, report->sent);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_EQ(report->status_counts[200], report->responses);
  EXPECT_NEAR(report->achieved_rate,
              static_cast<double>(report->responses) / (report->elapsed.count() / 1e9), 1e-6);
  EXPECT_GE(report->latency.Percentile(50), 2ms);
  ExpectAccounted(*report);
}

TEST(LoadGenerator, AServerThatGoesAwayCostsErrorsNotTheRun) {
  auto server = std::make_unique<TestServer>(Ok);
  Options options = LoadOn(*server, 100, 1s, 2);
  options.timeout = 300ms;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    server->Stop();
  });
  const auto start = std::chrono::steady_clock::now();
  auto report = RunLoad(options);
  stopper.join();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_GT(report->responses, 10u);
  EXPECT_LT(report->responses, 100u);
  EXPECT_GT(report->errors.connect, 0u);
  EXPECT_GT(report->not_sent + report->errors.Total(), 0u);
  ExpectAccounted(*report);
}

TEST(LoadGenerator, AHostNameUsesTheAddressThatAnswers) {
  // "localhost" may resolve to ::1 first; the server listens on 127.0.0.1 only.
  TestServer server(Ok);
  Options options = LoadOn(server, 100, 100ms, 2);
  options.host = "localhost";
  auto report = RunLoad(options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 10u);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_EQ(report->target, "http://localhost:" + std::to_string(server.port()));
}

TEST(LoadGenerator, NothingListeningIsUnavailable) {
  int port = 0;
  {
    TestServer server(Ok);
    port = server.port();
  }
  Options options;
  options.port = static_cast<uint16_t>(port);
  options.rate = 10;
  options.duration = 1s;
  auto report = RunLoad(options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(report.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << report.error().message;
}

}  // namespace
}  // namespace helios::loadgen
