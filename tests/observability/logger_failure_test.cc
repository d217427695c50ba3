// The logger when its output fails (a full disk, a closed pipe, a file-size limit): the caller
// is never stopped, failed lines are counted, the failure and the recovery are each reported
// once, and lines logged after the output works again are written whole.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "observability/logger.h"
#include "observability/metrics.h"

namespace helios::observability {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::chrono::system_clock::time_point kStart(std::chrono::seconds(1'700'000'000));

// A stream buffer that refuses every byte while `failing` is set (as a full disk does) and keeps
// what it accepts. It holds no buffer of its own, so nothing refused is written later.
class SwitchableBuf : public std::streambuf {
 public:
  bool failing = false;
  std::string written;

 protected:
  int_type overflow(int_type c) override {
    if (failing) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) written.push_back(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (failing) return 0;
    written.append(s, static_cast<size_t>(n));
    return n;
  }
  int sync() override { return failing ? -1 : 0; }
};

std::vector<std::string> LinesOf(const std::string& s) {
  std::vector<std::string> lines = text::Split(s, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

TEST(LoggerFailureTest, DroppedLinesAreCountedAndLinesAfterRecoveryAreWritten) {
  FakeClock clock(kStart);
  SwitchableBuf buf;
  std::ostream out(&buf);
  std::ostringstream notices;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock, &notices);
  const uint64_t process_before = DroppedLogLines();

  logger.Info("before");
  buf.failing = true;
  logger.Info("lost 1");
  logger.Warn("lost 2", {{"n", 2}});
  logger.Error("lost 3");
  EXPECT_EQ(logger.dropped_lines(), 3u);
  EXPECT_EQ(DroppedLogLines() - process_before, 3u);
  // The stream is not left in its failed state.
  EXPECT_TRUE(out.good());

  buf.failing = false;
  clock.Advance(std::chrono::seconds(5));
  logger.Info("after", {{"k", "v"}});
  logger.Info("later");
  EXPECT_EQ(logger.dropped_lines(), 3u);

  std::vector<std::string> lines = LinesOf(buf.written);
  ASSERT_EQ(lines.size(), 4u) << buf.written;
  EXPECT_EQ(json::parse(lines[0])["message"], "before");
  // The gap is reported in the log itself, where it happened.
  const json gap = json::parse(lines[1]);
  EXPECT_EQ(gap["level"], "WARN");
  EXPECT_THAT(gap["message"].get<std::string>(), HasSubstr("log lines were dropped"));
  EXPECT_EQ(gap["dropped_lines"], 3);
  EXPECT_EQ(gap["timestamp"], "2023-11-14T22:13:25.000Z");
  EXPECT_EQ(json::parse(lines[2])["message"], "after");
  EXPECT_EQ(json::parse(lines[2])["k"], "v");
  EXPECT_EQ(json::parse(lines[3])["message"], "later");
  EXPECT_THAT(buf.written, Not(HasSubstr("lost")));

  // One notice when it started failing, one when it worked again.
  EXPECT_EQ(CountOf(notices.str(), "cannot write the log"), 1u) << notices.str();
  EXPECT_EQ(CountOf(notices.str(), "can be written again; 3 line(s) were dropped"), 1u)
      << notices.str();
  EXPECT_EQ(LinesOf(notices.str()).size(), 2u) << notices.str();
}

TEST(LoggerFailureTest, ALongOutageNeitherSilencesTheLoggerNorFloodsTheNotices) {
  FakeClock clock(kStart);
  SwitchableBuf buf;
  std::ostream out(&buf);
  std::ostringstream notices;
  Logger logger(out, LogLevel::kInfo, LogFormat::kText, clock, &notices);

  for (int round = 1; round <= 3; ++round) {
    buf.failing = true;
    for (int i = 0; i < 5000; ++i) logger.Info("lost");
    buf.failing = false;
    logger.Info("back", {{"round", round}});
  }
  EXPECT_EQ(logger.dropped_lines(), 15000u);
  const std::vector<std::string> lines = LinesOf(buf.written);
  ASSERT_EQ(lines.size(), 6u) << buf.written;
  for (int round = 1; round <= 3; ++round) {
    const size_t i = static_cast<size_t>(round - 1) * 2;
    EXPECT_THAT(lines[i], HasSubstr("dropped_lines=5000"));
    EXPECT_THAT(lines[i + 1], HasSubstr("back round=" + std::to_string(round)));
  }
  EXPECT_EQ(LinesOf(notices.str()).size(), 6u) << notices.str();
}

TEST(LoggerFailureTest, TheGapLineFollowsTheLevel) {
  FakeClock clock(kStart);
  SwitchableBuf buf;
  std::ostream out(&buf);
  std::ostringstream notices;
  Logger logger(out, LogLevel::kError, LogFormat::kJson, clock, &notices);
  buf.failing = true;
  logger.Error("lost");
  logger.Info("below the level: neither written nor counted");
  EXPECT_EQ(logger.dropped_lines(), 1u);
  buf.failing = false;
  logger.Error("after");
  const std::vector<std::string> lines = LinesOf(buf.written);
  ASSERT_EQ(lines.size(), 1u) << buf.written;
  EXPECT_EQ(json::parse(lines[0])["message"], "after");
  // The recovery is still reported.
  EXPECT_THAT(notices.str(), HasSubstr("1 line(s) were dropped"));
}

TEST(LoggerFailureTest, AFullDiskDropsAndCountsEveryLine) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  FakeClock clock(kStart);
  auto logger = Logger::Create(LogLevel::kInfo, "json", "/dev/full", clock);
  ASSERT_TRUE(logger.has_value()) << logger.error().message;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 1000; ++i) (*logger)->Info("request", {{"i", i}});
  const std::string notices = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ((*logger)->dropped_lines(), 1000u);
  EXPECT_EQ(CountOf(notices, "cannot write the log: No space left on device"), 1u) << notices;
  EXPECT_EQ(LinesOf(notices).size(), 1u) << notices;
}

// The process's file-size limit, restored (with SIGXFSZ's disposition) when the test ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    // Past the limit write(2) would raise SIGXFSZ, which ends the process; ignored, it fails
    // with EFBIG instead, like a full disk fails with ENOSPC.
    saved_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    Set(bytes);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, saved_handler_);
  }
  void Set(rlim_t bytes) {
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  sighandler_t saved_handler_ = SIG_DFL;
  bool ok_ = false;
};

TEST(LoggerFailureTest, AFileThatFillsUpAndGetsRoomAgainKeepsWholeLines) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("helios-logger-failure-" + text::NewUuid() + ".log");
  struct Remove {
    std::filesystem::path path;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } remove{path};
  FakeClock clock(kStart);
  auto logger = Logger::Create(LogLevel::kInfo, "json", path.string(), clock);
  ASSERT_TRUE(logger.has_value()) << logger.error().message;

  std::string notices;
  {
    // Room for a few lines: one line is cut off part-way, the rest are refused.
    FileSizeLimit limit(1000);
    if (!limit.ok()) GTEST_SKIP() << "cannot set RLIMIT_FSIZE here";
    ::testing::internal::CaptureStderr();
    for (int i = 0; i < 40; ++i) {
      (*logger)->Info("filling", {{"i", i}, {"padding", std::string(40, 'x')}});
    }
    ASSERT_GT((*logger)->dropped_lines(), 0u);
    ASSERT_LT((*logger)->dropped_lines(), 40u);
    limit.Set(RLIM_INFINITY);
    (*logger)->Info("after");
    (*logger)->Info("later");
    notices = ::testing::internal::GetCapturedStderr();
  }
  const uint64_t dropped = (*logger)->dropped_lines();
  EXPECT_THAT(notices, HasSubstr("cannot write the log: File too large"));
  EXPECT_THAT(notices, HasSubstr(fmt::format("{} line(s) were dropped", dropped)));

  const std::vector<std::string> lines = LinesOf([&] {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }());
  // Every line is a whole JSON object but the one the limit cut off; the lines after the gap
  // start on a line of their own.
  size_t whole = 0;
  size_t cut = 0;
  for (const std::string& line : lines) {
    if (json::accept(line)) {
      ++whole;
    } else {
      ++cut;
      // Some start of a "filling" line.
      const std::string head =
          R"({"timestamp":"2023-11-14T22:13:20.000Z","level":"INFO","service":"conversational-bi",)"
          R"("message":"filling","i":)";
      EXPECT_TRUE(!line.empty() && (head.starts_with(line) || line.starts_with(head))) << line;
    }
  }
  EXPECT_EQ(cut, 1u);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(whole + dropped, 40u + 3u);  // 40 "filling", the gap line, "after", "later"
  const json gap = json::parse(lines[lines.size() - 3]);
  EXPECT_EQ(gap["dropped_lines"], dropped);
  EXPECT_EQ(json::parse(lines[lines.size() - 2])["message"], "after");
  EXPECT_EQ(json::parse(lines.back())["message"], "later");
}

TEST(LoggerFailureTest, ServiceMetricsExportTheDroppedLinesAsACounter) {
  MetricsRegistry registry;
  ServiceMetrics metrics(registry);
  FakeClock clock(kStart);
  SwitchableBuf buf;
  std::ostream out(&buf);
  std::ostringstream notices;
  Logger logger(out, LogLevel::kInfo, LogFormat::kJson, clock, &notices);
  buf.failing = true;
  logger.Info("lost");
  logger.Info("lost");

  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE log_lines_dropped_total counter\n"));
  // Read when scraped: whatever this process dropped so far, these two included.
  const std::string sample = "\nlog_lines_dropped_total " +
                             FormatMetricValue(static_cast<double>(DroppedLogLines())) + "\n";
  EXPECT_THAT(text, HasSubstr(sample));
  EXPECT_GE(DroppedLogLines(), 2u);
}

}  // namespace
}  // namespace helios::observability
