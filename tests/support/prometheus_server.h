// A real Prometheus (Debian's prometheus package) started by a test to scrape the product's
// metrics port with deploy/alerts.yml loaded, as tests/metrics needs it. Header-only because
// it probes Prometheus over HTTP with cpp-httplib, which helios_test_support does not link:
// include it only from test binaries that link PkgConfig::HTTPLIB. Not thread-safe; one per
// test.
#pragma once

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/text.h"
#include "support/child_process.h"
#include "support/loopback.h"

namespace helios::testing {

// The last `lines` lines of a file, for failure messages.
inline std::string TailOfFile(const std::filesystem::path& path, size_t lines = 30) {
  std::vector<std::string> all = text::Split(ReadFile(path), '\n');
  size_t from = all.size() > lines ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

struct StartedPrometheus {
  std::unique_ptr<ChildProcess> process;  // null when it did not start
  int port = 0;                           // its HTTP API on 127.0.0.1
};

// Starts Prometheus in `dir` (prometheus.yml, tsdb-N/, prometheus.out and .err there), scraping
// 127.0.0.1:metrics_port every second as job `job` and evaluating deploy/alerts.yml every
// second, and waits up to 60 s until /-/ready answers. The port is picked free, then bound by
// Prometheus: another process may take it in between, so a Prometheus that exits at once is
// tried again on another port, three times in all. On failure the process is null and *error
// says why.
inline StartedPrometheus StartPrometheus(const std::filesystem::path& dir, int metrics_port,
                                         std::string_view job, std::string* error) {
  using namespace std::chrono_literals;
  StartedPrometheus started;
  auto prometheus = FindProgram("prometheus");
  if (!prometheus) {
    *error =
        "prometheus is not on PATH: install Debian's prometheus package (scripts/setup.sh --test)";
    return started;
  }
  const std::filesystem::path rules =
      std::filesystem::path(HELIOS_SOURCE_DIR) / "deploy" / "alerts.yml";
  // JSON strings are valid YAML scalars, whatever the path holds.
  WriteFile(dir / "prometheus.yml",
            fmt::format("global:\n"
                        "  scrape_interval: 1s\n"
                        "  scrape_timeout: 1s\n"
                        "  evaluation_interval: 1s\n"
                        "rule_files:\n"
                        "  - {}\n"
                        "scrape_configs:\n"
                        "  - job_name: {}\n"
                        "    static_configs:\n"
                        "      - targets: [\"127.0.0.1:{}\"]\n",
                        nlohmann::json(rules.string()).dump(), job, metrics_port));
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreeLoopbackPort();
    if (port <= 0) {
      *error = "no free port on 127.0.0.1 for prometheus";
      return started;
    }
    auto child = ChildProcess::Start(
        {{prometheus->string(), "--config.file=" + (dir / "prometheus.yml").string(),
          "--storage.tsdb.path=" + (dir / fmt::format("tsdb-{}", attempt)).string(),
          fmt::format("--web.listen-address=127.0.0.1:{}", port)},
         ChildEnvironment(),
         "/dev/null",
         dir / "prometheus.out",
         dir / "prometheus.err",
         {}},
        error);
    if (child == nullptr) return started;
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5s);
    client.set_read_timeout(30s);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline && !child->Exited()) {
      if (auto res = client.Get("/-/ready"); res && res->status == 200) {
        started.process = std::move(child);
        started.port = port;
        return started;
      }
      std::this_thread::sleep_for(200ms);
    }
    if (!child->Exited()) {
      *error = "prometheus did not become ready in 60 s\n" + TailOfFile(dir / "prometheus.err");
      return started;
    }
  }
  *error = "prometheus exited at start-up\n" + TailOfFile(dir / "prometheus.err");
  return started;
}

// An instant query through Prometheus' HTTP API: the result vector, or nullopt with what went
// wrong in *detail. On success *detail holds the result, for failure messages.
inline std::optional<nlohmann::json> PrometheusInstantQuery(httplib::Client& client,
                                                            const std::string& expr,
                                                            std::string* detail) {
  auto res = client.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
  if (!res) {
    *detail = "query failed: " + httplib::to_string(res.error());
    return std::nullopt;
  }
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object() || body.value("status", "") != "success") {
    *detail = fmt::format("HTTP {}: {}", res->status, res->body);
    return std::nullopt;
  }
  *detail = body["data"]["result"].dump();
  return body["data"]["result"];
}

}  // namespace helios::testing
