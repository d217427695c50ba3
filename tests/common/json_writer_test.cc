#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace helios::json {
namespace {

std::string Nlohmann(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Written(std::string_view s) {
  std::string out;
  AppendString(out, s);
  return out;
}

std::string WrittenDouble(double d) {
  std::string out;
  AppendDouble(out, d);
  return out;
}

TEST(JsonWriterTest, StringsAreWrittenAsNlohmannWritesThem) {
  const std::string cases[] = {
      "",
      "plain ascii",
      "quote \" and backslash \\ and slash /",
      "controls \b\f\n\r\t \x01\x1f and DEL \x7f",
      std::string("a NUL \0 inside", 14),
      "München, Zürich, 東京, emoji 😀",
      "line separator \xE2\x80\xA8 kept",
      "invalid \xC3 byte",
      "truncated at the end \xE6\x9D",
      "overlong \xC0\xAF and surrogate \xED\xA0\x80",
      "stray continuation \x80\x80 bytes",
  };
  for (const std::string& s : cases) {
    EXPECT_EQ(Written(s), Nlohmann(s)) << s;
    // And it reads back (invalid bytes as U+FFFD).
    EXPECT_TRUE(nlohmann::json::accept(Written(s))) << s;
  }
  EXPECT_EQ(Written("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(Written(std::string("\x1f", 1)), "\"\\u001f\"");
}

TEST(JsonWriterTest, DoublesAreWrittenAsNlohmannWritesThem) {
  const double cases[] = {0.0,
                          -0.0,
                          1.0,
                          -1.5,
                          0.1,
                          1e21,
                          1e-7,
                          123.456,
                          1e300,
                          5e-324,
                          2.5e15,
                          1e16,
                          3.0e-5,
                          1234567.0,
                          std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::min()};
  for (double d : cases) {
    EXPECT_EQ(WrittenDouble(d), Nlohmann(d)) << d;
    EXPECT_EQ(nlohmann::json::parse(WrittenDouble(d)).get<double>(), d);
  }
  EXPECT_EQ(WrittenDouble(1.0), "1.0");
  EXPECT_EQ(WrittenDouble(std::nan("")), "null");
  EXPECT_EQ(WrittenDouble(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(WrittenDouble(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriterTest, NestedDocumentMatchesNlohmann) {
  std::string out;
  Writer w(out);
  w.BeginObject();
  w.Member("name", "Zoë");
  w.Key("n");
  w.Int(-42);
  w.Key("u");
  w.UInt(18446744073709551615ULL);
  w.Key("rows");
  w.BeginArray();
  w.BeginArray();
  w.Int(1);
  w.String("a");
  w.Null();
  w.EndArray();
  w.BeginArray();
  w.EndArray();
  w.BeginArray();
  w.Double(2.5);
  w.Bool(true);
  w.Bool(false);
  w.EndArray();
  w.EndArray();
  w.Key("empty");
  w.BeginObject();
  w.EndObject();
  w.Key("raw");
  w.Raw(R"({"a":[1,2]})");
  w.Key("list");
  w.StringArray({"x", "y"});
  w.EndObject();

  nlohmann::ordered_json expected;
  expected["name"] = "Zoë";
  expected["n"] = -42;
  expected["u"] = 18446744073709551615ULL;
  expected["rows"] = nlohmann::ordered_json::array(
      {nlohmann::ordered_json::array({1, "a", nullptr}), nlohmann::ordered_json::array(),
       nlohmann::ordered_json::array({2.5, true, false})});
  expected["empty"] = nlohmann::ordered_json::object();
  expected["raw"] = nlohmann::ordered_json::parse(R"({"a":[1,2]})");
  expected["list"] = nlohmann::ordered_json::array({"x", "y"});
  EXPECT_EQ(out, Nlohmann(expected));
}

TEST(JsonWriterTest, AppendsToWhatIsAlreadyThere) {
  std::string out = "prefix:";
  Writer w(out);
  w.BeginArray();
  w.Int(1);
  w.EndArray();
  EXPECT_EQ(out, "prefix:[1]");
}

}  // namespace
}  // namespace helios::json
