// Request framing for helios-fakellm (see http_request_parser.h).
#include "fakellm/http_request_parser.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace helios::fakellm {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParseOutcome Error(int status, std::string message) {
  ParseOutcome outcome;
  outcome.state = ParseOutcome::State::kError;
  outcome.error_status = status;
  outcome.error_message = std::move(message);
  return outcome;
}

struct RequestLine {
  std::string_view method;
  std::string_view target;
  int minor_version = 1;
};

// The request line, or the error to answer.
std::optional<ParseOutcome> ReadRequestLine(std::string_view line, RequestLine* out) {
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) {
    return Error(400, "the request line is not \"METHOD target HTTP/1.1\"");
  }
  out->method = line.substr(0, first);
  out->target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  if (!IsToken(out->method)) return Error(400, "the request method is not a token");
  if (out->target.empty()) return Error(400, "the request target is empty");
  for (char c : out->target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Error(400, "the request target holds a space or a control character");
    }
  }
  if (version == "HTTP/1.1") {
    out->minor_version = 1;
  } else if (version == "HTTP/1.0") {
    out->minor_version = 0;
  } else if (version.size() == 8 && version.starts_with("HTTP/") && version[6] == '.' &&
             version[5] >= '0' && version[5] <= '9' && version[7] >= '0' && version[7] <= '9') {
    return Error(505, fmt::format("{} is not supported; send HTTP/1.1", version));
  } else {
    return Error(400, "the request line does not end with an HTTP version");
  }
  return std::nullopt;
}

}  // namespace

ParseOutcome ParseRequest(std::string_view buffer, const RequestLimits& limits) {
  // A client may send empty lines between requests (RFC 9112, section 2.2).
  size_t start = 0;
  while (buffer.substr(start).starts_with(kCrlf)) start += kCrlf.size();
  const std::string_view text = buffer.substr(start);

  const size_t line_end = text.find(kCrlf);
  if (line_end == std::string_view::npos) {
    if (text.size() >= limits.max_header_bytes) {
      return Error(431, "the request line is longer than the header limit");
    }
    return {};
  }
  // The request line is judged as soon as it is complete, so that a client sending nonsense
  // hears about it without having to end its headers.
  RequestLine line;
  if (auto error = ReadRequestLine(text.substr(0, line_end), &line)) return *error;

  const size_t headers_end = text.find("\r\n\r\n", line_end);
  const size_t header_bytes = headers_end == std::string_view::npos ? text.size() : headers_end + 4;
  if (header_bytes > limits.max_header_bytes) {
    return Error(431, fmt::format("the request's headers are longer than {} bytes",
                                  limits.max_header_bytes));
  }
  if (headers_end == std::string_view::npos) return {};

  ParsedRequest request;
  request.method = std::string(line.method);
  request.target = std::string(line.target);
  request.keep_alive = line.minor_version >= 1;
  std::optional<uint64_t> content_length;
  bool connection_close = false;
  bool connection_keep_alive = false;

  size_t pos = line_end + kCrlf.size();
  while (pos < headers_end + kCrlf.size()) {
    const size_t end = text.find(kCrlf, pos);
    const std::string_view field = text.substr(pos, end - pos);
    pos = end + kCrlf.size();
    if (field.front() == ' ' || field.front() == '\t') {
      return Error(400, "a header line is folded (starts with white space)");
    }
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos) return Error(400, "a header line has no ':'");
    const std::string_view name = field.substr(0, colon);
    if (!IsToken(name)) return Error(400, "a header name is empty or not a token");
    const std::string_view value = TrimSpace(field.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return Error(400, fmt::format("the {} header holds a control character", name));
      }
    }
    if (EqualsIgnoringCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return Error(400, "Content-Length is not a number");
      }
      const uint64_t length = std::stoull(std::string(value));
      if (content_length && *content_length != length) {
        return Error(400, "Content-Length is given twice with different values");
      }
      content_length = length;
    } else if (EqualsIgnoringCase(name, "Transfer-Encoding")) {
      return Error(501, "Transfer-Encoding is not supported; send a Content-Length");
    } else if (EqualsIgnoringCase(name, "Connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view option = TrimSpace(rest.substr(0, comma));
        if (EqualsIgnoringCase(option, "close")) connection_close = true;
        if (EqualsIgnoringCase(option, "keep-alive")) connection_keep_alive = true;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
  }
  if (connection_close) {
    request.keep_alive = false;
  } else if (connection_keep_alive) {
    request.keep_alive = true;
  }

  const uint64_t body_bytes = content_length.value_or(0);
  if (body_bytes > limits.max_body_bytes) {
    return Error(413,
                 fmt::format("the request body is larger than {} bytes", limits.max_body_bytes));
  }
  const size_t body_start = headers_end + 4;
  if (text.size() - body_start < body_bytes) return {};

  ParseOutcome outcome;
  outcome.state = ParseOutcome::State::kComplete;
  request.body = text.substr(body_start, body_bytes);
  outcome.request = std::move(request);
  outcome.consumed = start + body_start + body_bytes;
  return outcome;
}

}  // namespace helios::fakellm
