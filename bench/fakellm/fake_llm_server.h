// helios-fakellm's server: a stand-in for an OpenAI-compatible chat-completions endpoint that
// answers every valid request a fixed delay after the request arrived complete, so that the
// product's language-model path can be loaded with hundreds of slow calls in flight without a
// real model (bench/suite.sh, scenarios llm and mixed).
//
// One thread serves every connection: nonblocking sockets, level-triggered epoll, and one timer
// queue. The delay is the same for every request, so deadlines are due in order of arrival and
// the queue is a FIFO; the loop sleeps in epoll until the first deadline. A request waiting for
// its answer costs its connection's buffers and one queue entry, not a thread, so thousands of
// keep-alive connections are cheap. Pipelined requests are answered in order.
//
// Routes:
//   POST <any path ending in /chat/completions>  the fake answer (chat_completion.h), after the
//                                                delay; 400 at once for a malformed body
//   GET  /health                                 200 at once
//   GET  /stats                                  counters as JSON, at once (Stats below)
//   POST /stats/reset                            restarts the maxima and the timer lateness
// Anything else: 404, or 405 for a known path with another method. A request that cannot be
// framed (http_request_parser.h) is answered with its status and the connection closed.
//
// Thread-safety: Run() blocks the thread that calls it; Stop() and stats() may be called from
// any thread, before, during or after Run().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"

namespace helios::fakellm {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 address
  uint16_t port = 0;               // 0: the kernel picks one (see port())
  std::chrono::milliseconds delay{300};
  std::string sql;  // empty: kDefaultSql
  std::string explanation = "The number of customers in each country.";
};

struct Stats {
  uint64_t requests = 0;       // chat completions accepted (answered, due, or dropped)
  uint64_t answered = 0;       // chat completions whose answer was written
  uint64_t rejected = 0;       // requests answered 4xx or 5xx
  uint64_t in_flight = 0;      // chat completions waiting for their delay to pass
  uint64_t max_in_flight = 0;  // since the start or the last reset
  uint64_t connections = 0;    // open now
  uint64_t max_connections = 0;
  uint64_t accepted = 0;  // connections accepted in all
  // How late the loop answered after a request's deadline, over the answers since the start or
  // the last reset: its own delay on top of the configured one.
  double late_mean_us = 0;
  double late_max_us = 0;
};

class FakeLlmServer {
 public:
  // Binds and listens; kUnavailable when the address cannot be bound, kInvalidArgument for a
  // host that is not an IPv4 address or a negative delay.
  static Result<std::unique_ptr<FakeLlmServer>> Start(ServerOptions options);
  ~FakeLlmServer();
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;

  uint16_t port() const;
  // Serves until Stop(); connections still open are closed then, their answers unsent.
  void Run();
  void Stop();
  Stats stats() const;

 private:
  class Loop;
  explicit FakeLlmServer(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace helios::fakellm
