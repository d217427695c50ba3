// `heliosdb-conversational-bi user add|remove|list`, run as the real binary (HELIOS_BINARY) in a
// temporary directory. Standard input is fed from a file, or from a pseudo-terminal for the
// password prompt. The child's environment is the test's own minus the server's variables.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "auth/password.h"
#include "auth/user_store.h"
#include "support/child_process.h"
#include "support/secret_capture.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

const std::string kPassword = "a perfectly long password";

struct Outcome {
  int exit_code = -1;  // 128 + signal when the child was killed
  std::string out;
  std::string err;
};

using testing::ChildEnvironment;
using testing::ReadFile;
using testing::WriteFile;

// Spawns the binary with args in cwd; `stdio` opens the child's fds 0-2. Returns the pid, or
// -1 after reporting a failure.
pid_t Spawn(const std::vector<std::string>& args, const fs::path& cwd,
            posix_spawn_file_actions_t* stdio) {
  std::vector<std::string> argv_storage = {HELIOS_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<std::string> env = ChildEnvironment();
  std::vector<char*> argv, envp;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_addchdir_np(stdio, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], stdio, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn failed: " << rc;
    return -1;
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

class UserCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterSecretForScan(kPassword);
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("helios-user-cli-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "io");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs the binary in dir_ with stdin from `stdin_text` (nullopt: /dev/null).
  Outcome RunBinary(const std::vector<std::string>& args,
                    const std::optional<std::string>& stdin_text = std::nullopt) {
    const int n = runs_++;
    const fs::path in_path = dir_ / "io" / ("stdin-" + std::to_string(n));
    const fs::path out_path = dir_ / "io" / ("stdout-" + std::to_string(n));
    const fs::path err_path = dir_ / "io" / ("stderr-" + std::to_string(n));
    if (stdin_text) WriteFile(in_path, *stdin_text);
    posix_spawn_file_actions_t stdio;
    posix_spawn_file_actions_init(&stdio);
    posix_spawn_file_actions_addopen(&stdio, 0, stdin_text ? in_path.c_str() : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&stdio, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&stdio, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    const pid_t pid = Spawn(args, dir_, &stdio);
    posix_spawn_file_actions_destroy(&stdio);
    Outcome run;
    if (pid < 0) return run;
    run.exit_code = Wait(pid);
    run.out = ReadFile(out_path);
    run.err = ReadFile(err_path);
    testing::CaptureText("user-cli", run.out + run.err);
    return run;
  }

  // `user add name --tenant acme --password-stdin` plus extra args, password kPassword.
  Outcome Add(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"user", "add", name, "--tenant", "acme", "--password-stdin"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunBinary(args, kPassword + "\n");
  }

  auth::UserStore LoadUsers(const std::string& file = "users.json") {
    auto store = auth::UserStore::Load((dir_ / file).string());
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? *store : auth::UserStore();
  }

  fs::path dir_;
  int runs_ = 0;
};

TEST_F(UserCliTest, AddCreatesAPrivateFileWithAVerifiableHash) {
  ASSERT_FALSE(fs::exists(dir_ / "users.json"));
  Outcome r = Add("alice");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Added user alice"));
  EXPECT_THAT(r.out, Not(HasSubstr(kPassword)));
  EXPECT_THAT(r.err, Not(HasSubstr(kPassword)));

  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "users.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auth::UserStore store = LoadUsers();
  ASSERT_EQ(store.List().size(), 1u);
  const auth::User& alice = store.List()[0];
  EXPECT_EQ(alice.username, "alice");
  EXPECT_EQ(alice.tenant, "acme");
  EXPECT_EQ(alice.roles, std::vector<std::string>{"analyst"});  // the default role
  EXPECT_EQ(auth::ParsePasswordHash(alice.password_hash), auth::PasswordParams{});
  EXPECT_TRUE(auth::VerifyPassword(kPassword, alice.password_hash));
  EXPECT_FALSE(auth::VerifyPassword(kPassword + "\n", alice.password_hash));
}

TEST_F(UserCliTest, ConcurrentAddsLoseNoUser) {
  // Several `user add` at once, each reading, editing and saving the same file: the lock on
  // users.json.lock makes them take turns, so every user is in the file at the end.
  const fs::path password = dir_ / "io" / "password";
  WriteFile(password, kPassword + "\n");
  std::vector<pid_t> children;
  for (int i = 0; i < 6; ++i) {
    posix_spawn_file_actions_t stdio;
    posix_spawn_file_actions_init(&stdio);
    posix_spawn_file_actions_addopen(&stdio, 0, password.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&stdio, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&stdio, 2, "/dev/null", O_WRONLY, 0);
    children.push_back(
        Spawn({"user", "add", "user" + std::to_string(i), "--tenant", "acme", "--password-stdin"},
              dir_, &stdio));
    posix_spawn_file_actions_destroy(&stdio);
  }
  for (pid_t pid : children) EXPECT_EQ(Wait(pid), 0);
  auth::UserStore users = LoadUsers();
  EXPECT_EQ(users.List().size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_NE(users.Find("user" + std::to_string(i)), nullptr) << i;
}

TEST_F(UserCliTest, AddAppendsAndTakesRepeatedRoles) {
  ASSERT_EQ(Add("alice").exit_code, 0);
  Outcome r = Add("bob@example.com", {"--role", "admin", "--role", "analyst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auth::UserStore store = LoadUsers();
  ASSERT_EQ(store.List().size(), 2u);
  EXPECT_EQ(store.List()[0].username, "alice");
  EXPECT_EQ(store.List()[1].username, "bob@example.com");
  EXPECT_EQ(store.List()[1].roles, (std::vector<std::string>{"admin", "analyst"}));
}

TEST_F(UserCliTest, PasswordStdinReadsOneLineAndDropsTheLineEnding) {
  Outcome r = RunBinary({"user", "add", "carol", "--tenant", "acme", "--password-stdin"},
                        kPassword + "\r\nsecond line is ignored\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auth::UserStore store = LoadUsers();
  const auth::User* carol = store.Find("carol");
  ASSERT_NE(carol, nullptr);
  EXPECT_TRUE(auth::VerifyPassword(kPassword, carol->password_hash));

  // Without a final newline the whole input is the password.
  r = RunBinary({"user", "add", "dave", "--tenant", "acme", "--password-stdin"}, kPassword);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  store = LoadUsers();
  ASSERT_NE(store.Find("dave"), nullptr);
  EXPECT_TRUE(auth::VerifyPassword(kPassword, store.Find("dave")->password_hash));
}

TEST_F(UserCliTest, RefusesShortPasswordsWithUsageExit) {
  Outcome r = RunBinary({"user", "add", "alice", "--tenant", "acme", "--password-stdin"},
                        std::string("eleven char\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("at least 12 characters"));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));

  r = RunBinary({"user", "add", "alice", "--tenant", "acme", "--password-stdin"}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no password"));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));
}

TEST_F(UserCliTest, WithoutATerminalOrPasswordStdinAddIsAUsageError) {
  Outcome r = RunBinary({"user", "add", "alice", "--tenant", "acme"});  // stdin is /dev/null
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--password-stdin"));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));
}

TEST_F(UserCliTest, AddingAnExistingUserFailsAndChangesNothing) {
  ASSERT_EQ(Add("alice").exit_code, 0);
  const std::string before = ReadFile(dir_ / "users.json");
  Outcome r = Add("alice", {"--role", "admin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  EXPECT_EQ(ReadFile(dir_ / "users.json"), before);
}

TEST_F(UserCliTest, UsageErrorsExitWithTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"user"},
      {"user", "frobnicate"},
      {"user", "add"},
      {"user", "add", "alice"},  // no --tenant
      {"user", "add", "alice", "--tenant", "acme", "--password-stdin", "--bogus"},
      {"user", "add", "bad name", "--tenant", "acme", "--password-stdin"},
      {"user", "add", "alice", "--tenant", "bad tenant", "--password-stdin"},
      {"user", "add", "alice", "--tenant", "acme", "--role", "Admin", "--password-stdin"},
      {"user", "add", "alice", "--tenant", "acme", "--role", "admin", "--role", "admin",
       "--password-stdin"},
      {"user", "remove"},
      {"user", "list", "extra"},
  };
  for (const auto& args : cases) {
    Outcome r = RunBinary(args, kPassword + "\n");
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));
}

TEST_F(UserCliTest, ListNeverPrintsHashes) {
  ASSERT_EQ(Add("alice").exit_code, 0);
  ASSERT_EQ(Add("bob", {"--role", "admin", "--role", "analyst"}).exit_code, 0);

  Outcome text = RunBinary({"user", "list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("USERNAME"));
  EXPECT_THAT(text.out, HasSubstr("alice"));
  EXPECT_THAT(text.out, HasSubstr("admin,analyst"));
  EXPECT_THAT(text.out, Not(HasSubstr("argon2")));

  Outcome as_json = RunBinary({"user", "list", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_THAT(as_json.out, Not(HasSubstr("argon2")));
  const json doc = json::parse(as_json.out);
  ASSERT_TRUE(doc["users"].is_array());
  ASSERT_EQ(doc["users"].size(), 2u);
  EXPECT_EQ(doc["users"][0],
            json({{"username", "alice"}, {"tenant", "acme"}, {"roles", {"analyst"}}}));
  EXPECT_EQ(doc["users"][1]["roles"], json({"admin", "analyst"}));
  EXPECT_FALSE(doc["users"][1].contains("password_hash"));
}

TEST_F(UserCliTest, ListOfAnEmptyOrMissingFile) {
  WriteFile(dir_ / "users.json", R"({"users": []})");
  Outcome empty = RunBinary({"user", "list"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_THAT(empty.out, HasSubstr("No users"));
  Outcome empty_json = RunBinary({"user", "list", "--json"});
  EXPECT_EQ(empty_json.exit_code, 0);
  EXPECT_EQ(json::parse(empty_json.out), json({{"users", json::array()}}));

  Outcome missing = RunBinary({"user", "list", "--users-file", "missing.json"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("missing.json"));
  EXPECT_THAT(missing.err, HasSubstr("not found"));
}

TEST_F(UserCliTest, AnInvalidUsersFileIsAnOperationalError) {
  WriteFile(dir_ / "users.json", "{not json");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"user", "list"}, {"user", "remove", "alice"}}) {
    Outcome r = RunBinary(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("users.json"));
  }
  Outcome add = Add("alice");
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_EQ(ReadFile(dir_ / "users.json"), "{not json");
}

TEST_F(UserCliTest, RemoveDeletesTheUser) {
  ASSERT_EQ(Add("alice").exit_code, 0);
  ASSERT_EQ(Add("bob").exit_code, 0);
  Outcome r = RunBinary({"user", "remove", "alice"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Removed user alice"));
  auth::UserStore store = LoadUsers();
  ASSERT_EQ(store.List().size(), 1u);
  EXPECT_EQ(store.List()[0].username, "bob");

  Outcome again = RunBinary({"user", "remove", "alice"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("no user named \"alice\""));
  Outcome no_file = RunBinary({"user", "remove", "alice", "--users-file", "missing.json"});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "missing.json"));
}

TEST_F(UserCliTest, TheUsersFileComesFromTheConfigurationUnlessOverridden) {
  WriteFile(dir_ / "helios.toml", "[auth]\nusers_file = \"from-config.json\"\n");
  Outcome r = RunBinary(
      {"-c", "helios.toml", "user", "add", "alice", "--tenant", "acme", "--password-stdin"},
      kPassword + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "from-config.json"));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));
  // The option also works after the subcommand.
  Outcome list = RunBinary({"user", "list", "--json", "-c", "helios.toml"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["users"][0]["username"], "alice");

  Outcome overridden = RunBinary({"-c", "helios.toml", "user", "add", "bob", "--tenant", "acme",
                                  "--password-stdin", "--users-file", "flag.json"},
                                 kPassword + "\n");
  ASSERT_EQ(overridden.exit_code, 0) << overridden.err;
  EXPECT_EQ(LoadUsers("flag.json").List().size(), 1u);
  EXPECT_EQ(LoadUsers("from-config.json").List().size(), 1u);
}

// Runs `user add` with a pseudo-terminal as stdin, stdout and stderr, answering each prompt
// with the next of `answers`. Returns what the terminal showed and the exit code.
Outcome AddOnATerminal(const fs::path& dir, const std::string& name,
                       const std::vector<std::string>& answers) {
  Outcome run;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    ADD_FAILURE() << "no pseudo-terminal";
    if (master >= 0) close(master);
    return run;
  }
  const std::string slave = ptsname(master);
  posix_spawn_file_actions_t stdio;
  posix_spawn_file_actions_init(&stdio);
  for (int fd : {0, 1, 2}) {
    posix_spawn_file_actions_addopen(&stdio, fd, slave.c_str(), O_RDWR | O_NOCTTY, 0);
  }
  const pid_t pid = Spawn({"user", "add", name, "--tenant", "acme"}, dir, &stdio);
  posix_spawn_file_actions_destroy(&stdio);
  if (pid < 0) {
    close(master);
    return run;
  }
  // Reads until the terminal shows `until` (or, when empty, until the child has closed it).
  // The deadline only guards against a hung child; it never decides the outcome.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto read_until = [&](std::string_view until) {
    while (until.empty() || run.out.find(until) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{master, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t n = read(master, buffer, sizeof buffer);
      if (n <= 0) return until.empty();  // EIO once the child's side is closed
      run.out.append(buffer, static_cast<size_t>(n));
    }
    return true;
  };
  for (size_t i = 0; i < answers.size(); ++i) {
    const std::string prompt = i == 0 ? "Password for " + name + ": " : "Repeat the password: ";
    if (!read_until(prompt)) {
      ADD_FAILURE() << "no prompt \"" << prompt << "\" in: " << run.out;
      break;
    }
    const std::string& answer = answers[i];
    const std::string line = answer + "\n";
    if (write(master, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      ADD_FAILURE() << "write to the terminal failed";
    }
  }
  if (!read_until("")) {
    ADD_FAILURE() << "the child did not finish: " << run.out;
    kill(pid, SIGKILL);
  }
  run.exit_code = Wait(pid);
  close(master);
  testing::CaptureText("user-cli-terminal", run.out);
  return run;
}

TEST_F(UserCliTest, PromptsTwiceWithoutEchoOnATerminal) {
  Outcome mismatch = AddOnATerminal(dir_, "alice", {kPassword, kPassword + "x"});
  EXPECT_EQ(mismatch.exit_code, 2) << mismatch.out;
  EXPECT_THAT(mismatch.out, HasSubstr("do not match"));
  EXPECT_THAT(mismatch.out, Not(HasSubstr(kPassword)));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));

  Outcome ok = AddOnATerminal(dir_, "alice", {kPassword, kPassword});
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_THAT(ok.out, HasSubstr("Repeat the password: "));
  EXPECT_THAT(ok.out, HasSubstr("Added user alice"));
  EXPECT_THAT(ok.out, Not(HasSubstr(kPassword)));  // never echoed
  auth::UserStore store = LoadUsers();
  const auth::User* alice = store.Find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(auth::VerifyPassword(kPassword, alice->password_hash));
}

TEST_F(UserCliTest, AShortPasswordAtTheTerminalIsRefusedBeforeTheRepeat) {
  Outcome r = AddOnATerminal(dir_, "alice", {"too short"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("at least 12 characters"));
  EXPECT_THAT(r.out, Not(HasSubstr("Repeat")));
  EXPECT_FALSE(fs::exists(dir_ / "users.json"));
}

}  // namespace
}  // namespace helios::app
