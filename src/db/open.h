// Opens a data source from a URL, the one place that knows which schemes exist.
//
//   sqlite:///absolute/path.db   sqlite://relative/path.db   sqlite:relative.db
//   path/to/file.db (.sqlite, .sqlite3)
//   postgresql://user:password@host:port/db?sslmode=require (also postgres://; libpq's own
//     URI, so every libpq parameter such as sslrootcert or options works)
//   mysql://user:password@host:port/db?ssl-mode=REQUIRED, mariadb://... (libmariadb)
//
// Error messages never repeat a password from the URL.
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/text.h"
#include "db/data_source.h"

namespace helios::db {

struct OpenOptions {
  size_t pool_size = 4;                             // connections per data source
  size_t max_idle = 4;                              // idle connections kept open (servers)
  std::chrono::milliseconds acquire_timeout{2000};  // wait for a free connection
  std::chrono::milliseconds busy_timeout{1000};     // wait on a locked database (SQLite)
  // Time limit of the data source's own queries (introspection, sample values, pings).
  std::chrono::milliseconds internal_timeout{10000};
  // Schemas whose tables are queried, in search order (PostgreSQL search_path); empty: the
  // server's default (the role's search_path, usually "$user", public). Ignored by SQLite;
  // MySQL's is the database of the URL.
  std::vector<std::string> schemas;
  const Clock* clock = nullptr;  // statement time limits; null: system clock
};

// kInvalidArgument for an unknown or unsupported URL; otherwise the engine's own errors
// (for SQLite: kNotFound when the file does not exist, which is never created).
Result<std::unique_ptr<DataSource>> OpenDataSource(std::string_view url,
                                                   const OpenOptions& options = {});

// The URL with any password replaced (see common/text.h); safe to log or show.
using text::RedactUrl;

}  // namespace helios::db
