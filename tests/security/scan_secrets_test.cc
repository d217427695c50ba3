// scripts/scan_secrets.py, the scan that runs after the whole suite over what it captured: it
// finds a planted secret in each form a leak takes, says where without printing the secret,
// passes a clean capture, and fails loudly (exit 2) when nothing was recorded to look for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "security/encodings.h"
#include "support/child_process.h"

namespace helios::security {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Not recorded anywhere else: these tests plant their own leaks.
const std::string kKey = "sk-planted-Hq7LmW2xN9vB4cR8tY3pK6jD";
const std::string kSlashy = "pa/ss\"wo\\rd+with=odd&chars";

class ScanSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(capture() / "output");
    fs::create_directories(capture() / "secrets");
  }

  fs::path capture() const { return dir_.path() / "capture"; }

  void RecordSecrets(const std::vector<std::string>& secrets) {
    std::string lines;
    for (const std::string& s : secrets) lines += s + "\n";
    testing::WriteFile(capture() / "secrets" / "1234.txt", lines);
  }

  // A file under output/ whose third line carries `leak`.
  fs::path Plant(const std::string& name, const std::string& leak) {
    const fs::path path = capture() / "output" / name;
    testing::WriteFile(path, "first line\n{\"level\":\"INFO\"}\nsomething " + leak + " more\n");
    return path;
  }

  testing::RunResult Scan(const std::vector<std::string>& extra = {}) {
    const auto python = testing::FindProgram("python3");
    if (!python) {
      ADD_FAILURE() << "python3 is needed to run scripts/scan_secrets.py";
      return {};
    }
    std::vector<std::string> argv = {python->string(),
                                     std::string(HELIOS_SOURCE_DIR) + "/scripts/scan_secrets.py"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunToCompletion(argv, dir_.path(), testing::ChildEnvironment());
  }

  testing::TempDir dir_{"helios-scan-secrets"};
};

TEST_F(ScanSecretsTest, NothingRecordedIsABrokenCaptureNotAPass) {
  Plant("log.txt", "nothing secret");
  testing::RunResult r = Scan({capture().string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no secret recorded"));

  // Values too short to be told from ordinary text are not secrets, so this is the same.
  RecordSecrets({"short", "pw123"});
  r = Scan({capture().string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST_F(ScanSecretsTest, BadUsageExitsTwo) {
  EXPECT_EQ(Scan({}).exit_code, 2);
  EXPECT_EQ(Scan({(dir_.path() / "missing").string()}).exit_code, 2);
  RecordSecrets({kKey});
  EXPECT_EQ(Scan({capture().string(), (dir_.path() / "no-such.log").string()}).exit_code, 2);
}

TEST_F(ScanSecretsTest, ACleanCapturePasses) {
  RecordSecrets({kKey, kSlashy});
  Plant("server.out", "refused the API key in OPENAI_API_KEY (HTTP 401): [redacted]");
  Plant("server.err", "postgresql://helios_reader:***@127.0.0.1:5432/helios");
  testing::RunResult r = Scan({capture().string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 secrets"));
  EXPECT_THAT(r.out, HasSubstr("2 files scanned"));
  EXPECT_THAT(r.out, HasSubstr("0 hits"));
}

TEST_F(ScanSecretsTest, FindsEveryFormAndNeverPrintsTheSecret) {
  RecordSecrets({kKey, kSlashy});
  struct Case {
    const char* name;
    std::string leak;
    const char* kind;
  };
  const std::vector<Case> cases = {
      {"raw", "Incorrect API key provided: " + kKey, "raw"},
      {"truncated", "Incorrect API key provided: " + kKey.substr(0, 14) + "****wxyz",
       "first 12 characters"},
      // Inside longer base64 values, at each of the three alignments.
      {"basic", "Authorization: Basic " + testing::Base64("user:" + kSlashy), "base64"},
      {"b64-1", testing::Base64("x" + kKey), "base64"},
      {"b64-2", testing::Base64("xy" + kKey), "base64"},
      {"b64url", testing::Base64("{\"k\":\"" + kSlashy + "\"}", true), "base64"},
      {"percent", "https://h/?key=" + testing::PercentEncode(kSlashy), "URL-encoded"},
      {"json", R"({"password":"pa/ss\"wo\\rd+with=odd&chars"})", "JSON-escaped"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::error_code ec;
    fs::remove_all(capture() / "output", ec);
    fs::create_directories(capture() / "output");
    const fs::path planted = Plant(std::string(c.name) + ".log", c.leak);
    testing::RunResult r = Scan({capture().string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(planted.string() + ":3: " + c.kind));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(kKey.substr(0, 12))));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(kSlashy)));
  }
}

TEST_F(ScanSecretsTest, ScansTheExtraFilesToo) {
  RecordSecrets({kKey});
  Plant("clean.log", "nothing here");
  const fs::path last_test = dir_.path() / "LastTest.log";
  testing::WriteFile(last_test, "test output\nkey=" + kKey + "\n");
  testing::RunResult r = Scan({capture().string(), last_test.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(last_test.string() + ":2: raw"));
  EXPECT_THAT(r.out, HasSubstr("2 files scanned"));
}

}  // namespace
}  // namespace helios::security
