// The PostgreSQL and MariaDB servers of the test run, started by the CTest fixture
// "test_databases" (scripts/test-databases.sh) with the demo data loaded, and private servers
// for tests that stop and restart theirs (scripts/dbserver.sh).
#pragma once

#include <optional>
#include <string>

#include "common/error.h"

namespace helios::testing {

enum class ServerKind { kPostgres, kMariadb };

struct TestServer {
  ServerKind kind = ServerKind::kPostgres;
  std::string dir;         // the server's directory (scripts/dbserver.sh DIR)
  std::string admin_url;   // owner of the database "helios": may write
  std::string reader_url;  // helios_reader: SELECT only (what the product should use)
};

// The fixture's server; an error saying how to start it when it is not running.
Result<TestServer> SharedServer(ServerKind kind);

// "postgres" or "mariadb", as scripts/dbserver.sh names them.
const char* ServerName(ServerKind kind);

// A server of the test's own in `dir` (created on first start). Stop and Start keep its port
// and data, so a data source can be shown to reconnect after a restart.
Result<TestServer> StartPrivateServer(ServerKind kind, const std::string& dir);
Result<void> StopPrivateServer(ServerKind kind, const std::string& dir);

// Runs scripts/dbserver.sh with these arguments; its output on failure.
Result<std::string> RunDbServerScript(const std::string& action, ServerKind kind,
                                      const std::string& dir, const std::string& extra = "");

}  // namespace helios::testing
