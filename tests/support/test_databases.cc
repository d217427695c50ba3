#include "support/test_databases.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "common/text.h"
#include "support/child_process.h"
#include "support/secret_capture.h"

namespace helios::testing {
namespace {

namespace fs = std::filesystem;

std::string Trimmed(const fs::path& path) { return text::Trim(ReadFile(path)); }

Result<TestServer> ReadServer(ServerKind kind, const fs::path& dir) {
  TestServer server;
  server.kind = kind;
  server.dir = dir.string();
  server.admin_url = Trimmed(dir / "admin_url");
  server.reader_url = Trimmed(dir / "reader_url");
  if (server.admin_url.empty() || server.reader_url.empty())
    return Fail(ErrorCode::kUnavailable,
                fmt::format("no {} server in {}", ServerName(kind), server.dir));
  // Tests give these URLs to data sources in this process too, not only to child processes.
  RegisterUrlPasswordsForScan(server.admin_url);
  RegisterUrlPasswordsForScan(server.reader_url);
  return server;
}

}  // namespace

const char* ServerName(ServerKind kind) {
  switch (kind) {
    case ServerKind::kPostgres:
      return "postgres";
    case ServerKind::kMariadb:
      return "mariadb";
    case ServerKind::kRedis:
      return "redis";
  }
  return "?";
}

Result<std::string> StartPrivateRedis(const std::string& dir) {
  auto started = RunDbServerScript("start", ServerKind::kRedis, dir);
  if (!started) return std::unexpected(started.error());
  std::string url = Trimmed(fs::path(dir) / "url");
  if (url.empty()) return Fail(ErrorCode::kUnavailable, "no Redis URL in " + dir);
  RegisterUrlPasswordsForScan(url);
  return url;
}

Result<void> StopPrivateRedis(const std::string& dir) {
  auto stopped = RunDbServerScript("stop", ServerKind::kRedis, dir);
  if (!stopped) return std::unexpected(stopped.error());
  return {};
}

namespace {
std::string NewRedisDir() {
  static std::atomic<int> counter{0};
  fs::path dir = fs::temp_directory_path() /
                 fmt::format("helios-redis-{}-{}", ::getpid(), counter.fetch_add(1));
  fs::create_directories(dir);
  return dir.string();
}
}  // namespace

ScopedRedis::ScopedRedis() : dir_(NewRedisDir()), url_(StartPrivateRedis(dir_)) {}

ScopedRedis::~ScopedRedis() {
  (void)StopPrivateRedis(dir_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<void> ScopedRedis::Stop() { return StopPrivateRedis(dir_); }

Result<void> ScopedRedis::Start() {
  auto started = StartPrivateRedis(dir_);
  if (!started) return std::unexpected(started.error());
  return {};
}

Result<std::string> RunDbServerScript(const std::string& action, ServerKind kind,
                                      const std::string& dir, const std::string& extra) {
  std::vector<std::string> argv = {"/bin/bash",
                                   std::string(HELIOS_SOURCE_DIR) + "/scripts/dbserver.sh", action,
                                   ServerName(kind), dir};
  if (!extra.empty()) argv.push_back(extra);
  RunResult r = RunToCompletion(argv, fs::current_path(), ChildEnvironment());
  if (r.exit_code != 0)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("scripts/dbserver.sh {} {} failed ({}): {}{}", action, ServerName(kind),
                            r.exit_code, r.out, r.err));
  return r.out;
}

Result<TestServer> SharedServer(ServerKind kind) {
  const fs::path dir = fs::path(HELIOS_TEST_DB_DIR) / ServerName(kind);
  auto server = ReadServer(kind, dir);
  if (!server)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("the test {} server is not running: run the tests with ctest (its "
                            "fixture test_databases starts it) or scripts/test-databases.sh "
                            "start {} <binary>",
                            ServerName(kind), HELIOS_TEST_DB_DIR));
  return server;
}

Result<TestServer> StartPrivateServer(ServerKind kind, const std::string& dir) {
  // As root, PostgreSQL runs as the user "postgres", which must be able to reach `dir`
  // inside a private temporary directory.
  std::error_code ignored;
  fs::create_directories(dir, ignored);
  for (fs::path p = fs::path(dir); p.has_relative_path() && p != p.root_path(); p = p.parent_path())
    fs::permissions(p, fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add,
                    ignored);
  auto started = RunDbServerScript("start", kind, dir);
  if (!started) return std::unexpected(started.error());
  return ReadServer(kind, dir);
}

Result<void> StopPrivateServer(ServerKind kind, const std::string& dir) {
  auto stopped = RunDbServerScript("stop", kind, dir);
  if (!stopped) return std::unexpected(stopped.error());
  return {};
}

}  // namespace helios::testing
