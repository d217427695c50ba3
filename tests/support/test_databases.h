// The PostgreSQL and MariaDB servers of the test run, started by the CTest fixture
// "test_databases" (scripts/test-databases.sh) with the demo data loaded, and private servers
// for tests that stop and restart theirs (scripts/dbserver.sh).
#pragma once

#include <optional>
#include <string>

#include "common/error.h"

namespace helios::testing {

enum class ServerKind { kPostgres, kMariadb, kRedis };

struct TestServer {
  ServerKind kind = ServerKind::kPostgres;
  std::string dir;         // the server's directory (scripts/dbserver.sh DIR)
  std::string admin_url;   // owner of the database "helios": may write
  std::string reader_url;  // helios_reader: SELECT only (what the product should use)
};

// The fixture's server; an error saying how to start it when it is not running.
Result<TestServer> SharedServer(ServerKind kind);

// "postgres", "mariadb" or "redis", as scripts/dbserver.sh names them.
const char* ServerName(ServerKind kind);

// A server of the test's own in `dir` (created on first start). Stop and Start keep its port
// and data, so a data source can be shown to reconnect after a restart.
Result<TestServer> StartPrivateServer(ServerKind kind, const std::string& dir);
Result<void> StopPrivateServer(ServerKind kind, const std::string& dir);

// Runs scripts/dbserver.sh with these arguments; its output on failure.
Result<std::string> RunDbServerScript(const std::string& action, ServerKind kind,
                                      const std::string& dir, const std::string& extra = "");

// A private Redis server (scripts/dbserver.sh start redis DIR): its URL carries a random
// password. Stop and Start keep the port, so clients can be shown to reconnect.
Result<std::string> StartPrivateRedis(const std::string& dir);
Result<void> StopPrivateRedis(const std::string& dir);

// A Redis server in a temporary directory for one test, stopped when this goes.
class ScopedRedis {
 public:
  ScopedRedis();
  ~ScopedRedis();
  ScopedRedis(const ScopedRedis&) = delete;
  ScopedRedis& operator=(const ScopedRedis&) = delete;
  // The start's outcome: the URL, or why the server did not start.
  const Result<std::string>& url() const { return url_; }
  Result<void> Stop();
  Result<void> Start();
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  Result<std::string> url_;
};

}  // namespace helios::testing
