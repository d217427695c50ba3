// Overload over real sockets: slow questions (held at a gate the test opens) must not starve
// cheap requests; beyond max_connections threads and max_queued_connections waiting
// connections the server answers 503 with Retry-After at once; threads above `workers` go away
// when idle. Then the ConnectionPool under the server on its own, counting the process's
// threads.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "server/connection_pool.h"
#include "server/http_server.h"
#include "server/metrics_server.h"
#include "server/test_fakes.h"

namespace helios::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kJson[] = "application/json";

// Polls `done` every 5 ms until it holds or `limit` passes.
template <typename Predicate>
bool Eventually(Predicate done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

class OverloadTest : public ::testing::Test {
 protected:
  OverloadTest()
      : log_stream_(&log_buffer_),
        logger_(log_stream_, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                clock_),
        metrics_(registry_) {
    // "slow" waits at the gate; anything else is answered at once.
    service_.SetAsk([this](const nl2sql::AskRequest& r) {
      if (r.question == "slow") gate_.Pass();
      return Result<nl2sql::Answer>(AnswerFor(r));
    });
    service_.SetHealth([] {
      nl2sql::HealthReport report;
      report.ok = true;
      return report;
    });
  }

  void Start(ServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    ServerGuards guards;
    guards.metrics = &metrics_;
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options, guards);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  void TearDown() override {
    gate_.Open();
    if (server_) {
      server_->Stop();
      ASSERT_EQ(run_done_.wait_for(30s), std::future_status::ready) << "Run() did not return";
    }
  }

  httplib::Client Client(time_t read_timeout_secs = 30) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(read_timeout_secs, 0);
    return client;
  }

  // Each on its own connection.
  std::future<httplib::Result> AskAsync(const std::string& question) {
    return std::async(std::launch::async, [this, question] {
      return Client().Post("/api/v1/query", json({{"query", question}}).dump(), kJson);
    });
  }

  // Every reply came, 200.
  static void ExpectAllAnswered(std::vector<std::future<httplib::Result>>& replies) {
    for (size_t i = 0; i < replies.size(); ++i) {
      httplib::Result res = replies[i].get();
      ASSERT_TRUE(res) << "request " << i << ": " << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 200) << "request " << i << ": " << res->body;
    }
  }

  // Checks the answer given to a shed connection.
  static void ExpectOverloaded(const httplib::Result& res) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 503) << res->body;
    EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    EXPECT_EQ(res->get_header_value("Connection"), "close");
    EXPECT_EQ(res->get_header_value("Content-Type"), kJson);
    EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
    json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res->body;
    EXPECT_EQ(body["error"]["code"], "unavailable") << res->body;
    EXPECT_EQ(body["error"]["message"], "The server is overloaded; try again in a moment.");
  }

  FakeClock clock_;
  LockedStringBuf log_buffer_;
  std::ostream log_stream_;
  observability::Logger logger_;
  observability::MetricsRegistry registry_;
  observability::ServiceMetrics metrics_;
  FakeService service_;
  Gate gate_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
};

TEST_F(OverloadTest, SlowQuestionsDoNotStarveHealthOrFastQuestions) {
  ServerOptions options;
  options.workers = 2;
  options.max_connections = 64;
  Start(options);
  constexpr int kSlow = 40;
  std::vector<std::future<httplib::Result>> slow;
  for (int i = 0; i < kSlow; ++i) slow.push_back(AskAsync("slow"));
  // With a fixed pool of 2 threads only 2 would ever get this far.
  ASSERT_TRUE(gate_.Reached(kSlow)) << gate_.waiting() << " of " << kSlow << " reached the service";

  // While all 40 are held, new connections are served at once. (A fixed pool would not answer
  // them before the gate opens: the 2 s read timeout would end them.)
  auto start = std::chrono::steady_clock::now();
  auto health = Client(2).Get("/health");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(Since(start), 1000ms);

  start = std::chrono::steady_clock::now();
  auto fast = Client(2).Post("/api/v1/query", R"({"query":"fast"})", kJson);
  ASSERT_TRUE(fast) << httplib::to_string(fast.error());
  EXPECT_EQ(fast->status, 200) << fast->body;
  EXPECT_LT(Since(start), 1000ms);

  const ServerStats busy = server_->Stats();
  EXPECT_GE(busy.connection_threads, static_cast<size_t>(kSlow));
  EXPECT_EQ(busy.connections_shed, 0u);

  gate_.Open();
  ExpectAllAnswered(slow);
  EXPECT_LE(server_->Stats().connection_threads_peak, 64u);
}

TEST_F(OverloadTest, BeyondTheQueueConnectionsGet503WithRetryAfterAndMetricsStillAnswer) {
  MetricsServer metrics_server(registry_, logger_, "127.0.0.1", 0);
  auto metrics_port = metrics_server.Bind();
  ASSERT_TRUE(metrics_port) << metrics_port.error().message;
  std::thread metrics_thread([&] { metrics_server.Run(); });
  struct StopMetrics {
    MetricsServer& server;
    std::thread& thread;
    ~StopMetrics() {
      server.Stop();
      thread.join();
    }
  } stop_metrics{metrics_server, metrics_thread};

  ServerOptions options;
  options.workers = 1;
  options.max_connections = 2;
  options.max_queued_connections = 2;
  Start(options);
  std::vector<std::future<httplib::Result>> slow;
  for (int i = 0; i < 4; ++i) slow.push_back(AskAsync("slow"));
  // Two are served (held at the gate), two wait for a thread.
  ASSERT_TRUE(gate_.Reached(2));
  ASSERT_TRUE(Eventually([&] { return server_->Stats().connections_waiting == 2; }))
      << server_->Stats().connections_waiting << " waiting";

  auto start = std::chrono::steady_clock::now();
  auto shed = Client().Post("/api/v1/query", R"({"query":"fast"})", kJson);
  EXPECT_LT(Since(start), 500ms);
  ExpectOverloaded(shed);
  auto shed_health = Client().Get("/health");
  ExpectOverloaded(shed_health);

  // Neither reached the service; both were counted, and reported in one warning.
  for (const nl2sql::AskRequest& r : service_.requests()) EXPECT_EQ(r.question, "slow");
  EXPECT_EQ(metrics_.http_connections_shed_total.Value({"queue_full"}), 2);
  EXPECT_EQ(server_->Stats().connections_shed, 2u);
  EXPECT_NE(log_buffer_.str().find("server overloaded: connections answered 503"),
            std::string::npos)
      << log_buffer_.str();

  // The metrics listener is served by its own threads: it answers while the API sheds.
  httplib::Client scraper("127.0.0.1", *metrics_port);
  scraper.set_read_timeout(2, 0);
  auto scrape = scraper.Get("/metrics");
  ASSERT_TRUE(scrape) << httplib::to_string(scrape.error());
  EXPECT_EQ(scrape->status, 200);
  EXPECT_NE(scrape->body.find("http_connections_shed_total{reason=\"queue_full\"} 2"),
            std::string::npos)
      << scrape->body;

  gate_.Open();
  ExpectAllAnswered(slow);
  auto after = Client().Post("/api/v1/query", R"({"query":"fast"})", kJson);
  ASSERT_TRUE(after) << httplib::to_string(after.error());
  EXPECT_EQ(after->status, 200) << after->body;
  // The answered requests have their log lines; the shed ones have none.
  const std::string log = log_buffer_.str();
  EXPECT_NE(log.find("\"status\":200"), std::string::npos) << log;
  EXPECT_EQ(log.find("\"status\":503"), std::string::npos) << "a shed request was logged: " << log;
}

// A raw connection, to see what the server does with it after a 503.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes the connection; `closed` false when it did not within
  // `limit`.
  std::string ReadToEnd(std::chrono::milliseconds limit, bool& closed) {
    std::string out;
    closed = false;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed = true;
        return out;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST_F(OverloadTest, AShedKeepAliveConnectionIsClosedAfterThe503) {
  ServerOptions options;
  options.workers = 1;
  options.max_connections = 1;
  options.max_queued_connections = 0;
  Start(options);
  auto held = AskAsync("slow");
  ASSERT_TRUE(gate_.Reached(1));

  RawConnection raw(port_);
  ASSERT_TRUE(raw.connected());
  const std::string body = R"({"query":"fast"})";
  ASSERT_TRUE(
      raw.Send("POST /api/v1/query HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n"
               "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body));
  bool closed = false;
  const std::string reply = raw.ReadToEnd(2000ms, closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("Retry-After: 1\r\n"), std::string::npos) << reply;
  EXPECT_TRUE(closed) << "the server kept the shed connection open";

  gate_.Open();
  auto res = held.get();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(OverloadTest, AConnectionThatWaitedTooLongIsAnswered503) {
  ServerOptions options;
  options.workers = 1;
  options.max_connections = 1;
  options.max_queued_connections = 10;
  options.max_queue_wait = 200ms;
  Start(options);
  auto held = AskAsync("slow");
  ASSERT_TRUE(gate_.Reached(1));
  auto late = AskAsync("fast");
  ASSERT_TRUE(Eventually([&] { return server_->Stats().connections_waiting == 1; }));
  std::this_thread::sleep_for(400ms);  // longer than max_queue_wait
  gate_.Open();

  ExpectOverloaded(late.get());
  EXPECT_EQ(metrics_.http_connections_shed_total.Value({"waited_too_long"}), 1);
  auto res = held.get();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(service_.requests().size(), 1u) << "the late question reached the service";
}

TEST_F(OverloadTest, ThreadsAboveWorkersExitWhenIdleAndNeverExceedMaxConnections) {
  ServerOptions options;
  options.workers = 1;
  options.max_connections = 4;
  options.max_queued_connections = 100;
  options.idle_thread_timeout = 200ms;
  Start(options);
  EXPECT_TRUE(Eventually([&] { return server_->Stats().connection_threads == 1; }));

  std::vector<std::future<httplib::Result>> slow;
  for (int i = 0; i < 8; ++i) slow.push_back(AskAsync("slow"));
  ASSERT_TRUE(gate_.Reached(4));
  ASSERT_TRUE(Eventually([&] { return server_->Stats().connections_waiting == 4; }));
  ServerStats full = server_->Stats();
  EXPECT_EQ(full.connection_threads, 4u);
  EXPECT_EQ(full.connections_shed, 0u);
  EXPECT_EQ(gate_.waiting(), 4) << "more questions in the service than max_connections";

  gate_.Open();
  ExpectAllAnswered(slow);
  EXPECT_EQ(server_->Stats().connection_threads_peak, 4u);
  // The three extra threads go once idle for 200 ms; the worker stays.
  EXPECT_TRUE(Eventually([&] { return server_->Stats().connection_threads == 1; }, 5s))
      << server_->Stats().connection_threads << " threads left";
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(server_->Stats().connection_threads, 1u);
  // And the pool grows again when needed.
  auto again = Client().Get("/health");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(OverloadTest, AnErrorWithARetryHintIsAnsweredWithRetryAfter) {
  service_.SetAsk([](const nl2sql::AskRequest& r) -> Result<nl2sql::Answer> {
    if (r.question == "busy") {
      Error error(ErrorCode::kUnavailable, "the language model is at capacity");
      error.details.push_back({"retry_after_seconds", {"1"}});
      return std::unexpected(error);
    }
    return Fail(ErrorCode::kUnavailable, "the database is down");
  });
  ServerOptions options;
  options.workers = 2;
  Start(options);
  auto busy = Client().Post("/api/v1/query", R"({"query":"busy"})", kJson);
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  auto down = Client().Post("/api/v1/query", R"({"query":"other"})", kJson);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_FALSE(down->has_header("Retry-After")) << "no hint, no Retry-After";
}

TEST_F(OverloadTest, BindRejectsInconsistentLimits) {
  auto bind_with = [this](ServerOptions options) {
    options.port = 0;
    HttpServer server(service_, logger_, clock_, options);
    return server.Bind();
  };
  ServerOptions fewer;
  fewer.workers = 4;
  fewer.max_connections = 2;
  auto refused = bind_with(fewer);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("max_connections"), std::string::npos);
  ServerOptions negative;
  negative.max_queued_connections = -1;
  EXPECT_FALSE(bind_with(negative));
  ServerOptions fine;
  fine.workers = 4;
  fine.max_connections = 4;
  EXPECT_TRUE(bind_with(fine)) << "max_connections may equal workers";
}

// --- The pool on its own ---------------------------------------------------------------------

// The process's threads, as the kernel counts them.
int ProcessThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST(ConnectionPoolTest, GrowsToMaxThreadsQueuesThenShedsAtOnceAndShrinksWhenIdle) {
  const int before = ProcessThreads();
  ASSERT_GT(before, 0);
  std::mutex mu;
  std::vector<ShedReason> heard;
  ConnectionPoolOptions options;
  options.min_threads = 1;
  options.max_threads = 3;
  options.max_queued = 2;
  options.idle_timeout = 100ms;
  options.shedding_threads = 2;
  ConnectionPool pool(options, [&](ShedReason reason) {
    std::lock_guard lock(mu);
    heard.push_back(reason);
  });
  EXPECT_TRUE(Eventually([&] { return ProcessThreads() == before + 1 + 2; }))
      << ProcessThreads() - before << " threads started";

  Gate gate;
  std::atomic<int> served{0};
  std::atomic<int> shed{0};
  for (int i = 0; i < 8; ++i) {
    pool.Submit([&] {
      if (ConnectionPool::CurrentShedReason() == ShedReason::kQueueFull) {
        ++shed;
        return;
      }
      gate.Pass();
      ++served;
    });
  }
  ASSERT_TRUE(gate.Reached(3));
  ASSERT_TRUE(Eventually([&] { return shed.load() == 3; })) << shed.load() << " shed";
  ConnectionPoolStats stats = pool.Stats();
  EXPECT_EQ(stats.threads, 3u);
  EXPECT_EQ(stats.busy, 3u);
  EXPECT_EQ(stats.queued, 2u);
  EXPECT_EQ(stats.shed, 3u);
  EXPECT_EQ(gate.waiting(), 3);
  EXPECT_EQ(ProcessThreads(), before + 3 + 2) << "3 serving threads and 2 shedding ones";
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(heard, std::vector<ShedReason>(3, ShedReason::kQueueFull));
  }

  gate.Open();
  ASSERT_TRUE(Eventually([&] { return served.load() == 5; })) << served.load() << " served";
  EXPECT_EQ(pool.Stats().peak_threads, 3u);
  EXPECT_TRUE(Eventually([&] { return pool.Stats().threads == 1; }, 5s));
  EXPECT_TRUE(Eventually([&] { return ProcessThreads() == before + 1 + 2; }, 5s))
      << ProcessThreads() - before << " threads left";
  EXPECT_EQ(ConnectionPool::CurrentShedReason(), ShedReason::kNone);
}

TEST(ConnectionPoolTest, ATaskThatWaitedTooLongRunsShed) {
  std::atomic<int> stale_heard{0};
  ConnectionPoolOptions options;
  options.min_threads = 1;
  options.max_threads = 1;
  options.max_queued = 5;
  options.max_wait = 100ms;
  ConnectionPool pool(options, [&](ShedReason reason) {
    if (reason == ShedReason::kWaitedTooLong) ++stale_heard;
  });
  Gate gate;
  std::promise<ShedReason> second;
  pool.Submit([&] { gate.Pass(); });
  ASSERT_TRUE(gate.Reached(1));
  pool.Submit([&] { second.set_value(ConnectionPool::CurrentShedReason()); });
  std::this_thread::sleep_for(250ms);
  gate.Open();
  auto reason = second.get_future();
  ASSERT_EQ(reason.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(reason.get(), ShedReason::kWaitedTooLong);
  EXPECT_EQ(stale_heard.load(), 1);
}

TEST(ConnectionPoolTest, ShutdownRunsWhatIsQueuedAndLaterTasksRunShedOnTheCaller) {
  ConnectionPoolOptions options;
  options.min_threads = 1;
  options.max_threads = 1;
  options.max_queued = 10;
  ConnectionPool pool(options);
  Gate gate;
  std::atomic<int> normal{0};
  pool.Submit([&] {
    gate.Pass();
    ++normal;
  });
  ASSERT_TRUE(gate.Reached(1));
  for (int i = 0; i < 3; ++i) pool.Submit([&] { ++normal; });
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    gate.Open();
  });
  pool.Shutdown();
  opener.join();
  EXPECT_EQ(normal.load(), 4) << "Shutdown() returned before the queued tasks ran";

  ShedReason late = ShedReason::kNone;
  std::thread::id ran_on;
  pool.Submit([&] {
    late = ConnectionPool::CurrentShedReason();
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(late, ShedReason::kQueueFull);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace helios::server
