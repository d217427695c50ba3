// An incremental HTTP/1.1 response parser for helios-loadgen: fed the bytes of one connection as
// they arrive, in pieces of any size, it finds the end of each response (Content-Length,
// chunked, no body, or up to the connection's close) without copying bodies, and reports the
// status and whether the connection may be reused. Interim 1xx responses are skipped.
// Malformed input is an ErrorCode::kInvalidArgument error saying what was wrong.
// Thread-safety: none; one parser per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::loadgen {

class HttpResponseParser {
 public:
  // A status line and headers longer than this are an error (a real server's are far shorter).
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  struct Progress {
    size_t consumed = 0;    // bytes of the input that belong to this response
    bool complete = false;  // the response ended within them
  };

  HttpResponseParser() { Reset(); }

  // Prepares for the response to the next request; a HEAD request's response has no body.
  void Reset(bool head_request = false);

  // Consumes bytes up to the end of the response. Once it is complete, bytes after it are left
  // unconsumed (the caller decides what they are) and further calls consume nothing.
  Result<Progress> Feed(std::string_view data);
  // The peer closed the connection: completes a body that runs to the close; an error when the
  // response was cut short (or had not started).
  Result<void> FeedEof();

  bool complete() const { return state_ == State::kComplete; }
  // True once any byte of the response has been consumed.
  bool started() const { return started_; }
  // Valid once the status line was read (0 before).
  int status() const { return status_; }
  // Valid once complete: false when the server said Connection: close, answered as HTTP/1.0
  // without keep-alive, or ended the body by closing.
  bool keep_alive() const { return keep_alive_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    kStatusLine,
    kHeaders,
    kBody,          // Content-Length bytes remain
    kChunkSize,     // the line with a chunk's size
    kChunkData,     // a chunk's bytes remain
    kChunkDataEnd,  // the CRLF after a chunk
    kTrailers,      // trailer fields after the last chunk, up to an empty line
    kUntilClose,    // a body without a length: everything up to the close
    kComplete,
  };

  Result<void> OnLine(std::string_view line);
  Result<void> OnStatusLine(std::string_view line);
  Result<void> OnHeader(std::string_view line);
  Result<void> OnHeadersEnd();
  Result<void> OnChunkSize(std::string_view line);

  State state_ = State::kStatusLine;
  bool head_request_ = false;
  bool started_ = false;
  int status_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool chunked_ = false;
  bool has_content_length_ = false;
  uint64_t content_length_ = 0;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t header_bytes_ = 0;
  // A line split across reads, kept until its end arrives.
  std::string partial_line_;
};

}  // namespace helios::loadgen
