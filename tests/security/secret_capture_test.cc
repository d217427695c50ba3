// The recording side of the suite-wide secrets scan (support/secret_capture.h): which values
// count as secrets, and that a child process run through ChildProcess has the secrets it was
// given recorded and its output copied, so that the scan after the suite sees them.
#include "support/secret_capture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/text.h"
#include "support/child_process.h"

namespace helios::security {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Points HELIOS_TEST_CAPTURE_DIR at a directory of the test's own while it lives, then puts
// back what was there (the suite's own capture, when the suite runs with one).
class CaptureInto {
 public:
  explicit CaptureInto(const fs::path& dir) {
    if (const char* old = std::getenv("HELIOS_TEST_CAPTURE_DIR")) old_ = old;
    ::setenv("HELIOS_TEST_CAPTURE_DIR", dir.c_str(), 1);
  }
  ~CaptureInto() {
    if (old_) {
      ::setenv("HELIOS_TEST_CAPTURE_DIR", old_->c_str(), 1);
    } else {
      ::unsetenv("HELIOS_TEST_CAPTURE_DIR");
    }
  }
  CaptureInto(const CaptureInto&) = delete;
  CaptureInto& operator=(const CaptureInto&) = delete;

 private:
  std::optional<std::string> old_;
};

// Every line of every file in dir.
std::vector<std::string> LinesIn(const fs::path& dir) {
  std::vector<std::string> lines;
  if (!fs::is_directory(dir)) return lines;
  for (const auto& entry : fs::directory_iterator(dir)) {
    for (const std::string& line : text::Split(testing::ReadFile(entry.path()), '\n')) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  return lines;
}

TEST(SecretCaptureTest, FindsThePasswordsOfUrls) {
  EXPECT_THAT(testing::UrlPasswords("postgresql://reader:s3cr3t-pw@127.0.0.1:5432/helios"),
              ElementsAre("s3cr3t-pw"));
  EXPECT_THAT(testing::UrlPasswords("redis://:redis-password@127.0.0.1:6379/0"),
              ElementsAre("redis-password"));
  // Percent-encoded: both the written and the decoded form, which is what gets sent.
  EXPECT_THAT(testing::UrlPasswords("mysql://u:p%40ss%2Fword@h/db"),
              ElementsAre("p%40ss%2Fword", "p@ss/word"));
  EXPECT_THAT(testing::UrlPasswords("see a://x:one@h and b://y:two@h/z"),
              ElementsAre("one", "two"));
  EXPECT_THAT(testing::UrlPasswords("postgresql://reader@host/db"), IsEmpty());
  EXPECT_THAT(testing::UrlPasswords("sqlite://demo.db"), IsEmpty());
  EXPECT_THAT(testing::UrlPasswords("http://host:8080/path@x"), IsEmpty());
}

TEST(SecretCaptureTest, FindsSecretsInEnvironmentEntries) {
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("JWT_SECRET=abc-long-secret"),
              ElementsAre("abc-long-secret"));
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("ANTHROPIC_API_KEY=sk-ant-xyz"),
              ElementsAre("sk-ant-xyz"));
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("BI_PASSWORD=hunter2"), ElementsAre("hunter2"));
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("DATABASE_URL=postgres://u:pw-in-url@h/d"),
              ElementsAre("pw-in-url"));
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("HELIOSDB_LOG_LEVEL=debug"), IsEmpty());
  EXPECT_THAT(testing::SecretsInEnvironmentEntry("JWT_SECRET="), IsEmpty());
}

TEST(SecretCaptureTest, RecordsLongEnoughSecretsOnce) {
  testing::TempDir dir("helios-capture");
  testing::RegisterSecretIn(dir.path(), "a-recorded-secret");
  testing::RegisterSecretIn(dir.path(), "a-recorded-secret");
  testing::RegisterSecretIn(dir.path(), "short");
  testing::RegisterSecretIn(dir.path(), "two\nlines-of-secret");
  EXPECT_THAT(LinesIn(dir.path() / "secrets"), ElementsAre("a-recorded-secret"));
  EXPECT_EQ(
      fs::status(dir.path() / "secrets" / (std::to_string(::getpid()) + ".txt")).permissions() &
          (fs::perms::group_all | fs::perms::others_all),
      fs::perms::none);
}

TEST(SecretCaptureTest, OffWithoutTheVariable) {
  testing::TempDir dir("helios-capture");
  {
    CaptureInto capture(dir.path());
    ::unsetenv("HELIOS_TEST_CAPTURE_DIR");
    testing::RegisterSecretForScan("not-recorded-anywhere");
    testing::CaptureText("nothing", "text");
    EXPECT_FALSE(testing::CaptureDir().has_value());
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(SecretCaptureTest, AChildsSecretsAreRecordedAndItsOutputCopied) {
  testing::TempDir dir("helios-capture");
  const fs::path capture = dir.path() / "capture";
  testing::RunResult run;
  {
    CaptureInto into(capture);
    run = testing::RunToCompletion(
        {"/bin/sh", "-c", "echo child-says-hello; echo child-complains >&2",
         "postgresql://u:pw-in-argv@127.0.0.1/db"},
        dir.path(), testing::ChildEnvironment({"OPENAI_API_KEY=sk-from-env-123"}));
  }
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(LinesIn(capture / "secrets"), UnorderedElementsAre("pw-in-argv", "sk-from-env-123"));
  std::string copied;
  for (const auto& entry : fs::directory_iterator(capture / "output")) {
    EXPECT_THAT(entry.path().filename().string(), HasSubstr("sh."));
    copied += testing::ReadFile(entry.path());
  }
  EXPECT_THAT(copied, HasSubstr("child-says-hello"));
  EXPECT_THAT(copied, HasSubstr("child-complains"));
  EXPECT_THAT(LinesIn(capture / "children"), ElementsAre("sh captured"));
}

TEST(SecretCaptureTest, InheritedEnvironmentIsNotRecorded) {
  testing::TempDir dir("helios-capture");
  const fs::path capture = dir.path() / "capture";
  ::setenv("HELIOS_CAPTURE_TEST_API_KEY", "a-developers-own-key", 1);
  {
    CaptureInto into(capture);
    testing::RunToCompletion({"/bin/true"}, dir.path(), testing::ChildEnvironment());
  }
  ::unsetenv("HELIOS_CAPTURE_TEST_API_KEY");
  EXPECT_THAT(LinesIn(capture / "secrets"), IsEmpty());
  EXPECT_THAT(LinesIn(capture / "children"), ElementsAre("true captured"));
}

}  // namespace
}  // namespace helios::security
