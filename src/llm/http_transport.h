// The HTTP client the LLM providers use: a seam, so tests replace it (or point the real one at
// a fake server on loopback). CurlTransport is libcurl: TLS verified, the usual proxy
// environment variables honoured, connections reused.
//
// Thread-safety: Send() may be called concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace helios::llm {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // the whole exchange
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;
  // The value of a header, matched case-insensitively; empty when absent.
  std::string Header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response (the caller interprets it). kDeadlineExceeded when the
  // timeout passes; kUnavailable when the host cannot be reached (DNS, connection, TLS). The
  // message never contains request headers (they carry keys).
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl. Construct once (it initialises libcurl globally) and share. max_idle_handles: easy
// handles (each keeping its live connection) kept for reuse between calls; more may exist while
// calls run concurrently. Size it to the calls that run at once (the [llm] bulkhead), or most
// calls under load open a new connection (and TLS session) and close it again.
std::unique_ptr<HttpTransport> MakeCurlTransport(size_t max_idle_handles = 8);

}  // namespace helios::llm
