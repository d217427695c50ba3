#include "db/open.h"

#include <fmt/format.h>

#include <cctype>

#include "common/text.h"
#include "db/sqlite/sqlite_data_source.h"

namespace helios::db {
namespace {

constexpr std::string_view kAcceptedForms =
    "use sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite:relative.db or a file "
    "path ending in .db, .sqlite or .sqlite3";

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
  if (scheme == "postgresql" || scheme == "postgres" || text::StartsWith(scheme, "postgresql+"))
    return Fail(ErrorCode::kInvalidArgument,
                "PostgreSQL data sources are not supported in this version");
  if (scheme == "mysql" || scheme == "mariadb" || text::StartsWith(scheme, "mysql+"))
    return Fail(ErrorCode::kInvalidArgument,
                "MySQL and MariaDB data sources are not supported in this version");
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

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  // user:password@ before the host. A password may itself hold '@', '/' or '?', so the user
  // info runs to the last '@' (erring towards hiding too much).
  const size_t sep = out.find("://");
  if (sep != std::string::npos) {
    const size_t start = sep + 3;
    const size_t at = out.rfind('@');
    if (at != std::string::npos && at >= start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... in the query string.
  const size_t query = out.find('?');
  if (query != std::string::npos) {
    size_t pos = query + 1;
    while (pos < out.size()) {
      size_t amp = out.find('&', pos);
      if (amp == std::string::npos) amp = out.size();
      const size_t eq = out.find('=', pos);
      if (eq != std::string::npos && eq < amp) {
        const std::string key = text::ToLower(std::string_view(out).substr(pos, eq - pos));
        if (key == "password" || key == "pass" || key == "pwd" || key == "passwd") {
          out.replace(eq + 1, amp - eq - 1, "***");
          amp = out.find('&', eq + 1);
          if (amp == std::string::npos) amp = out.size();
        }
      }
      pos = amp + 1;
    }
  }
  return out;
}

}  // namespace helios::db
