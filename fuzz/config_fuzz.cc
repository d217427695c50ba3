// Fuzzes the TOML configuration loader (config::ParseConfig, toml++ under it). An accepted
// configuration must pass Validate() again (start-up re-validates after command-line
// overrides), must equal itself and a second parse of the same text, and must survive a round
// trip through toml++'s own writer: the file re-emitted by toml++ describes the same settings.
#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

namespace {

std::optional<std::string> NoEnvironment(std::string_view) { return std::nullopt; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace config = helios::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = config::ParseConfig(text, "fuzz.toml", NoEnvironment);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(config::Validate(*parsed).has_value());
  FUZZ_CHECK(config::ChangedSettings(*parsed, *parsed).empty());
  FUZZ_CHECK(!config::RedactedSummary(*parsed).empty());
  auto again = config::ParseConfig(text, "fuzz.toml", NoEnvironment);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(config::ChangedSettings(*parsed, *again).empty());

  // ParseConfig accepted the text, so toml++ parses it too.
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error&) {
    FUZZ_CHECK(false);
  }
  std::ostringstream written;
  written << table;
  auto round_trip = config::ParseConfig(written.str(), "fuzz.toml", NoEnvironment);
  FUZZ_CHECK(round_trip.has_value());
  FUZZ_CHECK(config::ChangedSettings(*parsed, *round_trip).empty());
  return 0;
}
