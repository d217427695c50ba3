// The users file: who may log in, their tenant and roles, and their Argon2id password hashes.
//
//   {"users": [{"username": "alice", "tenant": "acme", "roles": ["analyst"],
//               "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$...$..."}]}
//
// UserStore is the file as a value: load, edit (Add, Remove), save. Saving is atomic (a temp
// file in the same directory, fsync, rename, fsync of the directory) with mode 0600, so a
// reader sees either the old file or the new one, never half of one. `heliosdb-conversational-bi
// user ...` edits the file; the server reads it through UserDirectory, which picks up changes
// without a restart.
//
// Roles: "analyst" may ask questions; "admin" may do everything (it implies every other role).
// Other role names are allowed and mean whatever the routes that check them say.
//
// Thread-safety: UserStore is a plain value (not synchronised). UserDirectory is thread-safe:
// one mutex guards its snapshot pointer and bookkeeping, and the file is read outside it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace helios::auth {

inline constexpr std::string_view kRoleAnalyst = "analyst";
inline constexpr std::string_view kRoleAdmin = "admin";

struct User {
  std::string username;
  std::string tenant;
  std::vector<std::string> roles;  // at least one, no repeats
  std::string password_hash;       // an Argon2id encoding (auth/password.h)

  bool operator==(const User&) const = default;
};

// 1..64 characters of A-Z a-z 0-9 . _ @ -
bool IsValidUsername(std::string_view username);
// 1..64 characters of A-Z a-z 0-9 . _ -
bool IsValidTenant(std::string_view tenant);
// 1..32 characters of a-z _
bool IsValidRole(std::string_view role);

// Checks every field of one entry: the syntax rules above, at least one role and no repeated
// role, and a well-formed Argon2id hash. kInvalidArgument naming the field.
Result<void> ValidateUser(const User& user);

class UserStore {
 public:
  UserStore() = default;

  // Reads the users file. Errors name the file: kNotFound when it does not exist, kUnavailable
  // when it cannot be read, kInvalidArgument for bad JSON, a bad entry (by index and username)
  // or a repeated username.
  static Result<UserStore> Load(const std::string& path);
  // Parses the file's text; source_name stands for the file in messages.
  static Result<UserStore> Parse(std::string_view json_text, std::string_view source_name);

  // Appends a user. kInvalidArgument for an invalid entry or a username already present.
  Result<void> Add(User user);
  // kNotFound for an unknown username.
  Result<void> Remove(std::string_view username);
  // nullptr when absent. The pointer is valid until the store is next modified.
  const User* Find(std::string_view username) const;
  // In file order.
  const std::vector<User>& List() const { return users_; }

  // The file's text: pretty-printed JSON ending in a newline.
  std::string ToJson() const;
  // Atomically replaces the file at path (creating it when missing) with ToJson(), mode 0600.
  // On failure the previous file is untouched and no temp file is left behind.
  Result<void> Save(const std::string& path) const;

 private:
  std::vector<User> users_;
};

// An exclusive advisory lock (flock) on "<users file>.lock", held while a command reads, edits
// and saves the users file, so that two edits at once cannot lose one another. The server only
// reads the file and never takes it.
class UsersFileLock {
 public:
  // Blocks until the lock is held. kUnavailable when the lock file cannot be opened.
  static Result<UsersFileLock> Acquire(const std::string& users_file);
  UsersFileLock(UsersFileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UsersFileLock& operator=(UsersFileLock&&) = delete;
  UsersFileLock(const UsersFileLock&) = delete;
  ~UsersFileLock();

 private:
  explicit UsersFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct UserDirectoryOptions {
  // The file's modification time, size and identity are checked at most this often.
  std::chrono::milliseconds check_interval{1000};
  // Called (outside the lock) each time a changed file fails to load; the previous users stay
  // in force. Typically logs the error.
  std::function<void(const Error&)> on_reload_error;
};

// The users the server checks logins and tokens against: an immutable snapshot of the users
// file, replaced when the file changes. A changed file that fails to load is reported and
// ignored (the last good snapshot stays) until the file changes again.
class UserDirectory {
 public:
  // Loads path; fails as UserStore::Load does. The clock paces the change checks.
  static Result<std::unique_ptr<UserDirectory>> Open(std::string path, const Clock& clock,
                                                     UserDirectoryOptions options = {});

  // The user as of the latest good file (checking for changes first when due).
  std::optional<User> Find(std::string_view username);
  // All users, as of the latest good file (checking for changes first when due).
  std::shared_ptr<const UserStore> Snapshot();
  // Reads the file now, whether or not it looks changed (an operator's reload, SIGHUP), and
  // returns how many users it holds. On failure the previous users stay in force and the
  // error (as UserStore::Load's) is returned, not passed to on_reload_error.
  Result<size_t> Reload();
  // Why the latest changed file was refused; nullopt once a good file has loaded since.
  std::optional<Error> LastReloadError() const;
  const std::string& path() const { return path_; }

 private:
  // What identifies one version of the file without reading it.
  struct FileStamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    timespec mtime{};
    bool operator==(const FileStamp& o) const;
  };

  UserDirectory(std::string path, const Clock& clock, UserDirectoryOptions options,
                std::shared_ptr<const UserStore> users, FileStamp stamp);
  static FileStamp StampOf(const struct stat& st);
  void MaybeReload();

  const std::string path_;
  const Clock& clock_;
  const UserDirectoryOptions options_;

  mutable std::mutex mu_;
  std::shared_ptr<const UserStore> users_;  // guarded by mu_
  FileStamp stamp_;  // guarded by mu_: the file users_ (or an error) came from
  std::chrono::steady_clock::time_point last_check_;  // guarded by mu_
  std::optional<Error> last_error_;                   // guarded by mu_
  bool reloading_ = false;  // guarded by mu_: a check is under way (outside the lock)
};

}  // namespace helios::auth
