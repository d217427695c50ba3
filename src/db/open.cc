#include "db/open.h"

#include <fmt/format.h>

#include <cctype>

#include "common/text.h"
#include "db/mysql/mysql_data_source.h"
#include "db/postgres/postgres_data_source.h"
#include "db/sqlite/sqlite_data_source.h"

namespace helios::db {
namespace {

constexpr std::string_view kAcceptedForms =
    "use postgresql://user:password@host:port/db, mysql://user:password@host:port/db (or "
    "mariadb://), sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite:relative.db or "
    "a file path ending in .db, .sqlite or .sqlite3";

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         text::EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// The scheme of "scheme://...", lowercased; empty when there is none.
std::string SchemeOf(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return "";
  for (char ch : url.substr(0, sep)) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && ch != '+' && ch != '-' && ch != '.') return "";
  }
  return text::ToLower(url.substr(0, sep));
}

Result<std::unique_ptr<DataSource>> OpenSqlite(std::string_view path, const OpenOptions& options) {
  if (path.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the SQLite URL names no file; {}", kAcceptedForms));
  if (path == ":memory:" || text::StartsWith(path, "file::memory:"))
    return Fail(ErrorCode::kInvalidArgument, "in-memory SQLite databases cannot be queried");
  SqliteOptions sqlite;
  sqlite.pool_size = options.pool_size;
  sqlite.acquire_timeout = options.acquire_timeout;
  sqlite.busy_timeout = options.busy_timeout;
  sqlite.clock = options.clock;
  auto source = SqliteDataSource::Open(std::string(path), sqlite);
  if (!source) return std::unexpected(source.error());
  return std::unique_ptr<DataSource>(std::move(*source));
}

}  // namespace

Result<std::unique_ptr<DataSource>> OpenDataSource(std::string_view url,
                                                   const OpenOptions& options) {
  const std::string trimmed = text::Trim(url);
  const std::string_view u = trimmed;
  if (u.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("no database URL was given; {}", kAcceptedForms));

  if (u.size() >= 7 && text::EqualsIgnoreCase(u.substr(0, 7), "sqlite:")) {
    std::string_view rest = u.substr(7);
    // sqlite:///abs/path -> /abs/path, sqlite://rel/path -> rel/path, sqlite:rel -> rel.
    if (text::StartsWith(rest, "//")) rest.remove_prefix(2);
    return OpenSqlite(rest, options);
  }

  const std::string scheme = SchemeOf(u);
  if (scheme == "postgresql" || scheme == "postgres" || text::StartsWith(scheme, "postgresql+")) {
    // "postgresql+psycopg://" (a driver name from other tools' URLs) is plain PostgreSQL here.
    std::string libpq_url(u);
    if (scheme.find('+') != std::string::npos)
      libpq_url = "postgresql" + libpq_url.substr(scheme.size());
    auto source = PostgresDataSource::Open(libpq_url, options);
    if (!source) return std::unexpected(source.error());
    return std::unique_ptr<DataSource>(std::move(*source));
  }
  if (scheme == "mysql" || scheme == "mariadb" || text::StartsWith(scheme, "mysql+")) {
    std::string mysql_url(u);
    if (scheme.find('+') != std::string::npos)
      mysql_url = "mysql" + mysql_url.substr(scheme.size());
    auto source = MysqlDataSource::Open(mysql_url, options);
    if (!source) return std::unexpected(source.error());
    return std::unique_ptr<DataSource>(std::move(*source));
  }
  if (scheme.empty() && (EndsWithIgnoreCase(u, ".db") || EndsWithIgnoreCase(u, ".sqlite") ||
                         EndsWithIgnoreCase(u, ".sqlite3")))
    return OpenSqlite(u, options);

  // The URL itself is not repeated: it may hold a password or a private path.
  if (!scheme.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unsupported database URL scheme '{}'; {}", scheme, kAcceptedForms));
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unrecognised database URL; {}", kAcceptedForms));
}

}  // namespace helios::db
