// Test helpers for llm/: a fake HTTP API on loopback (cpp-httplib, port 0) that records every
// request, checks it the way the real API would and answers from a script; and a harness that
// builds a provider from a config::LlmConfig pointed at it, with the real CurlTransport, a
// FakeClock and a Sleeper that advances the clock instead of sleeping.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "llm/factory.h"
#include "llm/http_transport.h"
#include "llm/provider.h"
#include "support/secret_capture.h"

namespace helios::llm::testing {

// An API key that must never show up in an error message or in the process's output.
inline constexpr const char* kApiKey = "sk-test-Zq3vR8xW1yT5uN0pL7mK2jH4-secret";

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Hold the answer until the server shuts down (at most 10 s): an answer that comes too late.
  bool hang = false;
};

inline Reply JsonReply(int status, const nlohmann::json& body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  return Reply{status, body.dump(), "application/json", std::move(headers), false};
}

struct Seen {
  std::string method;
  std::string path;
  std::string body;
  httplib::Headers headers;  // case-insensitive names
  int remote_port = 0;

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool HasHeader(const std::string& name) const { return headers.find(name) != headers.end(); }
  nlohmann::json Json() const {
    return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
};

class FakeServer {
 public:
  // Inspects a request like the real API; returns the API's error answer when something is
  // wrong, nullopt when the request is fine.
  using Check = std::function<std::optional<Reply>(const httplib::Request&)>;

  // Requests that pass `check` get the scripted replies in order, then `success`.
  FakeServer(Check check, Reply success) : check_(std::move(check)), success_(std::move(success)) {
    // libcurl honours the proxy variables; a developer's http_proxy must not capture loopback.
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
    ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      Handle(request, response);
    };
    // A client that keeps an idle connection open delays stop() by up to this long.
    server_.set_keep_alive_timeout(1);
    server_.Post(".*", handler);
    server_.Get(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op before the accept loop runs, so wait for it.
    while (!server_.is_running()) std::this_thread::yield();
  }

  ~FakeServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    released_.notify_all();
    server_.stop();
    thread_.join();
  }

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Script(Reply reply) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(reply));
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

  Seen last() const {
    std::lock_guard lock(mu_);
    return seen_.empty() ? Seen{} : seen_.back();
  }

 private:
  void Handle(const httplib::Request& request, httplib::Response& response) {
    Reply reply;
    {
      std::unique_lock lock(mu_);
      seen_.push_back(
          Seen{request.method, request.path, request.body, request.headers, request.remote_port});
      if (auto error = check_(request)) {
        reply = std::move(*error);
      } else if (!script_.empty()) {
        reply = std::move(script_.front());
        script_.pop_front();
      } else {
        reply = success_;
      }
      if (reply.hang) {
        released_.wait_for(lock, std::chrono::seconds(10), [this] { return stopping_; });
      }
    }
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) response.set_header(name, value);
    response.set_content(reply.body, reply.content_type);
  }

  Check check_;
  Reply success_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  bool stopping_ = false;
  std::deque<Reply> script_;
  std::vector<Seen> seen_;
};

// A provider built through the factory, talking real HTTP to a fake server, with fake time.
class Harness {
 public:
  Harness() : transport_(MakeCurlTransport()) {
    helios::testing::RegisterSecretForScan(kApiKey);
    config.api_key = config::Secret(kApiKey);
    config.max_retries = 3;
    config.timeout = std::chrono::seconds(30);
  }

  // Builds the provider; the test fails when the factory refuses the configuration.
  std::unique_ptr<LlmProvider> Make() {
    auto sleeper = [this](std::chrono::milliseconds wait) {
      waits.push_back(wait);
      clock.Advance(wait);
    };
    auto made = MakeProvider(config, *transport_, clock, sleeper, [] { return 0.5; });
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message);
    return made ? std::move(*made) : nullptr;
  }

  // The conversation a text-to-SQL prompt sends: a system message asking for JSON, a question.
  CompletionRequest Request() const {
    CompletionRequest request;
    request.messages = {
        {Role::kSystem,
         "Translate the question into one SQLite SELECT statement. Answer with a JSON object "
         "{\"sql\": ..., \"explanation\": ...}."},
        {Role::kUser, "How many customers are there?"}};
    request.max_tokens = 400;
    request.temperature = 0.1;
    request.json_object = true;
    request.deadline = clock.Steady() + std::chrono::seconds(60);
    return request;
  }

  FakeClock clock;
  config::LlmConfig config;
  std::vector<std::chrono::milliseconds> waits;

 private:
  std::unique_ptr<HttpTransport> transport_;
};

// A loopback port nothing listens on: bound, then closed again.
inline int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

// The request's body as JSON; discarded when it is not JSON.
inline nlohmann::json BodyOf(const httplib::Request& request) {
  return nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
}

}  // namespace helios::llm::testing
