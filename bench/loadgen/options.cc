#include "options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <string_view>

namespace helios::loadgen {
namespace {

constexpr int kMaxConnections = 10000;
constexpr double kMaxRate = 10'000'000;
constexpr auto kMaxDuration = std::chrono::hours(24);

std::unexpected<Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// "10", "10s", "500ms", "250us", "2m": seconds when no unit is given.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view flag, std::string_view text) {
  std::string_view number = text;
  double unit_nanos = 1e9;
  const std::pair<std::string_view, double> units[] = {
      {"ms", 1e6}, {"us", 1e3}, {"s", 1e9}, {"m", 60e9}};
  for (const auto& [suffix, nanos] : units) {
    if (number.ends_with(suffix)) {
      number.remove_suffix(suffix.size());
      unit_nanos = nanos;
      break;
    }
  }
  const auto value = ParseDouble(number);
  if (!value || *value < 0) {
    return Invalid(
        fmt::format("{}: '{}' is not a duration (examples: 30, 30s, 500ms, 2m)", flag, text));
  }
  const double nanos = *value * unit_nanos;
  if (nanos > std::chrono::nanoseconds(kMaxDuration).count()) {
    return Invalid(fmt::format("{}: '{}' is longer than a day", flag, text));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(nanos)));
}

Result<std::vector<std::string>> ReadLines(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(fmt::format("{}: cannot read '{}'", flag, path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (in.bad()) return Invalid(fmt::format("{}: cannot read '{}'", flag, path));
  if (lines.empty()) return Invalid(fmt::format("{}: '{}' has no non-empty line", flag, path));
  return lines;
}

Result<std::string> CheckPath(std::string_view where, std::string_view path) {
  if (path.empty() || path.front() != '/' ||
      path.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Invalid(
        fmt::format("{}: '{}' is not a request path (it must start with '/' and "
                    "contain no spaces)",
                    where, path));
  }
  return std::string(path);
}

// http://host[:port][/path] or host[:port][/path]; an IPv6 address in brackets.
Result<void> ParseUrl(std::string_view url, Options& options) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    return Invalid(fmt::format("'{}': https is not supported; use http://", url));
  }
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.find("://") != std::string_view::npos) {
    return Invalid(fmt::format("'{}': only http:// URLs are supported", url));
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid(fmt::format("'{}': bad IPv6 host", url));
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid(fmt::format("'{}': bad host", url));
      port_text = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return Invalid(fmt::format("'{}' names no host", url));
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(fmt::format("'{}': credentials in the URL are not supported; use -H", url));
  }
  options.host = std::string(host);
  options.port = 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return Invalid(fmt::format("'{}': bad port '{}'", url, port_text));
    }
    options.port = static_cast<uint16_t>(port);
  }
  if (slash != std::string_view::npos) {
    auto path = CheckPath("URL", rest.substr(slash));
    if (!path) return std::unexpected(path.error());
    options.paths = {*path};
  }
  return {};
}

Result<std::string> CheckHeader(std::string_view header) {
  const size_t colon = header.find(':');
  const std::string_view name = header.substr(0, std::min(colon, header.size()));
  if (colon == std::string_view::npos || !IsToken(name) ||
      header.find_first_of("\r\n") != std::string_view::npos) {
    return Invalid(fmt::format("-H: '{}' is not a header (write it as \"Name: value\")", header));
  }
  if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
    return Invalid(fmt::format("-H: {} is set by helios-loadgen from the body", name));
  }
  return std::string(header);
}

}  // namespace

Result<ParsedArguments> ParseArguments(const std::vector<std::string>& args) {
  ParsedArguments parsed;
  Options& options = parsed.options;
  std::optional<std::string> url;
  std::optional<std::string> method;
  std::optional<std::string> bodies_file;
  std::optional<std::string> paths_file;
  bool rate_given = false;

  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      return parsed;
    }
    if (arg.empty() || arg.front() != '-' || arg == "-") {
      if (url) return Invalid(fmt::format("unexpected argument '{}': give one URL", arg));
      url = std::string(arg);
      continue;
    }
    // --name=value or --name value (and -x value for the short names).
    std::string flag(arg);
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
        flag = std::string(arg.substr(0, eq));
        inline_value = std::string(arg.substr(eq + 1));
      }
    }
    static const std::pair<std::string_view, std::string_view> kShort[] = {
        {"-c", "--connections"}, {"-r", "--rate"},   {"-d", "--duration"}, {"-w", "--warmup"},
        {"-m", "--method"},      {"-H", "--header"}, {"-t", "--timeout"}};
    for (const auto& [short_name, long_name] : kShort) {
      if (flag == short_name) flag = std::string(long_name);
    }
    static const std::string_view kFlags[] = {"--connections", "--rate",   "--duration", "--warmup",
                                              "--method",      "--header", "--timeout",  "--bodies",
                                              "--paths",       "--json"};
    if (std::find(std::begin(kFlags), std::end(kFlags), flag) == std::end(kFlags)) {
      return Invalid(fmt::format("unknown option '{}' (see --help)", arg));
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Invalid(fmt::format("{} needs a value", arg));
    }

    if (flag == "--connections") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < 1 ||
          n > kMaxConnections) {
        return Invalid(fmt::format("--connections: '{}' is not a whole number from 1 to {}", value,
                                   kMaxConnections));
      }
      options.connections = n;
    } else if (flag == "--rate") {
      const auto rate = ParseDouble(value);
      if (!rate || *rate < 0 || *rate > kMaxRate) {
        return Invalid(fmt::format(
            "--rate: '{}' is not a number of requests per second from 0 (closed loop) to {}", value,
            kMaxRate));
      }
      options.rate = *rate;
      rate_given = true;
    } else if (flag == "--duration" || flag == "--warmup" || flag == "--timeout") {
      auto duration = ParseDuration(flag, value);
      if (!duration) return std::unexpected(duration.error());
      if (flag != "--warmup" && duration->count() == 0) {
        return Invalid(fmt::format("{}: must be more than 0", flag));
      }
      (flag == "--duration" ? options.duration
       : flag == "--warmup" ? options.warmup
                            : options.timeout) = *duration;
    } else if (flag == "--method") {
      if (!IsToken(value)) return Invalid(fmt::format("--method: '{}' is not a method", value));
      method = value;
    } else if (flag == "--header") {
      auto header = CheckHeader(value);
      if (!header) return std::unexpected(header.error());
      options.headers.push_back(std::move(*header));
    } else if (flag == "--bodies") {
      bodies_file = value;
    } else if (flag == "--paths") {
      paths_file = value;
    } else if (flag == "--json") {
      if (value.empty()) return Invalid("--json: needs a file name");
      options.json_path = value;
    }
  }

  if (!url) return Invalid("no URL given (example: http://127.0.0.1:8080/health; see --help)");
  if (auto ok = ParseUrl(*url, options); !ok) return std::unexpected(ok.error());
  if (!rate_given) {
    return Invalid("--rate is required: requests per second, or 0 for closed loop (see --help)");
  }
  if (paths_file) {
    auto lines = ReadLines("--paths", *paths_file);
    if (!lines) return std::unexpected(lines.error());
    options.paths.clear();
    for (size_t n = 0; n < lines->size(); ++n) {
      auto path = CheckPath(fmt::format("--paths line {}", n + 1), (*lines)[n]);
      if (!path) return std::unexpected(path.error());
      options.paths.push_back(std::move(*path));
    }
  }
  if (bodies_file) {
    auto lines = ReadLines("--bodies", *bodies_file);
    if (!lines) return std::unexpected(lines.error());
    options.bodies = std::move(*lines);
  }
  options.method = method ? *method : (options.bodies.empty() ? "GET" : "POST");
  return parsed;
}

std::string HostPort(const Options& options) {
  if (options.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", options.host, options.port);
  }
  return fmt::format("{}:{}", options.host, options.port);
}

std::string HelpText() {
  return R"(Usage: helios-loadgen --rate R [options] http://HOST:PORT[/PATH]

Sends HTTP/1.1 requests over keep-alive connections at a fixed rate (open loop) and reports
latency measured from each request's scheduled time, so a stalled server is not hidden by the
generator waiting for it (coordinated omission).

  -r, --rate R          requests per second (required); 0: closed loop, as fast as the
                        server answers, to find its saturation throughput
  -c, --connections N   keep-alive connections, at most one request in flight on each
                        (default 16)
  -d, --duration T      measured run (default 10s); T is seconds, or with a unit: 500ms, 2m
  -w, --warmup T        run at the same rate first and discard the results (default 0)
  -t, --timeout T       a request without a response after T is a timeout (default 10s)
  -m, --method M        request method (default GET, or POST with --bodies)
  -H, --header "N: v"   add a request header (repeatable), e.g. "Authorization: Bearer ..."
      --bodies FILE     request bodies, one per line, used round-robin
      --paths FILE      request paths, one per line, used round-robin (instead of the URL's)
      --json FILE       also write the report as JSON
  -h, --help            this text

Exit status: 0 when the run completed (its errors are in the report), 2 for bad arguments or
a server that cannot be reached at the start, 1 for other failures.
)";
}

}  // namespace helios::loadgen
