// The disk for the logs is full, against the real binary: [logging] output = "/dev/full", where
// every write fails with ENOSPC. The server starts, answers /health and questions, keeps
// answering after hundreds of failed log lines, counts them in log_lines_dropped_total, says
// so once on stderr (not once per line), and stops cleanly.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/text.h"
#include "support/child_process.h"
#include "support/loopback.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

std::optional<double> SampleValue(const std::string& exposition, const std::string& series) {
  for (const std::string& line : text::Split(exposition, '\n')) {
    if (text::StartsWith(line, series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

class LogDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
    fs::copy_file(HELIOS_DEMO_DB, dir_.path() / "demo.db");
    // The log cannot say which port was bound (it goes nowhere), so the ports are chosen
    // here; another process may take one in between, hence a few tries.
    for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) Start();
    ASSERT_GT(port_, 0) << testing::ReadFile(dir_.path() / "err.log");
  }

  void Start() {
    const int port = testing::FreeLoopbackPort();
    int metrics_port = testing::FreeLoopbackPort();
    while (metrics_port == port) metrics_port = testing::FreeLoopbackPort();
    testing::WriteFile(
        dir_.path() / "server.toml",
        fmt::format("[server]\nhost = \"127.0.0.1\"\nport = {}\nworkers = 4\nweb_chat = false\n"
                    "[auth]\nenabled = false\n"
                    "[metrics]\nenabled = true\nhost = \"127.0.0.1\"\nprometheus_port = {}\n"
                    "[production.rate_limiting]\nenabled = false\n"
                    "[logging]\nlevel = \"debug\"\nformat = \"json\"\noutput = \"/dev/full\"\n"
                    "[database]\nurl = \"sqlite://{}\"\n",
                    port, metrics_port, (dir_.path() / "demo.db").string()));
    std::string error;
    server_ = testing::ChildProcess::Start({{HELIOS_BINARY, "--config", "server.toml", "serve"},
                                            testing::ChildEnvironment(),
                                            "/dev/null",
                                            dir_.path() / "out.log",
                                            dir_.path() / "err.log",
                                            dir_.path()},
                                           &error);
    ASSERT_NE(server_, nullptr) << error;
    const auto deadline = Steady::now() + 60s;
    while (Steady::now() < deadline && !server_->Exited()) {
      httplib::Client client("127.0.0.1", port);
      client.set_connection_timeout(1s);
      if (auto res = client.Get("/health"); res && res->status == 200) {
        port_ = port;
        metrics_port_ = metrics_port;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    server_.reset();
  }

  testing::TempDir dir_{"helios-log-disk-full"};
  std::unique_ptr<testing::ChildProcess> server_;
  int port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(LogDiskFullTest, TheServerKeepsServingAndCountsTheLinesItCouldNotWrite) {
  httplib::Client api("127.0.0.1", port_);
  api.set_connection_timeout(5s);
  api.set_read_timeout(30s);
  httplib::Client metrics("127.0.0.1", metrics_port_);
  metrics.set_connection_timeout(5s);
  metrics.set_read_timeout(30s);

  const char* const questions[] = {"How many customers are there?",
                                   "How many customers are in Germany?",
                                   "How many products are there?"};
  constexpr int kRounds = 150;
  int answered = 0;
  int declined = 0;
  for (int i = 0; i < kRounds; ++i) {
    auto health = api.Get("/health");
    ASSERT_TRUE(health) << "round " << i << ": " << httplib::to_string(health.error());
    ASSERT_EQ(health->status, 200);
    auto answer =
        api.Post("/api/v1/query", json({{"query", questions[i % 3]}}).dump(), "application/json");
    ASSERT_TRUE(answer) << "round " << i << ": " << httplib::to_string(answer.error());
    ASSERT_EQ(answer->status, 200) << answer->body;
    EXPECT_EQ(json::parse(answer->body).value("row_count", 0), 1) << answer->body;
    ++answered;
    // A failure is logged at WARN, with its own fields.
    auto unknown = api.Post("/api/v1/query", json({{"query", "xyzzy plugh frobnicate"}}).dump(),
                            "application/json");
    ASSERT_TRUE(unknown) << "round " << i << ": " << httplib::to_string(unknown.error());
    EXPECT_EQ(unknown->status, 422) << unknown->body;
    ++declined;
  }
  EXPECT_EQ(answered, kRounds);
  EXPECT_EQ(declined, kRounds);

  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped) << httplib::to_string(scraped.error());
  EXPECT_THAT(scraped->body, HasSubstr("# TYPE log_lines_dropped_total counter\n"));
  const std::optional<double> dropped = SampleValue(scraped->body, "log_lines_dropped_total");
  ASSERT_TRUE(dropped.has_value()) << scraped->body;
  // At least a request line for every question, and the start-up lines.
  EXPECT_GE(*dropped, 2.0 * kRounds + 3) << scraped->body;

  // Still serving, still the same process.
  EXPECT_FALSE(server_->Exited());
  auto health = api.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // One notice when the log could not be written, not one per line; no recovery (it never
  // works on /dev/full).
  const std::string err = testing::ReadFile(dir_.path() / "err.log");
  EXPECT_EQ(CountOf(err, "cannot write the log: No space left on device"), 1u) << err;
  EXPECT_THAT(err, Not(HasSubstr("the log can be written again"))) << err;
  // Nothing of the log went elsewhere.
  EXPECT_THAT(testing::ReadFile(dir_.path() / "out.log"), Not(HasSubstr("\"message\"")));

  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace helios::app
