#include "options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace helios::loadgen {
namespace {

using namespace std::chrono_literals;

// A file with `content`, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/helios-loadgen-options-XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Options ParseOk(const std::vector<std::string>& args) {
  auto parsed = ParseArguments(args);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? parsed->options : Options{};
}

std::string ParseError(const std::vector<std::string>& args) {
  auto parsed = ParseArguments(args);
  EXPECT_FALSE(parsed);
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

TEST(LoadgenOptions, LongAndShortFlags) {
  const Options o = ParseOk({"-r", "250.5", "-c", "4", "--duration=30s", "-w", "500ms", "--timeout",
                             "2m", "-H", "Authorization: Bearer x", "--header=X-Trace: 1", "--json",
                             "out.json", "http://localhost:8080/health"});
  EXPECT_DOUBLE_EQ(o.rate, 250.5);
  EXPECT_EQ(o.connections, 4);
  EXPECT_EQ(o.duration, 30s);
  EXPECT_EQ(o.warmup, 500ms);
  EXPECT_EQ(o.timeout, 120s);
  EXPECT_EQ(o.headers, (std::vector<std::string>{"Authorization: Bearer x", "X-Trace: 1"}));
  EXPECT_EQ(o.json_path, "out.json");
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(o.paths, (std::vector<std::string>{"/health"}));
  EXPECT_EQ(o.method, "GET");
}

TEST(LoadgenOptions, Defaults) {
  const Options o = ParseOk({"--rate", "0", "127.0.0.1:9000"});
  EXPECT_EQ(o.rate, 0);
  EXPECT_EQ(o.connections, 16);
  EXPECT_EQ(o.duration, 10s);
  EXPECT_EQ(o.warmup, 0s);
  EXPECT_EQ(o.timeout, 10s);
  EXPECT_EQ(o.paths, (std::vector<std::string>{"/"}));
  EXPECT_EQ(o.port, 9000);
  EXPECT_TRUE(o.bodies.empty());
  EXPECT_EQ(HostPort(o), "127.0.0.1:9000");
}

TEST(LoadgenOptions, BodiesAndPathsFilesAreReadLineByLine) {
  TempFile bodies("{\"query\": \"a\"}\r\n\n{\"query\": \"b\"}\n");
  TempFile paths("/api/v1/query\n/health\n");
  const Options o =
      ParseOk({"--bodies", bodies.path(), "--paths", paths.path(), "-r", "5", "http://h:1/x"});
  EXPECT_EQ(o.bodies, (std::vector<std::string>{R"({"query": "a"})", R"({"query": "b"})"}));
  EXPECT_EQ(o.paths, (std::vector<std::string>{"/api/v1/query", "/health"}));
  EXPECT_EQ(o.method, "POST") << "bodies without -m mean POST";
  EXPECT_EQ(ParseOk({"--bodies", bodies.path(), "-m", "PUT", "-r", "5", "h:1"}).method, "PUT");
}

TEST(LoadgenOptions, Ipv6Host) {
  const Options o = ParseOk({"-r", "1", "http://[::1]:8080/"});
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(HostPort(o), "[::1]:8080");
}

TEST(LoadgenOptions, HelpNeedsNothingElse) {
  auto parsed = ParseArguments({"--help"});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->help);
  EXPECT_NE(HelpText().find("--rate"), std::string::npos);
}

TEST(LoadgenOptions, BadArgumentsSayWhatIsWrong) {
  EXPECT_NE(ParseError({"--bogus", "-r", "1", "h:1"}).find("unknown option '--bogus'"),
            std::string::npos);
  EXPECT_NE(ParseError({"-r", "fast", "h:1"}).find("--rate: 'fast' is not a number"),
            std::string::npos);
  EXPECT_NE(ParseError({"-r", "-5", "h:1"}).find("--rate"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-c", "0", "h:1"}).find("--connections"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-c", "2.5", "h:1"}).find("--connections"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-d", "5x", "h:1"}).find("not a duration"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-d", "0", "h:1"}).find("more than 0"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-t"}).find("-t needs a value"), std::string::npos);
  EXPECT_NE(ParseError({"h:1"}).find("--rate is required"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1"}).find("no URL"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "h:1", "h:2"}).find("unexpected argument"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "https://h/"}).find("https is not supported"),
            std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "http://h:99999/"}).find("bad port"), std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-H", "no colon", "h:1"}).find("is not a header"),
            std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "-H", "Content-Length: 5", "h:1"}).find("set by"),
            std::string::npos);
  EXPECT_NE(ParseError({"-r", "1", "--bodies", "/nonexistent/bodies.txt", "h:1"})
                .find("cannot read '/nonexistent/bodies.txt'"),
            std::string::npos);
  TempFile bad_paths("no-slash\n");
  EXPECT_NE(ParseError({"-r", "1", "--paths", bad_paths.path(), "h:1"}).find("--paths line 1"),
            std::string::npos);
  TempFile empty("\n\n");
  EXPECT_NE(ParseError({"-r", "1", "--bodies", empty.path(), "h:1"}).find("no non-empty line"),
            std::string::npos);
}

}  // namespace
}  // namespace helios::loadgen
