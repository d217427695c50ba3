// helios-fakellm: a fake OpenAI-compatible chat-completions endpoint for the benchmarks
// (bench/fakellm/README.md). This file only reads the command line, prints where it listens,
// and serves until SIGINT or SIGTERM; the server is fake_llm_server.h.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "fakellm/fake_llm_server.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

// Every connection holds a descriptor, and the benchmarks open a thousand or more: the soft
// limit is often 1,024, the hard one far higher.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace fakellm = helios::fakellm;
  fakellm::ServerOptions options;
  int port = 0;
  int delay_ms = 300;
  CLI::App cli{
      "A fake OpenAI-compatible chat-completions endpoint: every request is answered "
      "with the same SQL, --delay-ms after it arrived.",
      "helios-fakellm"};
  cli.add_option("--host", options.host, "IPv4 address to listen on")->capture_default_str();
  cli.add_option("--port", port, "Port to listen on; 0 picks a free one (printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cli.add_option("--delay-ms", delay_ms, "Milliseconds from a request's arrival to its answer")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000));
  cli.add_option("--sql", options.sql,
                 "The SQL every answer carries (default: customers by country)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = cli.exit(e);
    return status == 0 ? 0 : kExitUsage;
  }
  options.port = static_cast<uint16_t>(port);
  options.delay = std::chrono::milliseconds(delay_ms);

  RaiseDescriptorLimit();
  // Blocked before the serving thread starts, so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = fakellm::FakeLlmServer::Start(options);
  if (!server) {
    fmt::print(stderr, "helios-fakellm: {}\n", server.error().message);
    return server.error().code == helios::ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  // Scripts read the port from this line.
  fmt::print("helios-fakellm listening on http://{}:{}/v1 (answers after {} ms)\n", options.host,
             (*server)->port(), delay_ms);
  std::fflush(stdout);

  std::thread serving([&] { (*server)->Run(); });
  int received = 0;
  sigwait(&signals, &received);
  (*server)->Stop();
  serving.join();
  return 0;
}
