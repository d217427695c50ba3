#include "support/sqlite_file.h"

#include <sqlite3.h>

namespace helios::testing {

std::string ExecSqlite(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string error = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return error;
  }
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string error = rc == SQLITE_OK ? "" : (message ? message : "failed");
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

}  // namespace helios::testing
