#include "auth/user_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "auth/password.h"

namespace helios::auth {
namespace {

using nlohmann::json;

// A users file larger than this is refused rather than read (it would hold ~50,000 users).
constexpr off_t kMaxFileBytes = 16 << 20;

bool AllOf(std::string_view s, size_t max_len, bool (*allowed)(char)) {
  return !s.empty() && s.size() <= max_len && std::all_of(s.begin(), s.end(), allowed);
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string ErrnoText(int err) { return std::strerror(err); }

// The file's bytes and its status as of the read (fstat of the open descriptor).
struct FileContents {
  std::string text;
  struct stat st {};
};

Result<FileContents> ReadUsersFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Fail(ErrorCode::kNotFound, fmt::format("users file {} not found (create it with "
                                                    "`heliosdb-conversational-bi user add`)",
                                                    path));
    }
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot read users file {}: {}", path, ErrnoText(err)));
  }
  FileContents out;
  auto fail = [&](ErrorCode code, std::string message) {
    ::close(fd);
    return Fail(code, std::move(message));
  };
  if (::fstat(fd, &out.st) != 0) {
    return fail(ErrorCode::kUnavailable,
                fmt::format("cannot read users file {}: {}", path, ErrnoText(errno)));
  }
  if (!S_ISREG(out.st.st_mode)) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("users file {} is not a regular file", path));
  }
  if (out.st.st_size > kMaxFileBytes) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("users file {} is larger than {} bytes", path, kMaxFileBytes));
  }
  out.text.reserve(static_cast<size_t>(out.st.st_size));
  char buffer[1 << 14];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fail(ErrorCode::kUnavailable,
                  fmt::format("cannot read users file {}: {}", path, ErrnoText(errno)));
    }
    if (n == 0) break;
    out.text.append(buffer, static_cast<size_t>(n));
    if (out.text.size() > static_cast<size_t>(kMaxFileBytes)) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("users file {} is larger than {} bytes", path, kMaxFileBytes));
    }
  }
  ::close(fd);
  return out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is for people.
std::string JsonErrorText(const json::exception& e) {
  std::string_view what = e.what();
  if (what.starts_with("[json.exception.")) {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

// Reads one entry of "users"; the message says what is wrong (the caller adds where).
Result<User> ParseEntry(const json& entry) {
  if (!entry.is_object()) return Fail(ErrorCode::kInvalidArgument, "must be an object");
  User user;
  for (const auto& [key, value] : entry.items()) {
    if (key == "username" || key == "tenant" || key == "password_hash") {
      if (!value.is_string()) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must be a string", key));
      }
      std::string& field = key == "username" ? user.username
                           : key == "tenant" ? user.tenant
                                             : user.password_hash;
      field = value.get<std::string>();
    } else if (key == "roles") {
      if (!value.is_array()) {
        return Fail(ErrorCode::kInvalidArgument, "roles must be an array of strings");
      }
      for (const auto& role : value) {
        if (!role.is_string()) {
          return Fail(ErrorCode::kInvalidArgument, "roles must be an array of strings");
        }
        user.roles.push_back(role.get<std::string>());
      }
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unknown key \"{}\" (expected username, tenant, roles, "
                              "password_hash)",
                              key));
    }
  }
  for (const char* key : {"username", "tenant", "roles", "password_hash"}) {
    if (!entry.contains(key)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is missing", key));
    }
  }
  if (auto valid = ValidateUser(user); !valid) return std::unexpected(valid.error());
  return user;
}

// Writes all of data to fd, retrying short writes.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

bool IsValidUsername(std::string_view username) {
  return AllOf(username, 64,
               [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '@' || c == '-'; });
}

bool IsValidTenant(std::string_view tenant) {
  return AllOf(tenant, 64, [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool IsValidRole(std::string_view role) {
  return AllOf(role, 32, [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

Result<void> ValidateUser(const User& user) {
  if (!IsValidUsername(user.username)) {
    return Fail(ErrorCode::kInvalidArgument,
                "username must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
  }
  if (!IsValidTenant(user.tenant)) {
    return Fail(ErrorCode::kInvalidArgument, "tenant must be 1-64 characters of A-Z a-z 0-9 . _ -");
  }
  if (user.roles.empty()) return Fail(ErrorCode::kInvalidArgument, "at least one role is needed");
  std::set<std::string_view> seen;
  for (const auto& role : user.roles) {
    if (!IsValidRole(role)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("role \"{}\" must be 1-32 characters of a-z _", role));
    }
    if (!seen.insert(role).second) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("role \"{}\" is listed twice", role));
    }
  }
  if (!ParsePasswordHash(user.password_hash)) {
    return Fail(ErrorCode::kInvalidArgument, "password_hash is not a valid Argon2id hash");
  }
  return {};
}

Result<UserStore> UserStore::Load(const std::string& path) {
  auto contents = ReadUsersFile(path);
  if (!contents) return std::unexpected(contents.error());
  return Parse(contents->text, path);
}

Result<UserStore> UserStore::Parse(std::string_view json_text, std::string_view source_name) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: not valid JSON: {}", source_name, JsonErrorText(e)));
  }
  if (!doc.is_object() || !doc.contains("users") || !doc["users"].is_array()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: expected an object {{\"users\": [...]}}", source_name));
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "users") {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: unknown key \"{}\" (expected only \"users\")", source_name, key));
    }
  }
  UserStore store;
  const json& users = doc["users"];
  for (size_t i = 0; i < users.size(); ++i) {
    auto user = ParseEntry(users[i]);
    if (!user) {
      std::string where = fmt::format("users[{}]", i);
      // Name the entry when its username is at least a string a person would recognise.
      if (users[i].is_object() && users[i].contains("username") &&
          users[i]["username"].is_string()) {
        const std::string name = users[i]["username"].get<std::string>();
        if (IsValidUsername(name)) where += fmt::format(" (\"{}\")", name);
      }
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: {}: {}", source_name, where, user.error().message));
    }
    for (size_t j = 0; j < store.users_.size(); ++j) {
      if (store.users_[j].username == user->username) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: users[{}]: user \"{}\" is already defined by users[{}]",
                                source_name, i, user->username, j));
      }
    }
    store.users_.push_back(std::move(*user));
  }
  return store;
}

Result<void> UserStore::Add(User user) {
  if (auto valid = ValidateUser(user); !valid) return valid;
  if (Find(user.username) != nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("user \"{}\" already exists", user.username));
  }
  users_.push_back(std::move(user));
  return {};
}

Result<void> UserStore::Remove(std::string_view username) {
  auto it = std::find_if(users_.begin(), users_.end(),
                         [&](const User& u) { return u.username == username; });
  if (it == users_.end()) {
    return Fail(ErrorCode::kNotFound, fmt::format("no user named \"{}\"", username));
  }
  users_.erase(it);
  return {};
}

const User* UserStore::Find(std::string_view username) const {
  for (const auto& u : users_) {
    if (u.username == username) return &u;
  }
  return nullptr;
}

std::string UserStore::ToJson() const {
  nlohmann::ordered_json users = nlohmann::ordered_json::array();
  for (const auto& u : users_) {
    nlohmann::ordered_json entry;
    entry["username"] = u.username;
    entry["tenant"] = u.tenant;
    entry["roles"] = u.roles;
    entry["password_hash"] = u.password_hash;
    users.push_back(std::move(entry));
  }
  nlohmann::ordered_json doc;
  doc["users"] = std::move(users);
  return doc.dump(2) + "\n";
}

Result<void> UserStore::Save(const std::string& path) const {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.filename().empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("users file {} names no file", path));
  }
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const std::string text = ToJson();

  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot write users file {}: {}", path, ErrnoText(errno)));
  }
  auto fail = [&](int err, std::string_view step) {
    ::unlink(temp.c_str());
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot write users file {}: {}: {}", path, step, ErrnoText(err)));
  };
  if (::fchmod(fd, 0600) != 0 || !WriteAll(fd, text) || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(err, "writing");
  }
  if (::close(fd) != 0) return fail(errno, "writing");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail(errno, "replacing");
  // Make the rename itself durable.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const int err = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return Fail(ErrorCode::kUnavailable,
                fmt::format("users file {} was replaced but its directory could not be synced: {}",
                            path, ErrnoText(err)));
  }
  ::close(dir_fd);
  return {};
}

bool UserDirectory::FileStamp::operator==(const FileStamp& o) const {
  return device == o.device && inode == o.inode && size == o.size &&
         mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
}

UserDirectory::FileStamp UserDirectory::StampOf(const struct stat& st) {
  FileStamp s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

UserDirectory::UserDirectory(std::string path, const Clock& clock, UserDirectoryOptions options,
                             std::shared_ptr<const UserStore> users, FileStamp stamp)
    : path_(std::move(path)),
      clock_(clock),
      options_(std::move(options)),
      users_(std::move(users)),
      stamp_(stamp),
      last_check_(clock.Steady()) {}

Result<std::unique_ptr<UserDirectory>> UserDirectory::Open(std::string path, const Clock& clock,
                                                           UserDirectoryOptions options) {
  auto contents = ReadUsersFile(path);
  if (!contents) return std::unexpected(contents.error());
  auto store = UserStore::Parse(contents->text, path);
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<UserDirectory>(new UserDirectory(
      std::move(path), clock, std::move(options),
      std::make_shared<const UserStore>(std::move(*store)), StampOf(contents->st)));
}

void UserDirectory::MaybeReload() {
  FileStamp known;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.Steady();
    if (reloading_ || now - last_check_ < options_.check_interval) return;
    last_check_ = now;
    reloading_ = true;
    known = stamp_;
  }
  // Outside the lock: stat, and read the file when it changed.
  FileStamp seen;  // a missing or unreadable file keeps the default stamp
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) seen = StampOf(st);
  std::optional<UserStore> loaded;
  std::optional<Error> error;
  if (!(seen == known)) {
    auto contents = ReadUsersFile(path_);
    if (contents) {
      seen = StampOf(contents->st);
      auto store = UserStore::Parse(contents->text, path_);
      if (store) {
        loaded = std::move(*store);
      } else {
        error = store.error();
      }
    } else {
      error = contents.error();
    }
  }
  {
    std::lock_guard lock(mu_);
    reloading_ = false;
    if (seen == known) return;
    stamp_ = seen;  // a bad file is reported once, not on every check
    if (loaded) {
      users_ = std::make_shared<const UserStore>(std::move(*loaded));
      last_error_.reset();
    } else {
      last_error_ = error;
    }
  }
  if (error && options_.on_reload_error) options_.on_reload_error(*error);
}

std::optional<User> UserDirectory::Find(std::string_view username) {
  auto users = Snapshot();
  const User* user = users->Find(username);
  if (user == nullptr) return std::nullopt;
  return *user;
}

std::shared_ptr<const UserStore> UserDirectory::Snapshot() {
  MaybeReload();
  std::lock_guard lock(mu_);
  return users_;
}

Result<size_t> UserDirectory::Reload() {
  auto contents = ReadUsersFile(path_);
  Result<UserStore> store = contents ? UserStore::Parse(contents->text, path_)
                                     : Result<UserStore>(std::unexpected(contents.error()));
  std::lock_guard lock(mu_);
  last_check_ = clock_.Steady();
  if (!store) {
    last_error_ = store.error();
    if (contents) stamp_ = StampOf(contents->st);  // reported now, not again by the next check
    return std::unexpected(store.error());
  }
  stamp_ = StampOf(contents->st);
  users_ = std::make_shared<const UserStore>(std::move(*store));
  last_error_.reset();
  return users_->List().size();
}

std::optional<Error> UserDirectory::LastReloadError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Result<UsersFileLock> UsersFileLock::Acquire(const std::string& users_file) {
  const std::string lock_path = users_file + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot open the lock file {}: {}", lock_path, std::strerror(errno)));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    ::close(fd);
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot lock {}: {}", lock_path, std::strerror(error)));
  }
  return UsersFileLock(fd);
}

UsersFileLock::~UsersFileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace helios::auth
