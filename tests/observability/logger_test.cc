#include "observability/logger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/text.h"

namespace helios::observability {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// 1'700'000'000 s after the epoch is 2023-11-14T22:13:20Z.
const system_clock::time_point kStart = system_clock::time_point(seconds(1'700'000'000));

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines = text::Split(s, '\n');
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "") << "output must end with a newline";
  lines.pop_back();
  return lines;
}

std::vector<json> JsonLines(const std::string& s) {
  std::vector<json> out;
  for (const std::string& line : Lines(s)) out.push_back(json::parse(line));
  return out;
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("helios-logger-test-" + text::NewUuid());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FormatTimestampTest, Rfc3339UtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(kStart + milliseconds(123)), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatTimestamp(kStart), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(FormatTimestamp(system_clock::time_point()), "1970-01-01T00:00:00.000Z");
  // Sub-millisecond parts are truncated, not rounded.
  EXPECT_EQ(FormatTimestamp(kStart + std::chrono::microseconds(999'999)),
            "2023-11-14T22:13:20.999Z");
  // Before the epoch the fields still count forward.
  EXPECT_EQ(FormatTimestamp(system_clock::time_point() - milliseconds(1)),
            "1969-12-31T23:59:59.999Z");
  // Leap day.
  EXPECT_EQ(FormatTimestamp(system_clock::time_point(seconds(951'782'400))),
            "2000-02-29T00:00:00.000Z");
}

TEST(ParseLogLevelTest, AcceptsKnownNamesInAnyCase) {
  EXPECT_EQ(ParseLogLevel("trace").value(), LogLevel::kTrace);
  EXPECT_EQ(ParseLogLevel("DEBUG").value(), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("Info").value(), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warn").value(), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("warning").value(), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error").value(), LogLevel::kError);
}

TEST(ParseLogLevelTest, RejectsUnknownNames) {
  for (std::string_view bad : {"", "verbose", "fatal", "info2"}) {
    auto level = ParseLogLevel(bad);
    ASSERT_FALSE(level.has_value()) << bad;
    EXPECT_EQ(level.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(level.error().message.find("trace, debug, info, warn or error"), std::string::npos);
  }
}

TEST(ParseLogFormatTest, KnownAndUnknown) {
  EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("TEXT").value(), LogFormat::kText);
  auto bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoggerTest, JsonLineHasFixedKeysThenFieldsWithTypes) {
  FakeClock clock(kStart + milliseconds(123));
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Info("hello", {{"name", "alice"},
                        {"count", 42},
                        {"big", int64_t{9'007'199'254'740'993}},
                        {"ratio", 0.25},
                        {"ok", true},
                        {"sv", std::string_view("view")},
                        {"str", std::string("owned")}});
  std::string first_line = Lines(out.str()).at(0);
  // Fixed keys come first, in this order.
  EXPECT_EQ(first_line.rfind(R"({"timestamp":"2023-11-14T22:13:20.123Z","level":"INFO",)"
                             R"("service":"conversational-bi","message":"hello","name":"alice",)",
                             0),
            0u)
      << first_line;
  json line = JsonLines(out.str()).at(0);
  EXPECT_EQ(line["timestamp"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_EQ(line["service"], "conversational-bi");
  EXPECT_EQ(line["message"], "hello");
  EXPECT_EQ(line["name"], "alice");
  ASSERT_TRUE(line["count"].is_number_integer());
  EXPECT_EQ(line["count"].get<int64_t>(), 42);
  ASSERT_TRUE(line["big"].is_number_integer());
  EXPECT_EQ(line["big"].get<int64_t>(), 9'007'199'254'740'993);
  ASSERT_TRUE(line["ratio"].is_number_float());
  EXPECT_DOUBLE_EQ(line["ratio"].get<double>(), 0.25);
  ASSERT_TRUE(line["ok"].is_boolean());
  EXPECT_TRUE(line["ok"].get<bool>());
  EXPECT_EQ(line["sv"], "view");
  EXPECT_EQ(line["str"], "owned");
  EXPECT_EQ(line.size(), 11u);
}

TEST(LoggerTest, TimestampFollowsTheInjectedClock) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Info("one");
  clock.Advance(milliseconds(1'500));
  logger.Info("two");
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["timestamp"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(lines[1]["timestamp"], "2023-11-14T22:13:21.500Z");
}

TEST(LoggerTest, LevelsBelowTheThresholdAreDropped) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kWarn, LogFormat::kJson, clock);
  EXPECT_FALSE(logger.Enabled(LogLevel::kTrace));
  EXPECT_FALSE(logger.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(logger.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger.Enabled(LogLevel::kWarn));
  EXPECT_TRUE(logger.Enabled(LogLevel::kError));
  logger.Trace("t");
  logger.Debug("d");
  logger.Info("i");
  logger.Warn("w");
  logger.Error("e");
  logger.Log(LogLevel::kInfo, "i2");
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["level"], "WARN");
  EXPECT_EQ(lines[0]["message"], "w");
  EXPECT_EQ(lines[1]["level"], "ERROR");
  EXPECT_EQ(lines[1]["message"], "e");
}

TEST(LoggerTest, TraceLevelWritesEverythingWithItsName) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kTrace, LogFormat::kJson, clock);
  logger.Trace("t");
  logger.Debug("d");
  logger.Info("i");
  logger.Warn("w");
  logger.Error("e");
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["level"], "TRACE");
  EXPECT_EQ(lines[1]["level"], "DEBUG");
  EXPECT_EQ(lines[2]["level"], "INFO");
  EXPECT_EQ(lines[3]["level"], "WARN");
  EXPECT_EQ(lines[4]["level"], "ERROR");
}

TEST(LoggerTest, EscapesQuotesControlCharactersAndInvalidUtf8) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  std::string nasty = "say \"hi\"\nnext line\ttab\r\x01 back\\slash";
  std::string invalid = "caf\xC3";  // truncated two-byte sequence
  std::string with_nul("a\0b", 3);
  logger.Info(nasty, {{"q", nasty}, {"bad", invalid}, {"nul", with_nul}, {"utf8", "Zürich 東京"}});
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u) << "a message with newlines must stay on one line";
  json line = json::parse(lines[0]);
  EXPECT_EQ(line["message"], nasty);
  EXPECT_EQ(line["q"], nasty);
  EXPECT_EQ(line["bad"], "caf\xEF\xBF\xBD");  // U+FFFD
  EXPECT_EQ(line["nul"].get<std::string>(), with_nul);
  EXPECT_EQ(line["utf8"], "Zürich 東京");
}

TEST(LoggerTest, NonFiniteDoublesBecomeNull) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Info("m", {{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}});
  json line = JsonLines(out.str()).at(0);
  EXPECT_TRUE(line["nan"].is_null());
  EXPECT_TRUE(line["inf"].is_null());
}

TEST(LoggerTest, FieldsCannotOverwriteFixedKeys) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Info("real", {{"message", "fake"}, {"level", "ERROR"}});
  json line = JsonLines(out.str()).at(0);
  EXPECT_EQ(line["message"], "real");
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_EQ(line["field_message"], "fake");
  EXPECT_EQ(line["field_level"], "ERROR");
}

TEST(LoggerTest, AFieldGivenTwiceIsOneMemberInItsFirstPlaceWithItsLastValue) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  // "message" is renamed to field_message, which the caller also gave: still one member.
  logger.Info("m", {{"a", 1},
                    {"b", "first"},
                    {"message", "renamed"},
                    {"b", "last"},
                    {"field_message", "given"}});
  const std::string text = Lines(out.str()).at(0);
  EXPECT_NE(text.find(R"("message":"m","a":1,"b":"last","field_message":"given"})"),
            std::string::npos)
      << text;
  json line = JsonLines(out.str()).at(0);
  EXPECT_EQ(line.size(), 7u);
}

TEST(LoggerTest, UnsignedValuesAboveInt64MaxAreClamped) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Info("m", {{"u", std::numeric_limits<uint64_t>::max()}, {"s", size_t{7}}});
  json line = JsonLines(out.str()).at(0);
  EXPECT_EQ(line["u"].get<int64_t>(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(line["s"].get<int64_t>(), 7);
}

TEST(LoggerTest, TextFormatIsOneReadableLine) {
  FakeClock clock(kStart + milliseconds(7));
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kText, clock);
  logger.Info("server started", {{"port", 8080},
                                 {"host", "127.0.0.1"},
                                 {"note", "two words"},
                                 {"empty", ""},
                                 {"ratio", 1.5},
                                 {"tls", false}});
  logger.Warn("line one\nline two", {{"q", "a=b"}, {"bad", "x\xFF"}});
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "2023-11-14T22:13:20.007Z INFO  server started port=8080 host=127.0.0.1 "
            "note=\"two words\" empty=\"\" ratio=1.5 tls=false");
  EXPECT_EQ(
      lines[1],
      "2023-11-14T22:13:20.007Z WARN  \"line one\\nline two\" q=\"a=b\" bad=\"x\xEF\xBF\xBD\"");
}

TEST(LoggerTest, CreateRejectsBadFormatAndEmptyOutput) {
  FakeClock clock(kStart);
  auto bad_format = Logger::Create(LogLevel::kInfo, "yaml", "stdout", clock);
  ASSERT_FALSE(bad_format.has_value());
  EXPECT_EQ(bad_format.error().code, ErrorCode::kInvalidArgument);
  auto empty_output = Logger::Create(LogLevel::kInfo, "json", "", clock);
  ASSERT_FALSE(empty_output.has_value());
  EXPECT_EQ(empty_output.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoggerTest, CreateAcceptsStandardStreams) {
  FakeClock clock(kStart);
  auto out = Logger::Create(LogLevel::kError, "json", "stdout", clock);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ((*out)->level(), LogLevel::kError);
  auto err = Logger::Create(LogLevel::kDebug, "text", "stderr", clock);
  ASSERT_TRUE(err.has_value()) << err.error().message;
  EXPECT_TRUE((*err)->Enabled(LogLevel::kDebug));
}

TEST(LoggerTest, FileOutputIsCreatedAndAppendedTo) {
  TempDir dir;
  FakeClock clock(kStart);
  auto path = dir.path() / "helios.log";
  {
    auto logger = Logger::Create(LogLevel::kInfo, "json", path.string(), clock);
    ASSERT_TRUE(logger.has_value()) << logger.error().message;
    (*logger)->Info("first");
    // Flushed per line: visible before the logger is gone.
    EXPECT_EQ(Lines(ReadFile(path)).size(), 1u);
  }
  {
    auto logger = Logger::Create(LogLevel::kInfo, "json", path.string(), clock);
    ASSERT_TRUE(logger.has_value()) << logger.error().message;
    (*logger)->Info("second");
  }
  auto lines = JsonLines(ReadFile(path));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["message"], "first");
  EXPECT_EQ(lines[1]["message"], "second");
}

TEST(LoggerTest, FileThatCannotBeOpenedIsAnError) {
  TempDir dir;
  FakeClock clock(kStart);
  auto missing_dir = Logger::Create(LogLevel::kInfo, "json",
                                    (dir.path() / "no-such-dir" / "x.log").string(), clock);
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing_dir.error().message.find("cannot open the log output file"), std::string::npos);
  // The message names no path.
  EXPECT_EQ(missing_dir.error().message.find(dir.path().string()), std::string::npos);

  auto a_directory = Logger::Create(LogLevel::kInfo, "json", dir.path().string(), clock);
  ASSERT_FALSE(a_directory.has_value());
  EXPECT_EQ(a_directory.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoggerTest, ConcurrentWritersNeverInterleaveLines) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kPerThread; ++i) {
        logger.Info("concurrent", {{"thread", t}, {"i", i}, {"pad", std::string(100, 'x')}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const json& line : lines) {
    int t = line["thread"].get<int>();
    // Each thread's lines appear in the order it wrote them.
    EXPECT_EQ(line["i"].get<int>(), next[t]++);
  }
}

TEST(LoggerTest, SetLevelChangesWhichLinesAreKeptFromTheNextLine) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  logger.Debug("dropped at info");
  logger.SetLevel(LogLevel::kDebug);
  EXPECT_EQ(logger.level(), LogLevel::kDebug);
  EXPECT_TRUE(logger.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(logger.Enabled(LogLevel::kTrace));
  logger.Debug("kept at debug");
  logger.SetLevel(LogLevel::kError);
  logger.Warn("dropped at error");
  logger.Error("kept at error");
  // LogRequest asks the same level.
  RequestLog ok;
  ok.status = 200;
  LogRequest(logger, ok);
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[0]["level"], "DEBUG");
  EXPECT_EQ(lines[0]["message"], "kept at debug");
  EXPECT_EQ(lines[1]["level"], "ERROR");
  EXPECT_EQ(lines[1]["message"], "kept at error");
}

TEST(LoggerTest, SetLevelWhileOtherThreadsLog) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::atomic<bool> writing{true};
  // Switches between debug and info for as long as the writers write.
  std::thread switcher([&logger, &writing] {
    bool debug = false;
    while (writing.load()) {
      debug = !debug;
      logger.SetLevel(debug ? LogLevel::kDebug : LogLevel::kInfo);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&logger, t] {
      for (int i = 0; i < kPerThread; ++i) {
        logger.Debug("maybe", {{"thread", t}, {"i", i}});
        logger.Info("always", {{"thread", t}, {"i", i}});
      }
    });
  }
  for (auto& writer : writers) writer.join();
  writing = false;
  switcher.join();

  // Every line is whole; info lines are never dropped, whatever the switcher did; a debug line
  // is kept or dropped as a whole.
  auto lines = JsonLines(out.str());
  std::vector<int> next_info(kThreads, 0);
  std::vector<int> last_debug(kThreads, -1);
  size_t debug_lines = 0;
  for (const json& line : lines) {
    const int t = line["thread"].get<int>();
    const int i = line["i"].get<int>();
    if (line["message"] == "always") {
      EXPECT_EQ(line["level"], "INFO");
      EXPECT_EQ(i, next_info[t]++);
    } else {
      ASSERT_EQ(line["message"], "maybe");
      EXPECT_EQ(line["level"], "DEBUG");
      // Written before the info line of the same i, after the previous one.
      EXPECT_EQ(i, next_info[t]);
      EXPECT_GT(i, last_debug[t]);
      last_debug[t] = i;
      ++debug_lines;
    }
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next_info[t], kPerThread) << "thread " << t;
  EXPECT_EQ(lines.size(), kThreads * kPerThread + debug_lines);

  // The last level set holds once the switching stops.
  const LogLevel last = logger.level();
  out.str("");
  logger.Debug("after");
  EXPECT_EQ(out.str().empty(), last == LogLevel::kInfo) << out.str();
}

TEST(LogRequestTest, SuccessLineCarriesTheRunbookFields) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  RequestLog request;
  request.request_id = "req-1";
  request.method = "POST";
  request.path = "/api/v1/query";
  request.tenant_id = "default";
  request.session_id = "s-1";
  request.query = "how many customers";
  request.source = "engine";
  request.status = 200;
  request.latency_ms = 12.3456789;
  request.cache_hit = true;
  request.sql_generated = true;
  request.row_count = 3;
  request.database_ms = 4.0004999;
  LogRequest(logger, request);
  json line = JsonLines(out.str()).at(0);
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_EQ(line["message"], "request");
  EXPECT_EQ(line["request_id"], "req-1");
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["path"], "/api/v1/query");
  EXPECT_EQ(line["status"].get<int>(), 200);
  EXPECT_EQ(line["tenant_id"], "default");
  EXPECT_EQ(line["session_id"], "s-1");
  EXPECT_EQ(line["query"], "how many customers");
  EXPECT_DOUBLE_EQ(line["latency_ms"].get<double>(), 12.346);
  EXPECT_EQ(line["cache_hit"], true);
  EXPECT_EQ(line["sql_generated"], true);
  EXPECT_EQ(line["source"], "engine");
  EXPECT_EQ(line["row_count"].get<int>(), 3);
  EXPECT_DOUBLE_EQ(line["db_ms"].get<double>(), 4.0);
  EXPECT_FALSE(line.contains("error_code"));
}

TEST(LogRequestTest, FailureLineCarriesErrorCodeAndLevelFollowsStatus) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock);
  RequestLog request;
  request.path = "/api/v1/query";
  request.tenant_id = "default";
  request.query = "drop everything";
  request.status = 422;
  request.error_code = "not_understood";
  request.row_count = 9;  // ignored on failure
  LogRequest(logger, request);
  request.status = 503;
  request.error_code = "unavailable";
  LogRequest(logger, request);
  auto lines = JsonLines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["level"], "WARN");
  EXPECT_EQ(lines[0]["error_code"], "not_understood");
  EXPECT_EQ(lines[0]["status"].get<int>(), 422);
  EXPECT_EQ(lines[0]["session_id"], "");
  EXPECT_EQ(lines[0]["sql_generated"], false);
  EXPECT_FALSE(lines[0].contains("row_count"));
  EXPECT_FALSE(lines[0].contains("db_ms"));
  EXPECT_FALSE(lines[0].contains("source"));
  EXPECT_FALSE(lines[0].contains("request_id"));
  EXPECT_FALSE(lines[0].contains("method"));
  EXPECT_EQ(lines[1]["level"], "ERROR");
  EXPECT_EQ(lines[1]["error_code"], "unavailable");
}

TEST(LogRequestTest, RespectsTheLevelThreshold) {
  FakeClock clock(kStart);
  std::ostringstream out;
  Logger logger(out, LogLevel::kWarn, LogFormat::kJson, clock);
  RequestLog ok;
  ok.status = 200;
  LogRequest(logger, ok);
  EXPECT_EQ(out.str(), "");
  RequestLog failed;
  failed.status = 400;
  failed.error_code = "invalid_argument";
  LogRequest(logger, failed);
  EXPECT_EQ(JsonLines(out.str()).size(), 1u);
}

}  // namespace
}  // namespace helios::observability
