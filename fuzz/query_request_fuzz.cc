// Fuzzes the decoding of the body of POST /api/v1/query (ParseQueryRequest and the JSON parser
// under it). Beyond not crashing, an accepted request must satisfy every rule the decoder
// promises, and encoding it back to JSON must decode to the same request: the handler relies on
// both.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/text.h"
#include "fuzz_check.h"
#include "server/query_request.h"

namespace {

// Small enough that the fuzzer reaches the limit; the server's default is larger.
constexpr size_t kMaxQueryCharacters = 200;

bool HasForbiddenControl(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size()) {
      auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using helios::server::ParseQueryRequest;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto request = ParseQueryRequest(body, kMaxQueryCharacters);
  if (!request) {
    FUZZ_CHECK(!request.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(helios::text::IsValidUtf8(request->query));
  FUZZ_CHECK(!helios::text::Trim(request->query).empty());
  FUZZ_CHECK(!HasForbiddenControl(request->query));
  FUZZ_CHECK(helios::server::CountUtf8Characters(request->query) <= kMaxQueryCharacters);
  FUZZ_CHECK(request->session_id.empty() || helios::server::IsValidId(request->session_id));
  FUZZ_CHECK(request->database.empty() || helios::server::IsValidId(request->database));

  nlohmann::json encoded = {{"query", request->query}};
  if (!request->session_id.empty()) encoded["session_id"] = request->session_id;
  if (!request->database.empty()) encoded["database"] = request->database;
  auto again = ParseQueryRequest(encoded.dump(), kMaxQueryCharacters);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->query == request->query);
  FUZZ_CHECK(again->session_id == request->session_id);
  FUZZ_CHECK(again->database == request->database);
  return 0;
}
