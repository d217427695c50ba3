// HttpResponse helpers shared by every transport (the libcurl one is in curl_transport.cc).
#include "llm/http_transport.h"

#include "common/text.h"

namespace helios::llm {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (text::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

}  // namespace helios::llm
