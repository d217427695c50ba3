// The helios-loadgen binary as a script runs it: exit status, messages, the summary and the
// JSON report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "loadgen/test_server.h"

extern char** environ;

namespace helios::loadgen {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A directory for one test's files, removed with them at the end.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/helios-loadgen-cli-XXXXXX";
    path_ = ::mkdtemp(name) != nullptr ? name : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    for (const char* file : {"out", "err", "report.json"}) {
      std::remove((path_ + "/" + file).c_str());
    }
    ::rmdir(path_.c_str());
  }
  std::string File(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Outcome RunLoadgen(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), HELIOS_LOADGEN_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, dir.File("out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, dir.File("err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Outcome run;
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0];
    return run;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = Slurp(dir.File("out"));
  run.err = Slurp(dir.File("err"));
  return run;
}

void Ok(int, const httplib::Request&, httplib::Response& response) {
  response.set_content("ok", "text/plain");
}

TEST(LoadgenCli, BadArgumentsExitWithStatus2AndAMessage) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--bogus", "-r", "1", "127.0.0.1:1"}, "unknown option '--bogus'"},
      {{"-r", "lots", "127.0.0.1:1"}, "--rate: 'lots' is not a number"},
      {{"-r", "10", "-c", "many", "127.0.0.1:1"}, "--connections: 'many'"},
      {{"127.0.0.1:1"}, "--rate is required"},
      {{"-r", "10"}, "no URL given"},
  };
  for (const auto& c : cases) {
    const Outcome run = RunLoadgen(dir, c.args);
    EXPECT_EQ(run.exit_code, 2) << c.message;
    EXPECT_NE(run.err.find("helios-loadgen: " + c.message), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(LoadgenCli, UnreachableServerExitsWithStatus2) {
  TempDir dir;
  int port = 0;
  {
    testing::TestServer server(Ok);
    port = server.port();
  }
  const Outcome run = RunLoadgen(dir, {"-r", "10", "-d", "1", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << run.err;
}

TEST(LoadgenCli, HelpExitsWithStatus0) {
  TempDir dir;
  const Outcome run = RunLoadgen(dir, {"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("Usage: helios-loadgen"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--bodies FILE"), std::string::npos);
}

TEST(LoadgenCli, ARunPrintsASummaryAndWritesJson) {
  TempDir dir;
  testing::TestServer server([](int number, const httplib::Request&, httplib::Response& res) {
    if (number % 5 == 4) res.status = 429;
    res.set_content("ok", "text/plain");
  });
  const Outcome run =
      RunLoadgen(dir, {"-r", "100", "-d", "500ms", "-c", "2", "-H", "Authorization: Bearer t",
                       "--json", dir.File("report.json"),
                       "http://127.0.0.1:" + std::to_string(server.port()) + "/health"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("open loop at 100 requests/s"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("50 responses"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("2xx 40, 4xx 10 (429: 10)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("p99.9"), std::string::npos) << run.out;

  const auto json = nlohmann::json::parse(Slurp(dir.File("report.json")), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << Slurp(dir.File("report.json"));
  EXPECT_EQ(json["mode"], "open");
  EXPECT_EQ(json["method"], "GET");
  EXPECT_EQ(json["rate_asked"], 100);
  EXPECT_EQ(json["scheduled"], 50);
  EXPECT_EQ(json["responses"], 50);
  EXPECT_EQ(json["status"]["200"], 40);
  EXPECT_EQ(json["status"]["429"], 10);
  EXPECT_EQ(json["status_classes"]["2xx"], 40);
  EXPECT_EQ(json["status_classes"]["4xx"], 10);
  EXPECT_EQ(json["errors"]["total"], 0);
  EXPECT_EQ(json["latency_ms"]["count"], 50);
  EXPECT_GT(json["latency_ms"]["p50"].get<double>(), 0);
  EXPECT_GE(json["latency_ms"]["max"].get<double>(), json["latency_ms"]["p99"].get<double>());
  EXPECT_NEAR(json["achieved_rate"].get<double>(), 100, 5);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 50u);
  EXPECT_EQ(seen[0].path, "/health");
  EXPECT_EQ(seen[0].authorization, "Bearer t");
}

}  // namespace
}  // namespace helios::loadgen
