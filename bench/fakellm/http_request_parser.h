// Reading HTTP/1.1 requests for helios-fakellm: given the bytes a connection has received so
// far, finds whether the first request in them is complete, and if so its method, target, body
// and whether the connection stays open after it. Bodies are delimited by Content-Length only:
// the clients this stands in for (libcurl posting a JSON body) never send chunked requests.
// A pure function of its input, so every rule is tested without a socket; the server calls it
// again with more bytes until the request is complete.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace helios::fakellm {

struct RequestLimits {
  size_t max_header_bytes = 64 * 1024;       // request line and headers, with their CRLFs
  size_t max_body_bytes = 16 * 1024 * 1024;  // a prompt is a few KiB
};

struct ParsedRequest {
  std::string method;
  std::string target;  // as sent: "/v1/chat/completions", maybe with a query
  // Points into the buffer given to ParseRequest: valid while that buffer is unchanged.
  std::string_view body;
  // False for "Connection: close", and for HTTP/1.0 without "Connection: keep-alive".
  bool keep_alive = true;
};

struct ParseOutcome {
  enum class State { kIncomplete, kComplete, kError };
  State state = State::kIncomplete;
  ParsedRequest request;  // kComplete
  size_t consumed = 0;    // kComplete: the bytes of this request; the next starts after them
  // kError: the status to answer (400 malformed, 413 body too large, 431 headers too large,
  // 501 a transfer coding, 505 not HTTP/1.x) and why, for the error body. After an error the
  // rest of the connection's bytes cannot be framed: the caller answers and closes.
  int error_status = 0;
  std::string error_message;
};

// Reads the request at the start of `buffer`.
ParseOutcome ParseRequest(std::string_view buffer, const RequestLimits& limits = {});

}  // namespace helios::fakellm
