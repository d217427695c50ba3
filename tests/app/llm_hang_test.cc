// The language model's provider hangs mid-answer, against the real binary: a stand-in for
// Ollama's API on loopback sends the status line and headers and then part of the body, or
// one chunk of a chunked body, or nothing after the headers, and then stalls without closing
// (what an overloaded model server or a broken proxy does). The product asks for a whole
// answer ("stream": false) and libcurl's CURLOPT_TIMEOUT_MS covers the body too, so:
//   - every model call ends at its deadline ([llm] timeout_secs) with 504 deadline_exceeded,
//     and the client's side of the stalled connection is closed;
//   - after failure_threshold such failures the breaker opens and model questions are refused
//     at once with its 503, without the provider being asked;
//   - meanwhile /health, questions the engine answers and cache hits stay fast;
//   - nothing stays stuck: the process's threads come back to what they were, every place in
//     the model's bulkhead is free again (as many concurrent model questions as it allows all
//     succeed once the provider answers), and SIGTERM finds no request in flight.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/text.h"
#include "support/child_process.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// [llm] timeout_secs: the deadline of one model call (one attempt: max_retries = 0).
constexpr auto kDeadline = 3s;
// How late after its deadline a call may end: the server's own work plus a loaded machine.
constexpr auto kSlack = 1500ms;
// What "answered at once" means here, generous for a sanitizer build on a busy machine, and
// still well below kDeadline, so a request held up by the hung calls cannot pass it.
constexpr auto kFast = 2s;
constexpr int kFailureThreshold = 3;
constexpr int kResetTimeoutSecs = 3;
constexpr int kBulkhead = 3;  // [llm] max_concurrent_requests

const std::string kSql =
    "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY country";

std::string OllamaAnswer() {
  const std::string text = json({{"sql", kSql}, {"explanation", "Customers per country."}}).dump();
  return json({{"model", "test-model"},
               {"created_at", "2025-01-01T00:00:00Z"},
               {"message", {{"role", "assistant"}, {"content", text}}},
               {"done", true},
               {"done_reason", "stop"}})
      .dump();
}

// What the stand-in does with one request.
enum class Behaviour {
  kAnswer,              // a whole answer (held while HoldAnswers() asks)
  kStallAfterHeaders,   // status and headers (Content-Length: 1000), then nothing
  kStallMidBody,        // status, headers and 14 of the 1000 bytes announced
  kStallBetweenChunks,  // Transfer-Encoding: chunked, one chunk, then nothing
};

struct Stalled {
  Behaviour behaviour;
  Steady::time_point asked;                  // when the request was read
  std::optional<Steady::time_point> closed;  // when the client closed its side
};

// Ollama's /api/chat on raw TCP, so that it can stop in the middle of an answer. Each
// connection has its own thread; a stalled one waits (without sending) for the client to close.
class HangingModel {
 public:
  HangingModel() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listen_fd_ >= 0 &&
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(listen_fd_, 64) == 0 &&
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
    accepting_ = std::thread([this] { Accept(); });
  }

  ~HangingModel() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    accepting_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(connections_);
    }
    for (std::thread& t : threads) t.join();
  }

  int port() const { return port_; }

  // The requests from now on get these behaviours in turn, then `then`.
  void Behave(std::vector<Behaviour> next, Behaviour then) {
    std::lock_guard lock(mu_);
    script_.assign(next.begin(), next.end());
    default_ = then;
  }
  // Answers wait until `count` of them are waiting (or 10 s pass), then all go at once.
  void HoldAnswers(int count) {
    std::lock_guard lock(mu_);
    hold_until_ = count;
    holding_ = 0;
  }

  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<Stalled> stalled() const {
    std::lock_guard lock(mu_);
    return stalled_;
  }
  // Waits until `count` requests are stalled; false after `timeout`.
  bool WaitForStalled(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return stalled_.size() >= count; });
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;  // shut down
      }
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      connections_.emplace_back([this, fd] {
        Serve(fd);
        ::close(fd);
      });
    }
  }

  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Reads one request (head and Content-Length body); false when the client closed.
  bool ReadRequest(int fd, std::string& pending) {
    for (;;) {
      const size_t head_end = pending.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        for (const std::string& line : text::Split(pending.substr(0, head_end), '\n')) {
          const std::string lower = text::ToLower(line);
          if (text::StartsWith(lower, "content-length:")) {
            length = std::stoul(text::Trim(lower.substr(15)));
          }
        }
        if (pending.size() >= head_end + 4 + length) {
          pending.erase(0, head_end + 4 + length);
          return true;
        }
      }
      if (!WaitReadable(fd)) return false;
      char buffer[16384];
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      pending.append(buffer, static_cast<size_t>(n));
    }
  }

  // Waits for data or the peer's close; false when the fake is stopping.
  bool WaitReadable(int fd) {
    while (!Stopping()) {
      pollfd p{fd, POLLIN | POLLRDHUP, 0};
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void Serve(int fd) {
    std::string pending;
    while (ReadRequest(fd, pending)) {
      Behaviour behaviour;
      {
        std::unique_lock lock(mu_);
        ++requests_;
        if (script_.empty()) {
          behaviour = default_;
        } else {
          behaviour = script_.front();
          script_.pop_front();
        }
        if (behaviour == Behaviour::kAnswer && hold_until_ > 0) {
          ++holding_;
          changed_.notify_all();
          changed_.wait_for(lock, 10s, [&] { return stopping_ || holding_ >= hold_until_; });
        }
      }
      if (behaviour == Behaviour::kAnswer) {
        const std::string body = OllamaAnswer();
        if (!SendAll(fd, fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Content-Length: {}\r\n\r\n{}",
                                     body.size(), body))) {
          return;
        }
        continue;  // keep-alive: the client may send its next request here
      }
      Stall(fd, behaviour);
      return;
    }
  }

  void Stall(int fd, Behaviour behaviour) {
    size_t index = 0;
    {
      std::lock_guard lock(mu_);
      index = stalled_.size();
      stalled_.push_back(Stalled{behaviour, Steady::now(), std::nullopt});
    }
    switch (behaviour) {
      case Behaviour::kStallAfterHeaders:
        SendAll(
            fd,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
        break;
      case Behaviour::kStallMidBody:
        SendAll(fd,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                "{\"model\":\"tes");
        break;
      case Behaviour::kStallBetweenChunks:
        SendAll(fd,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
                "e\r\n{\"model\":\"test\r\n");
        break;
      case Behaviour::kAnswer:
        break;
    }
    changed_.notify_all();
    // Nothing more is sent. The client is expected to give up and close its side; any bytes
    // it might still send are read and ignored.
    while (WaitReadable(fd)) {
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        std::lock_guard lock(mu_);
        stalled_[index].closed = Steady::now();
        return;
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accepting_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<std::thread> connections_;
  std::deque<Behaviour> script_;
  Behaviour default_ = Behaviour::kAnswer;
  int hold_until_ = 0;
  int holding_ = 0;
  int requests_ = 0;
  std::vector<Stalled> stalled_;
};

struct Reply {
  int status = 0;  // 0: no reply at all
  json body;
  std::string raw;
  Steady::duration took{};
};

Reply Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5s);
  client.set_read_timeout(30s);
  const auto start = Steady::now();
  auto res = client.Get(path);
  Reply reply;
  reply.took = Steady::now() - start;
  if (res) {
    reply.status = res->status;
    reply.raw = res->body;
    reply.body = json::parse(res->body, nullptr, false);
  }
  return reply;
}

Reply Ask(int port, const std::string& question) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5s);
  client.set_read_timeout(30s);
  const auto start = Steady::now();
  auto res = client.Post("/api/v1/query", json({{"query", question}}).dump(), "application/json");
  Reply reply;
  reply.took = Steady::now() - start;
  if (res) {
    reply.status = res->status;
    reply.raw = res->body;
    reply.body = json::parse(res->body, nullptr, false);
  }
  return reply;
}

std::string ErrorCodeOf(const Reply& reply) {
  return reply.body.is_object() && reply.body.contains("error")
             ? reply.body["error"].value("code", "")
             : "";
}
std::string ErrorMessageOf(const Reply& reply) {
  return reply.body.is_object() && reply.body.contains("error")
             ? reply.body["error"].value("message", "")
             : "";
}
std::string SourceOf(const Reply& reply) {
  return reply.body.is_object() ? reply.body.value("source", "") : "";
}

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

// The value of an unlabelled-or-labelled sample line ("name{...} value") in an exposition.
std::optional<double> SampleValue(const std::string& exposition, const std::string& series) {
  for (const std::string& line : text::Split(exposition, '\n')) {
    if (text::StartsWith(line, series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

size_t ThreadsOf(pid_t pid) {
  size_t count = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

// The "port" of the first JSON log line with this message; 0 when the process exits first
// or a minute passes.
int PortOf(testing::ChildProcess& process, const fs::path& log, std::string_view message) {
  const auto deadline = Steady::now() + 60s;
  while (Steady::now() < deadline) {
    for (const std::string& line : text::Split(testing::ReadFile(log), '\n')) {
      const json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("message", "") == message && j.contains("port")) {
        return j["port"].get<int>();
      }
    }
    if (process.Exited()) return 0;
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

// Questions the built-in engine declines, so that they go to the model. Different enough from
// each other that none is answered from the cache by another's answer.
const char* const kModelQuestions[] = {
    "how are our clients spread over the nations of the world",
    "what is the vibe of our shoppers lately",
    "which shoppers feel most loyal to the brand",
    "tell me a story about our merchandise",
    "describe the mood of buyers this season",
    "what do people whisper about the catalogue",
    "which goods make folks smile",
    "explain the rhythm of purchasing over time",
};

TEST(LlmHangTest, AHungProviderCostsOneDeadlinePerCallThenTheBreakerRefusesAndNothingStaysStuck) {
  // libcurl honours the proxy variables; a developer's http_proxy must not capture loopback.
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  testing::TempDir dir("helios-llm-hang");
  fs::copy_file(HELIOS_DEMO_DB, dir.path() / "demo.db");
  HangingModel model;
  ASSERT_GT(model.port(), 0);

  testing::WriteFile(
      dir.path() / "server.toml",
      fmt::format("[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                  // More threads than connections at once in this test, so the pool never grows
                  // past them and the thread count can go back to its baseline (threads above
                  // `workers` would stay idle for 30 s before exiting).
                  "workers = 12\nrequest_timeout_secs = 20\nweb_chat = false\n"
                  "[auth]\nenabled = false\n"
                  "[metrics]\nenabled = true\nhost = \"127.0.0.1\"\nprometheus_port = 0\n"
                  "[production.rate_limiting]\nenabled = false\n"
                  "[production.circuit_breaker]\nfailure_threshold = {}\nreset_timeout_secs = {}\n"
                  "half_open_max_calls = 1\n"
                  "[llm]\nprovider = \"ollama\"\nmodel = \"test-model\"\n"
                  "base_url = \"http://127.0.0.1:{}\"\ntimeout_secs = {}\nmax_retries = 0\n"
                  "max_concurrent_requests = {}\n"
                  "[database]\nurl = \"sqlite://{}\"\n",
                  kFailureThreshold, kResetTimeoutSecs, model.port(),
                  std::chrono::duration_cast<std::chrono::seconds>(kDeadline).count(), kBulkhead,
                  (dir.path() / "demo.db").string()));
  std::string error;
  auto server = testing::ChildProcess::Start({{HELIOS_BINARY, "--config", "server.toml", "serve"},
                                              testing::ChildEnvironment(),
                                              "/dev/null",
                                              dir.path() / "out.log",
                                              dir.path() / "err.log",
                                              dir.path()},
                                             &error);
  ASSERT_NE(server, nullptr) << error;
  const int port = PortOf(*server, dir.path() / "out.log", "listening");
  const int metrics_port = PortOf(*server, dir.path() / "out.log", "metrics listening");
  ASSERT_GT(port, 0) << testing::ReadFile(dir.path() / "err.log");
  ASSERT_GT(metrics_port, 0);
  auto breaker_state = [&] {
    return SampleValue(Get(metrics_port, "/metrics").raw,
                       "circuit_breaker_state{service=\"nl2sql\"}");
  };

  // --- Warm-up, with a provider that answers: every path used below has run once.
  model.Behave({}, Behaviour::kAnswer);
  ASSERT_EQ(Get(port, "/health").status, 200);
  const std::string engine_question = "How many customers are there?";
  Reply engine = Ask(port, engine_question);
  ASSERT_EQ(engine.status, 200) << engine.raw;
  ASSERT_EQ(SourceOf(engine), "engine") << engine.raw;
  const std::string cached_question = kModelQuestions[0];
  Reply first = Ask(port, cached_question);
  ASSERT_EQ(first.status, 200) << first.raw;
  ASSERT_EQ(SourceOf(first), "llm") << first.raw;
  ASSERT_EQ(model.requests(), 1);
  ASSERT_EQ(breaker_state(), 0.0);
  const size_t baseline_threads = ThreadsOf(server->pid());
  ASSERT_GT(baseline_threads, 0u);

  // --- The provider hangs: as many model questions at once as open the breaker, one of each
  // kind of stall.
  model.Behave(
      {Behaviour::kStallMidBody, Behaviour::kStallBetweenChunks, Behaviour::kStallAfterHeaders},
      Behaviour::kStallMidBody);
  std::vector<Reply> hung(kFailureThreshold);
  std::vector<std::thread> askers;
  for (int i = 0; i < kFailureThreshold; ++i) {
    askers.emplace_back(
        [&, i] { hung[static_cast<size_t>(i)] = Ask(port, kModelQuestions[i + 1]); });
  }
  ASSERT_TRUE(model.WaitForStalled(kFailureThreshold, 10s))
      << "the model questions did not reach the provider";

  // While every model call hangs: liveness, the engine and the cache answer at once.
  struct Probe {
    std::string what;
    Reply reply;
    Steady::time_point done;
  };
  std::vector<Probe> probes;
  const auto hang_ends = model.stalled().front().asked + kDeadline - 300ms;
  const char* const engine_questions[] = {"How many customers are there?",
                                          "How many products are there?",
                                          "How many orders are there?"};
  for (size_t round = 0; Steady::now() < hang_ends || round == 0; ++round) {
    Reply reply = Get(port, "/health");
    probes.push_back({"/health", std::move(reply), Steady::now()});
    reply = Ask(port, engine_questions[round % 3]);
    probes.push_back({engine_questions[round % 3], std::move(reply), Steady::now()});
    reply = Ask(port, cached_question);
    probes.push_back({"cached: " + cached_question, std::move(reply), Steady::now()});
    std::this_thread::sleep_for(100ms);
  }
  for (std::thread& t : askers) t.join();

  ASSERT_GE(probes.size(), 6u);
  for (const Probe& p : probes) {
    EXPECT_EQ(p.reply.status, 200) << p.what << ": " << p.reply.raw;
    EXPECT_LT(p.reply.took, kFast) << p.what << " took " << Seconds(p.reply.took) << " s";
    if (p.what == "/health") {
      EXPECT_EQ(p.reply.body.value("status", ""), "alive");
    } else if (text::StartsWith(p.what, "cached: ")) {
      EXPECT_TRUE(p.reply.body.value("cache_hit", false)) << p.reply.raw;
    } else {
      EXPECT_THAT(SourceOf(p.reply), ::testing::AnyOf("engine", "cache")) << p.reply.raw;
    }
  }

  // The figures, in the test's XML output (--gtest_output=xml).
  Steady::duration slowest_probe{};
  for (const Probe& p : probes) slowest_probe = std::max(slowest_probe, p.reply.took);
  Steady::duration slowest_call{};
  for (const Reply& r : hung) slowest_call = std::max(slowest_call, r.took);
  RecordProperty("probes", static_cast<int>(probes.size()));
  RecordProperty("slowest_probe_seconds", fmt::format("{:.3f}", Seconds(slowest_probe)));
  RecordProperty("slowest_hung_call_seconds", fmt::format("{:.3f}", Seconds(slowest_call)));

  // Each hung call ended at its deadline with 504 and a message that says what happened.
  for (const Reply& r : hung) {
    EXPECT_EQ(r.status, 504) << r.raw;
    EXPECT_EQ(ErrorCodeOf(r), "deadline_exceeded") << r.raw;
    EXPECT_THAT(ErrorMessageOf(r), HasSubstr("Ollama: no answer from 127.0.0.1")) << r.raw;
    EXPECT_THAT(ErrorMessageOf(r), HasSubstr("in time")) << r.raw;
    EXPECT_GE(r.took, kDeadline - 100ms) << Seconds(r.took) << " s";
    EXPECT_LE(r.took, kDeadline + kSlack) << Seconds(r.took) << " s";
  }
  // ...and the server closed its side of every stalled connection when it gave up.
  const auto all_closed_by = Steady::now() + 5s;
  while (Steady::now() < all_closed_by) {
    const auto stalled = model.stalled();
    if (std::all_of(stalled.begin(), stalled.end(),
                    [](const Stalled& s) { return s.closed.has_value(); })) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  const std::vector<Stalled> stalled = model.stalled();
  ASSERT_EQ(stalled.size(), static_cast<size_t>(kFailureThreshold));
  std::set<Behaviour> kinds;
  for (const Stalled& s : stalled) {
    kinds.insert(s.behaviour);
    ASSERT_TRUE(s.closed.has_value()) << "a stalled connection was never closed by the server";
    EXPECT_GE(*s.closed - s.asked, kDeadline - 100ms) << Seconds(*s.closed - s.asked) << " s";
    EXPECT_LE(*s.closed - s.asked, kDeadline + kSlack) << Seconds(*s.closed - s.asked) << " s";
  }
  EXPECT_EQ(kinds.size(), 3u);
  // The probes ran while the calls hung: at least a round of them was over before the first
  // stalled connection was given up.
  const Steady::time_point first_closed =
      std::min_element(stalled.begin(), stalled.end(), [](const Stalled& a, const Stalled& b) {
        return *a.closed < *b.closed;
      })->closed.value();
  EXPECT_GE(std::count_if(probes.begin(), probes.end(),
                          [&](const Probe& p) { return p.done < first_closed; }),
            3);
  const int requests_when_opened = model.requests();
  EXPECT_EQ(requests_when_opened, 1 + kFailureThreshold);

  // --- The breaker is open: model questions are refused at once, the provider is not asked.
  EXPECT_EQ(breaker_state(), 1.0);
  for (int i = 0; i < 2; ++i) {
    Reply refused = Ask(port, kModelQuestions[4 + i]);
    EXPECT_EQ(refused.status, 503) << refused.raw;
    EXPECT_EQ(ErrorCodeOf(refused), "unavailable") << refused.raw;
    EXPECT_THAT(ErrorMessageOf(refused), HasSubstr("unavailable after repeated failures"))
        << refused.raw;
    // Not the bulkhead's refusal: its places were given back.
    EXPECT_THAT(ErrorMessageOf(refused), Not(HasSubstr("at capacity"))) << refused.raw;
    EXPECT_LT(refused.took, kFast) << Seconds(refused.took) << " s";
  }
  EXPECT_EQ(model.requests(), requests_when_opened);
  Reply health = Get(port, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_LT(health.took, kFast);

  // No thread is left behind: the count comes back to the baseline.
  size_t threads = ThreadsOf(server->pid());
  for (auto until = Steady::now() + 5s; threads > baseline_threads && Steady::now() < until;) {
    std::this_thread::sleep_for(50ms);
    threads = ThreadsOf(server->pid());
  }
  EXPECT_LE(threads, baseline_threads);
  RecordProperty("threads_baseline", static_cast<int>(baseline_threads));
  RecordProperty("threads_after", static_cast<int>(threads));

  // --- The provider answers again. After reset_timeout_secs one trial call closes the breaker.
  model.Behave({}, Behaviour::kAnswer);
  const auto opened =
      std::max_element(stalled.begin(), stalled.end(), [](const Stalled& a, const Stalled& b) {
        return *a.closed < *b.closed;
      })->closed.value();
  std::this_thread::sleep_until(opened + std::chrono::seconds(kResetTimeoutSecs) + 200ms);
  Reply trial = Ask(port, kModelQuestions[4]);
  // The breaker's own clock started a moment after the connection closed.
  for (auto until = Steady::now() + 5s; trial.status == 503 && Steady::now() < until;) {
    std::this_thread::sleep_for(200ms);
    trial = Ask(port, kModelQuestions[4]);
  }
  EXPECT_EQ(trial.status, 200) << trial.raw;
  EXPECT_EQ(SourceOf(trial), "llm") << trial.raw;
  EXPECT_EQ(breaker_state(), 0.0);

  // Every place in the bulkhead is free: as many model questions at once as it allows are all
  // taken (the stand-in holds each answer until all of them have arrived).
  model.HoldAnswers(kBulkhead);
  std::vector<Reply> together(kBulkhead);
  std::vector<std::thread> concurrent;
  for (int i = 0; i < kBulkhead; ++i) {
    concurrent.emplace_back(
        [&, i] { together[static_cast<size_t>(i)] = Ask(port, kModelQuestions[5 + i]); });
  }
  for (std::thread& t : concurrent) t.join();
  for (const Reply& r : together) {
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(SourceOf(r), "llm") << r.raw;
  }

  // Stopping finds nothing in flight and nothing to cut off.
  EXPECT_EQ(server->Stop(), 0);
  bool stopped_line = false;
  for (const std::string& line : text::Split(testing::ReadFile(dir.path() / "out.log"), '\n')) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("message", "") != "stopped") continue;
    stopped_line = true;
    EXPECT_EQ(j.value("requests_in_flight_at_signal", -1), 0) << line;
    EXPECT_EQ(j.value("requests_cut_off", -1), 0) << line;
  }
  EXPECT_TRUE(stopped_line) << testing::ReadFile(dir.path() / "out.log");
}

}  // namespace
}  // namespace helios::app
