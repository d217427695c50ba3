#include "http_response_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace helios::loadgen {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `fn` with each comma-separated element of a header's value, trimmed.
template <typename Fn>
void ForEachToken(std::string_view value, Fn fn) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    fn(Trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// A short, printable excerpt of bad input for an error message.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 60) out += "...";
  return out;
}

std::unexpected<Error> Malformed(std::string what) {
  return Fail(ErrorCode::kInvalidArgument, "malformed HTTP response: " + std::move(what));
}

}  // namespace

void HttpResponseParser::Reset(bool head_request) {
  state_ = State::kStatusLine;
  head_request_ = head_request;
  started_ = false;
  status_ = 0;
  http10_ = false;
  keep_alive_ = true;
  connection_close_ = false;
  connection_keep_alive_ = false;
  chunked_ = false;
  has_content_length_ = false;
  content_length_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  header_bytes_ = 0;
  partial_line_.clear();
}

Result<HttpResponseParser::Progress> HttpResponseParser::Feed(std::string_view data) {
  size_t pos = 0;
  if (!data.empty() && state_ != State::kComplete) started_ = true;
  while (pos < data.size() && state_ != State::kComplete) {
    switch (state_) {
      case State::kBody:
      case State::kChunkData: {
        const uint64_t n = std::min<uint64_t>(remaining_, data.size() - pos);
        pos += n;
        remaining_ -= n;
        body_bytes_ += n;
        if (remaining_ == 0) {
          state_ = state_ == State::kBody ? State::kComplete : State::kChunkDataEnd;
        }
        break;
      }
      case State::kUntilClose:
        body_bytes_ += data.size() - pos;
        pos = data.size();
        break;
      default: {
        // A line: the status line, a header, a chunk's size, the end of a chunk, a trailer.
        const char* start = data.data() + pos;
        const auto* newline = static_cast<const char*>(std::memchr(start, '\n', data.size() - pos));
        const size_t available = newline == nullptr ? data.size() - pos : newline - start;
        const bool in_head = state_ == State::kStatusLine || state_ == State::kHeaders;
        if (partial_line_.size() + available > kMaxHeaderBytes ||
            (in_head && header_bytes_ + available > kMaxHeaderBytes)) {
          return Malformed(fmt::format("a line or the headers exceed {} bytes", kMaxHeaderBytes));
        }
        if (in_head) header_bytes_ += available + (newline == nullptr ? 0 : 1);
        if (newline == nullptr) {
          partial_line_.append(start, available);
          pos = data.size();
          break;
        }
        std::string_view line(start, available);
        if (!partial_line_.empty()) {
          partial_line_.append(start, available);
          line = partial_line_;
        }
        pos += available + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto handled = OnLine(line);
        partial_line_.clear();
        if (!handled) return std::unexpected(std::move(handled.error()));
        break;
      }
    }
  }
  return Progress{pos, state_ == State::kComplete};
}

Result<void> HttpResponseParser::FeedEof() {
  if (state_ == State::kComplete) return {};
  if (state_ == State::kUntilClose) {
    keep_alive_ = false;
    state_ = State::kComplete;
    return {};
  }
  if (!started_) {
    return Fail(ErrorCode::kUnavailable, "the server closed the connection without a response");
  }
  return Fail(ErrorCode::kUnavailable,
              "the server closed the connection in the middle of a "
              "response");
}

Result<void> HttpResponseParser::OnLine(std::string_view line) {
  switch (state_) {
    case State::kStatusLine:
      return OnStatusLine(line);
    case State::kHeaders:
      return line.empty() ? OnHeadersEnd() : OnHeader(line);
    case State::kChunkSize:
      return OnChunkSize(line);
    case State::kChunkDataEnd:
      if (!line.empty()) return Malformed("a chunk is longer than its size says");
      state_ = State::kChunkSize;
      return {};
    case State::kTrailers:
      if (line.empty()) state_ = State::kComplete;
      return {};
    default:
      return Fail(ErrorCode::kInternal, "response parser: a line in a body state");
  }
}

Result<void> HttpResponseParser::OnStatusLine(std::string_view line) {
  // HTTP/1.1 200 OK   (the reason phrase may be empty, and so may the space before it)
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ') {
    return Malformed(fmt::format("bad status line '{}'", Excerpt(line)));
  }
  int status = 0;
  const char* digits = line.data() + 9;
  auto [end, ec] = std::from_chars(digits, digits + 3, status);
  if (ec != std::errc() || end != digits + 3 || status < 100 || status > 599 ||
      (line.size() > 12 && line[12] != ' ')) {
    return Malformed(fmt::format("bad status code in '{}'", Excerpt(line)));
  }
  status_ = status;
  http10_ = line[7] == '0';
  state_ = State::kHeaders;
  return {};
}

Result<void> HttpResponseParser::OnHeader(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Malformed(fmt::format("bad header line '{}'", Excerpt(line)));
  }
  const std::string_view name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return Malformed(fmt::format("bad header name '{}'", Excerpt(name)));
  }
  const std::string_view value = Trim(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-length")) {
    uint64_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      return Malformed(fmt::format("bad Content-Length '{}'", Excerpt(value)));
    }
    if (has_content_length_ && length != content_length_) {
      return Malformed("two different Content-Length headers");
    }
    has_content_length_ = true;
    content_length_ = length;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    // Chunked only when it is the last coding applied; any other coding runs to the close.
    bool last_chunked = false;
    ForEachToken(value, [&](std::string_view coding) {
      if (!coding.empty()) last_chunked = EqualsIgnoreCase(coding, "chunked");
    });
    chunked_ = last_chunked;
    if (!last_chunked) connection_close_ = true;
  } else if (EqualsIgnoreCase(name, "connection")) {
    ForEachToken(value, [&](std::string_view option) {
      if (EqualsIgnoreCase(option, "close")) connection_close_ = true;
      if (EqualsIgnoreCase(option, "keep-alive")) connection_keep_alive_ = true;
    });
  }
  return {};
}

Result<void> HttpResponseParser::OnHeadersEnd() {
  if (status_ < 200) {
    if (status_ == 101) return Malformed("101 Switching Protocols to a plain request");
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    const bool head = head_request_;
    const bool started = started_;
    Reset(head);
    started_ = started;
    return {};
  }
  keep_alive_ = !connection_close_ && (!http10_ || connection_keep_alive_);
  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::kComplete;
  } else if (chunked_) {
    state_ = State::kChunkSize;
  } else if (has_content_length_) {
    remaining_ = content_length_;
    state_ = remaining_ == 0 ? State::kComplete : State::kBody;
  } else {
    keep_alive_ = false;
    state_ = State::kUntilClose;
  }
  return {};
}

Result<void> HttpResponseParser::OnChunkSize(std::string_view line) {
  // 1a2b[;extension=value]
  const std::string_view size_text = Trim(line.substr(0, line.find(';')));
  uint64_t size = 0;
  auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
  if (size_text.empty() || size_text.size() > 15 || ec != std::errc() ||
      end != size_text.data() + size_text.size()) {
    return Malformed(fmt::format("bad chunk size '{}'", Excerpt(line)));
  }
  if (size == 0) {
    state_ = State::kTrailers;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
  return {};
}

}  // namespace helios::loadgen
