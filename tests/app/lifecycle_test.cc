// The real binary's lifecycle, driven by signals as a service manager drives it:
// - SIGTERM while questions over a large table are being answered (more of them than worker
//   threads, so some wait for a worker): every one gets its complete answer, a new connection
//   is refused, the log says "stopped" with the counts, and the exit code is 0.
// - SIGHUP after a tenant's rate limit was raised and the log level lowered to debug in the
//   file: the next question passes without a restart, the server's debug lines appear, and
//   the log says what was reloaded and what needs a restart; a file that does not load changes
//   nothing.
// - The administrators' operations on the real server: sessions listed and ended, the cache
//   flushed.
// Also PlanReload, which sorts a reload's changed settings.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/application.h"
#include "auth/password.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "config/config.h"
#include "support/child_process.h"
#include "support/sqlite_file.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSecret[] = "a-lifecycle-test-secret-of-more-than-32-bytes";
constexpr char kPassword[] = "a long enough password";

// --- PlanReload ------------------------------------------------------------------------------

config::Config ParsedOrDie(const std::string& toml) {
  auto config = config::ParseConfig(toml, "test.toml",
                                    [](std::string_view) { return std::optional<std::string>(); });
  EXPECT_TRUE(config) << config.error().message;
  return config.value_or(config::Config{});
}

TEST(PlanReloadTest, RateLimitsAndTheLogLevelApplyEverythingElseNeedsARestart) {
  const config::Config running = ParsedOrDie(
      "[server]\nworkers = 4\n[logging]\nlevel = \"info\"\n"
      "[production.rate_limiting.tenants.acme]\nqueries_per_minute = 1\n");
  const config::Config next = ParsedOrDie(
      "[server]\nworkers = 8\n[logging]\nlevel = \"debug\"\n"
      "[production.rate_limiting]\nburst_allowance = 7\n"
      "[production.rate_limiting.tenants.acme]\nqueries_per_minute = 60\n");
  const ReloadPlan plan = PlanReload(running, next, {});
  EXPECT_THAT(plan.applied, ElementsAre("production.rate_limiting.burst_allowance",
                                        "production.rate_limiting.tenants.acme", "logging.level"));
  EXPECT_THAT(plan.needs_restart, ElementsAre("server.workers"));
  EXPECT_THAT(plan.command_line, IsEmpty());
}

TEST(PlanReloadTest, SettingsTheCommandLineGaveAreKept) {
  config::Config running = ParsedOrDie("[server]\nport = 8080\n");
  running.server.port = 9999;  // as --port would
  const config::Config next = ParsedOrDie("[server]\nport = 8080\n");
  const ReloadPlan plan = PlanReload(running, next, {"server.port"});
  EXPECT_THAT(plan.command_line, ElementsAre("server.port"));
  EXPECT_THAT(plan.needs_restart, IsEmpty());
  EXPECT_THAT(PlanReload(running, running, {"server.port"}).command_line, IsEmpty());
}

// --- The real binary -------------------------------------------------------------------------

// The binary serving in dir, its output in files there. Unlike testing::ServedBinary it gives
// the test the process, to send it signals.
class Served {
 public:
  Served(const std::vector<std::string>& args, const fs::path& dir,
         const std::vector<std::string>& extra_env)
      : out_(dir / ("out-" + text::NewUuid() + ".log")),
        err_(dir / ("err-" + text::NewUuid() + ".log")) {
    std::vector<std::string> argv = {HELIOS_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string error;
    process_ = testing::ChildProcess::Start(
        {argv, testing::ChildEnvironment(extra_env), "/dev/null", out_, err_, dir}, &error);
    EXPECT_TRUE(process_) << error;
  }

  bool Signal(int sig) { return process_ && ::kill(process_->pid(), sig) == 0; }
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    return process_ ? process_->Wait(timeout) : std::optional<int>(-1);
  }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string out() const { return testing::ReadFile(out_); }
  std::string err() const { return testing::ReadFile(err_); }

  // The log lines with this message, in order.
  std::vector<json> Lines(std::string_view message) const {
    std::vector<json> lines;
    for (const std::string& line : text::Split(out(), '\n')) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("message", "") == message) lines.push_back(std::move(j));
    }
    return lines;
  }

  // Waits (up to `timeout`) for the count-th line with this message; nullopt when the process
  // exits first or the time passes.
  std::optional<json> Await(std::string_view message, size_t count = 1,
                            std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<json> lines = Lines(message);
      if (lines.size() >= count) return lines[count - 1];
      if (process_ && process_->Exited()) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  int Port() {
    auto listening = Await("listening");
    return listening ? listening->value("port", 0) : 0;
  }

 private:
  fs::path out_;
  fs::path err_;
  std::unique_ptr<testing::ChildProcess> process_;
};

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{300, 0};  // a generous bound for a slow question under the sanitizers
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// Sends one whole POST /api/v1/query on its own connection; the socket, or -1.
int SendQuestion(int port, const std::string& question) {
  int fd = Connect(port);
  if (fd < 0) return -1;
  const std::string body = json({{"query", question}}).dump();
  const std::string request =
      "POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct RawReply {
  int status = 0;
  std::string body;
  bool complete = false;  // the whole body, as long as Content-Length said
};

// Reads one response from the socket and closes it.
RawReply ReadReply(int fd) {
  RawReply reply;
  std::string data;
  char buffer[8192];
  size_t header_end = std::string::npos;
  size_t length = 0;
  while (true) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::string headers = text::ToLower(data.substr(0, header_end));
        if (headers.rfind("http/1.1 ", 0) == 0) reply.status = std::stoi(headers.substr(9, 3));
        const size_t at = headers.find("content-length:");
        if (at != std::string::npos) length = std::stoul(headers.substr(at + 15));
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + length) {
      reply.body = data.substr(header_end + 4, length);
      reply.complete = true;
      break;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

// How many sockets the process holds: its listening socket(s) plus one per connection it has
// accepted. Read from /proc, so the test knows the server has taken every question in.
size_t SocketsOf(pid_t pid) {
  size_t sockets = 0;
  std::error_code ec;
  for (const auto& entry :
       fs::directory_iterator(fs::path("/proc") / std::to_string(pid) / "fd",
                              fs::directory_options::skip_permission_denied, ec)) {
    std::error_code link_error;
    const fs::path target = fs::read_symlink(entry.path(), link_error);
    if (!link_error && target.string().rfind("socket:", 0) == 0) ++sockets;
  }
  return sockets;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("helios-lifecycle-" + text::NewUuid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteConfig(const std::string& toml) { std::ofstream(dir_ / "server.toml") << toml; }

  fs::path dir_;
  // A table large enough that grouping it takes a while, so the questions asked of it are
  // honestly slow (no test-only switch), and a server over it: cache off, so every question
  // reads the table.
  void ServeSensors(int workers, int shutdown_timeout_secs) {
    const fs::path db = dir_ / "sensors.db";
    ASSERT_EQ(
        testing::ExecSqlite(
            db,
            "CREATE TABLE readings(reading_id INTEGER PRIMARY KEY, sensor TEXT, value REAL);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)"
            " INSERT INTO readings SELECT i, 'sensor-' || (i % 97), (i * 7919) % 1000 / 10.0"
            " FROM n;"),
        "");
    // A fixed pool (max_connections = workers), so that connections wait for a worker.
    WriteConfig("[server]\nhost = \"127.0.0.1\"\nport = 0\nworkers = " + std::to_string(workers) +
                "\nmax_connections = " + std::to_string(workers) +
                "\nshutdown_timeout_secs = " + std::to_string(shutdown_timeout_secs) +
                "\n[auth]\nenabled = false\n[metrics]\nenabled = false\n[cache]\nenabled = false"
                "\n[database]\nurl = \"sqlite://" +
                db.string() + "\"\nstatement_timeout_secs = 600\n");
    served_ = std::make_unique<Served>(std::vector<std::string>{"--config", "server.toml", "serve"},
                                       dir_, std::vector<std::string>{});
    port_ = served_->Port();
    ASSERT_NE(port_, 0) << served_->out() << served_->err();
  }

  // Sends `n` slow questions, each on its own connection, and waits until the server has
  // accepted them all (it holds a socket for each).
  std::vector<int> SendSlowQuestions(int n) {
    const size_t before = SocketsOf(served_->pid());
    std::vector<int> sockets;
    for (int i = 0; i < n; ++i) {
      const int fd = SendQuestion(port_, "average value by sensor");
      EXPECT_GE(fd, 0) << "question " << i;
      if (fd >= 0) sockets.push_back(fd);
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (SocketsOf(served_->pid()) < before + sockets.size() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(SocketsOf(served_->pid()), before + sockets.size()) << "not all were accepted";
    return sockets;
  }

  std::unique_ptr<Served> served_;
  int port_ = 0;
};

TEST_F(LifecycleTest, SigtermAnswersEveryQuestionInFlightRefusesNewConnectionsAndExitsZero) {
  // More questions than workers: some are being answered, the others wait for a worker.
  ServeSensors(/*workers=*/2, /*shutdown_timeout_secs=*/600);
  Served& served = *served_;
  const int port = port_;
  constexpr int kQuestions = 6;
  std::vector<int> sockets = SendSlowQuestions(kQuestions);
  ASSERT_EQ(sockets.size(), static_cast<size_t>(kQuestions));

  ASSERT_TRUE(served.Signal(SIGTERM));
  auto shutting_down = served.Await(
      "shutting down: no new connections; finishing the requests "
      "received");
  ASSERT_TRUE(shutting_down) << served.out();
  // The listening socket goes right after that line; from then on connections are refused.
  bool refused = false;
  for (int attempt = 0; attempt < 200 && !refused; ++attempt) {
    const int fd = Connect(port);
    if (fd < 0) {
      refused = errno == ECONNREFUSED;
      break;
    }
    ::close(fd);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused) << "a new connection was not refused after SIGTERM";

  for (int i = 0; i < kQuestions; ++i) {
    RawReply reply = ReadReply(sockets[i]);
    ASSERT_TRUE(reply.complete) << "question " << i << " got " << reply.status << " " << reply.body;
    EXPECT_EQ(reply.status, 200) << "question " << i << ": " << reply.body;
    json body = json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << reply.body;
    EXPECT_EQ(body["row_count"], 97) << "question " << i;
  }

  EXPECT_EQ(served.Wait(600s), 0) << served.out() << served.err();
  auto stopped = served.Await("stopped", 1, 1s);
  ASSERT_TRUE(stopped) << served.out();
  EXPECT_EQ((*stopped)["exit_code"], 0);
  EXPECT_EQ((*stopped)["requests_served"], kQuestions);
  EXPECT_EQ((*stopped)["requests_cut_off"], 0);
  // Every question was in flight at the signal: being answered, or waiting for a worker.
  EXPECT_EQ((*stopped)["requests_in_flight_at_signal"].get<int>() +
                (*stopped)["connections_waiting_at_signal"].get<int>(),
            kQuestions)
      << stopped->dump();
  EXPECT_GE((*stopped)["connections_waiting_at_signal"].get<int>(), 1) << stopped->dump();
}

TEST_F(LifecycleTest, QuestionsStillRunningPastTheBoundAreCutOffAndTheExitCodeSaysSo) {
  // One worker and many slow questions: far more work than the one second allowed.
  ServeSensors(/*workers=*/1, /*shutdown_timeout_secs=*/1);
  std::vector<int> sockets = SendSlowQuestions(16);
  ASSERT_EQ(sockets.size(), 16u);
  ASSERT_TRUE(served_->Signal(SIGTERM));
  EXPECT_EQ(served_->Wait(120s), 1) << served_->out() << served_->err();
  auto timed_out = served_->Await("shutdown timed out: requests cut off", 1, 1s);
  ASSERT_TRUE(timed_out) << served_->out();
  const int cut_off =
      (*timed_out)["requests_cut_off"].get<int>() + (*timed_out)["connections_cut_off"].get<int>();
  EXPECT_GE(cut_off, 1) << timed_out->dump();
  auto stopped = served_->Await("stopped", 1, 1s);
  ASSERT_TRUE(stopped) << served_->out();
  EXPECT_EQ((*stopped)["exit_code"], 1);
  EXPECT_EQ((*stopped)["requests_cut_off"], cut_off);
  // Those answered before the bound are complete; the others got no answer at all.
  int answered = 0;
  for (int fd : sockets) {
    RawReply reply = ReadReply(fd);
    if (reply.complete) {
      EXPECT_EQ(reply.status, 200) << reply.body;
      ++answered;
    }
  }
  // (One counted as cut off may still have finished in the instant before the exit.)
  EXPECT_GE(answered, (*stopped)["requests_served"].get<int>());
  EXPECT_GE(answered + cut_off, 16);
  EXPECT_LT(answered, 16);
}

// Users alice (analyst) and root (admin), both of tenant acme.
void WriteUsers(const fs::path& file) {
  auth::UserStore users;
  const auth::PasswordParams cheap{1024, 1, 1};
  for (auto [name, role] : {std::pair{"alice", "analyst"}, std::pair{"root", "admin"}}) {
    auto hash = auth::HashPassword(kPassword, cheap);
    ASSERT_TRUE(hash.has_value());
    ASSERT_TRUE(users.Add(auth::User{name, "acme", {role}, *hash}).has_value());
  }
  ASSERT_TRUE(users.Save(file.string()).has_value());
}

httplib::Headers Login(httplib::Client& client, const std::string& user) {
  auto res =
      client.Post("/api/v1/auth/login", json({{"username", user}, {"password", kPassword}}).dump(),
                  "application/json");
  EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
  if (!res) return {};
  return {{"Authorization", "Bearer " + json::parse(res->body).value("token", "")}};
}

int Ask(httplib::Client& client, const httplib::Headers& who, const std::string& question) {
  auto res =
      client.Post("/api/v1/query", who, json({{"query", question}}).dump(), "application/json");
  return res ? res->status : 0;
}

std::string ServerToml(int acme_per_minute, int acme_burst, int workers) {
  return "[server]\nhost = \"127.0.0.1\"\nport = 0\nworkers = " + std::to_string(workers) +
         "\n[metrics]\nenabled = false\n[auth]\nusers_file = \"users.json\"\n"
         "[production.rate_limiting.tenants.acme]\nqueries_per_minute = " +
         std::to_string(acme_per_minute) + "\nburst_allowance = " + std::to_string(acme_burst) +
         "\n";
}

// Sessions that expire after a minute, swept every minute: the sweep that removes them writes
// the server's one debug line, "expired sessions removed".
std::string ShortSessionsToml(const std::string& log_level) {
  return "[session]\nsession_timeout_minutes = 1\ncleanup_interval_minutes = 1\n"
         "[logging]\nlevel = \"" +
         log_level + "\"\n";
}

TEST_F(LifecycleTest, SighupAppliesARaisedRateLimitAndTheLogLevelWithoutARestart) {
  fs::copy_file(HELIOS_DEMO_DB, dir_ / "demo.db");
  WriteUsers(dir_ / "users.json");
  WriteConfig(ServerToml(1, 1, 2) + ShortSessionsToml("info"));
  // The database comes from the command line, which a reload keeps.
  Served served({"--config", "server.toml", "serve", "--database", "sqlite://demo.db"}, dir_,
                {std::string("JWT_SECRET=") + kSecret});
  const int port = served.Port();
  ASSERT_NE(port, 0) << served.out() << served.err();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const httplib::Headers alice = Login(client, "alice");

  EXPECT_EQ(Ask(client, alice, "How many customers are there?"), 200);
  EXPECT_EQ(Ask(client, alice, "How many customers are there?"), 429);

  // Raised in the file and the log level lowered, with a change that cannot apply while
  // serving.
  WriteConfig(ServerToml(60, 5, 3) + ShortSessionsToml("debug"));
  ASSERT_TRUE(served.Signal(SIGHUP));
  auto reloaded = served.Await("configuration reloaded");
  ASSERT_TRUE(reloaded) << served.out() << served.err();
  EXPECT_EQ(Ask(client, alice, "How many customers are there?"), 200);
  EXPECT_THAT((*reloaded)["reloaded"].get<std::string>(), HasSubstr("rate limits"));
  EXPECT_THAT((*reloaded)["reloaded"].get<std::string>(), HasSubstr("log level"));
  EXPECT_EQ((*reloaded)["changed"], "production.rate_limiting.tenants.acme, logging.level");
  EXPECT_EQ((*reloaded)["needs_restart"], "server.workers");
  EXPECT_EQ((*reloaded)["kept_from_command_line"], "database.url");
  EXPECT_EQ((*reloaded)["users"], "2 users");

  // A file that does not load changes nothing: the raised limit stays.
  WriteConfig("[server]\nport = \"not a number\"\n");
  ASSERT_TRUE(served.Signal(SIGHUP));
  auto failed = served.Await("configuration reload failed: nothing was changed");
  ASSERT_TRUE(failed) << served.out();
  EXPECT_THAT((*failed)["error"].get<std::string>(), HasSubstr("port"));
  EXPECT_EQ(Ask(client, alice, "How many customers are there?"), 200);
  EXPECT_EQ(served.Lines("configuration reloaded").size(), 1u);

  // The questions' sessions expire a minute after their last use. The sweep a minute after
  // start (or, when they expire a moment after it, the next one) removes them and says so at
  // debug level, which the reload switched on.
  auto swept = served.Await("expired sessions removed", 1, 240s);
  ASSERT_TRUE(swept) << served.out() << served.err();
  EXPECT_EQ((*swept)["level"], "DEBUG");
  EXPECT_GE((*swept)["count"].get<int>(), 1);

  ASSERT_TRUE(served.Signal(SIGTERM));
  EXPECT_EQ(served.Wait(120s), 0) << served.out() << served.err();
  EXPECT_EQ(served.Lines("stopped").size(), 1u) << served.out();
}

TEST_F(LifecycleTest, AnAdministratorListsAndEndsSessionsAndFlushesTheCache) {
  fs::copy_file(HELIOS_DEMO_DB, dir_ / "demo.db");
  WriteUsers(dir_ / "users.json");
  WriteConfig(ServerToml(100, 20, 2) + "[database]\nurl = \"sqlite://demo.db\"\n");
  Served served({"--config", "server.toml", "serve"}, dir_, {std::string("JWT_SECRET=") + kSecret});
  const int port = served.Port();
  ASSERT_NE(port, 0) << served.out() << served.err();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const httplib::Headers alice = Login(client, "alice");
  const httplib::Headers root = Login(client, "root");

  auto asked =
      client.Post("/api/v1/query", alice, json({{"query", "How many customers are there?"}}).dump(),
                  "application/json");
  ASSERT_TRUE(asked && asked->status == 200);
  const std::string session = json::parse(asked->body)["session_id"];

  EXPECT_EQ(client.Get("/api/v1/admin/sessions", alice)->status, 403);
  auto listed = client.Get("/api/v1/admin/sessions?tenant=acme", root);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  json sessions = json::parse(listed->body)["sessions"];
  ASSERT_EQ(sessions.size(), 1u) << listed->body;
  EXPECT_EQ(sessions[0]["session_id"], session);
  EXPECT_EQ(sessions[0]["user"], "alice");
  EXPECT_EQ(sessions[0]["turns"], 1);
  EXPECT_TRUE(sessions[0]["created_at"].is_string());

  auto flushed =
      client.Post("/api/v1/admin/cache/flush", root, R"({"tenant":"acme"})", "application/json");
  ASSERT_TRUE(flushed);
  ASSERT_EQ(flushed->status, 200) << flushed->body;
  EXPECT_GE(json::parse(flushed->body)["flushed"].get<int>(), 1) << "the answer was cached";
  auto again = client.Post("/api/v1/admin/cache/flush", root, "", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["flushed"], 0);

  auto ended = client.Delete("/api/v1/admin/sessions/" + session, root);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->status, 200) << ended->body;
  EXPECT_EQ(client.Get("/api/v1/sessions/" + session, alice)->status, 404);
  EXPECT_THAT(served.out(), HasSubstr("session ended by an administrator"));
}

}  // namespace
}  // namespace helios::app
