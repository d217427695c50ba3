#include "nl2sql/examples/example_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace helios::nl2sql::examples {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

system_clock::time_point At(int64_t millis) {
  return system_clock::time_point(std::chrono::milliseconds(millis));
}

class ExampleFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "helios-examples-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(std::string_view name) const { return (dir_ / name).string(); }
  void WriteText(const std::string& path, std::string_view text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::string ReadText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  fs::path dir_;
};

TEST(ParseExamples, ReadsRequiredAndOptionalKeys) {
  const std::string text =
      "{\"question\": \"  Revenue by region \", \"sql\": \"SELECT 1\"}\n"
      "\n"
      "   \n"
      "{\"question\": \"Orders\", \"sql\": \"SELECT 2\", \"database\": \"crm\", \"tenant\": "
      "\"acme\", \"source\": \"user\", \"added\": \"2025-03-01T12:00:00.250Z\"}\r\n";
  auto examples = ParseExamples(text, "seed.jsonl", {.database = "demo"});
  ASSERT_TRUE(examples.has_value()) << examples.error().message;
  ASSERT_EQ(examples->size(), 2u);
  const Example& first = (*examples)[0];
  EXPECT_EQ(first.question, "Revenue by region");  // trimmed
  EXPECT_EQ(first.sql, "SELECT 1");
  EXPECT_EQ(first.database, "demo");  // the default
  EXPECT_EQ(first.tenant, "");
  EXPECT_EQ(first.source, "seed");
  EXPECT_EQ(first.added, system_clock::time_point{});
  const Example& second = (*examples)[1];
  EXPECT_EQ(second.database, "crm");
  EXPECT_EQ(second.tenant, "acme");
  EXPECT_EQ(second.source, "user");
  EXPECT_EQ(second.added, At(1'740'830'400'250));
}

TEST(ParseExamples, AcceptsAByteOrderMarkAndAnEmptyFile) {
  auto examples = ParseExamples("\xEF\xBB\xBF{\"question\": \"q\", \"sql\": \"s\"}", "f");
  ASSERT_TRUE(examples.has_value()) << examples.error().message;
  EXPECT_EQ(examples->size(), 1u);
  auto empty = ParseExamples("", "f");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseExamples, NamesTheFileAndLineOfEachMistake) {
  const std::string good = "{\"question\": \"q\", \"sql\": \"s\"}\n";
  struct Case {
    std::string line;
    std::string message;  // expected after "seed.jsonl:3: "
  };
  const std::vector<Case> cases = {
      {"{\"question\": \"q\", \"sql\": ", "not valid JSON"},
      {"[\"q\", \"s\"]", "expected a JSON object"},
      {"{\"question\": \"q\"}", "\"sql\" is missing"},
      {"{\"sql\": \"s\"}", "\"question\" is missing"},
      {"{\"question\": \"  \", \"sql\": \"s\"}", "\"question\" must be a non-empty string"},
      {"{\"question\": \"q\", \"sql\": \"\"}", "\"sql\" must be a non-empty string"},
      {"{\"question\": \"?\", \"sql\": \"s\"}", "\"question\" has no words"},
      {"{\"question\": \"q\", \"sql\": 5}", "\"sql\" must be a string"},
      {"{\"question\": \"q\", \"sql\": \"s\", \"tenant\": null}", "\"tenant\" must be a string"},
      {"{\"question\": \"q\", \"sql\": \"s\", \"querstion\": \"x\"}", "unknown key \"querstion\""},
      {"{\"question\": \"q\", \"sql\": \"s\", \"source\": \"llm\"}",
       "\"source\" must be \"seed\" or \"user\""},
      {"{\"question\": \"q\", \"sql\": \"s\", \"added\": \"yesterday\"}", "\"added\": expected"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    auto result = ParseExamples(good + "\n" + c.line + "\n" + good, "seed.jsonl");
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message.rfind("seed.jsonl:3: " + c.message, 0), 0u)
        << result.error().message;
  }
}

TEST(ParseExamples, RefusesOversizedText) {
  const std::string line =
      "{\"question\": \"" + std::string(kMaxQuestionBytes + 1, 'a') + "\", \"sql\": \"s\"}";
  auto result = ParseExamples(line, "f");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("longer than"), std::string::npos);
}

TEST(Timestamp, FormatsAndParsesUtcToTheMillisecond) {
  EXPECT_EQ(FormatTimestamp(At(1'740'830'400'250)), "2025-03-01T12:00:00.250Z");
  EXPECT_EQ(FormatTimestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  // Sub-millisecond digits are dropped, not rounded.
  EXPECT_EQ(FormatTimestamp(At(5) + std::chrono::microseconds(999)), "1970-01-01T00:00:00.005Z");
  EXPECT_EQ(ParseTimestamp("2025-03-01T12:00:00Z"), At(1'740'830'400'000));
  EXPECT_EQ(ParseTimestamp("2025-03-01T12:00:00.25Z"), At(1'740'830'400'250));
  EXPECT_EQ(ParseTimestamp("2025-03-01T12:00:00.250999999Z"), At(1'740'830'400'250));
  EXPECT_EQ(ParseTimestamp("2024-02-29T23:59:59.001Z"), At(1'709'251'199'001));
  for (const char* bad :
       {"", "2025-03-01", "2025-03-01T12:00:00", "2025-03-01T12:00:00+01:00",
        "2025-03-01 12:00:00Z", "2025-13-01T12:00:00Z", "2025-02-29T12:00:00Z",
        "2025-03-01T24:00:00Z", "2025-03-01T12:00:60Z", "2025-03-01T12:00:00.Z",
        "2025-03-01T12:00:00.1234567890Z", "2025-03-01T12:00:00ZZ", "2O25-03-01T12:00:00Z"}) {
    SCOPED_TRACE(bad);
    auto parsed = ParseTimestamp(bad);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(ExampleFiles, WritesAFileThatReadsBackTheSame) {
  const std::vector<Example> examples = {
      {.question = "Revenue by region",
       .sql = "SELECT r.name, SUM(o.total_amount) FROM orders o JOIN regions r ON 1 = 1",
       .database = "demo",
       .tenant = "acme",
       .source = "user",
       .added = At(1'740'830'400'250)},
      {.question = "Umsatz \"pro\" Kunde\tmit Ümlaut",
       .sql = "SELECT 'a\\b'\nFROM t",
       .database = "",
       .tenant = "",
       .source = "seed",
       .added = At(0)},
  };
  const std::string path = Path("examples.jsonl");
  ASSERT_TRUE(WriteExamplesFile(path, examples).has_value());
  auto read = ReadExamplesFile(path);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(*read, examples);
  // One line per example, so the file stays JSON Lines even with newlines in SQL.
  const std::string text = ReadText(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST_F(ExampleFiles, ReplacesTheFileAndLeavesNoTemporaryFiles) {
  const std::string path = Path("examples.jsonl");
  WriteText(path, "old contents\n");
  ASSERT_TRUE(WriteExamplesFile(path, std::vector<Example>{{.question = "q", .sql = "s"}}));
  EXPECT_EQ(ReadText(path).find("old"), std::string::npos);
  ASSERT_TRUE(WriteExamplesFile(path, std::vector<Example>{}));
  EXPECT_EQ(ReadText(path), "");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"examples.jsonl"});
}

TEST_F(ExampleFiles, FailsCleanlyWhenTheDirectoryIsMissing) {
  const std::string path = Path("missing/examples.jsonl");
  auto written = WriteExamplesFile(path, std::vector<Example>{{.question = "q", .sql = "s"}});
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(ExampleFiles, ReadingAMissingFileIsNotFound) {
  auto read = ReadExamplesFile(Path("nope.jsonl"));
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  auto directory = ReadExamplesFile(dir_.string());
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ExampleFiles, ReadingNamesTheFileInErrors) {
  const std::string path = Path("seed.jsonl");
  WriteText(path, "{\"question\": \"q\", \"sql\": \"s\"}\n{oops}\n");
  auto read = ReadExamplesFile(path);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().message.rfind(path + ":2: not valid JSON", 0), 0u) << read.error().message;
}

}  // namespace
}  // namespace helios::nl2sql::examples
