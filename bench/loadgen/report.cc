#include "report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace helios::loadgen {
namespace {

double Seconds(std::chrono::nanoseconds value) { return static_cast<double>(value.count()) / 1e9; }
double Millis(std::chrono::nanoseconds value) { return static_cast<double>(value.count()) / 1e6; }

// A JSON string literal of text (invalid UTF-8 replaced).
std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

double MicrosPerRequest(const Report& report, std::chrono::nanoseconds cpu) {
  if (report.requests_written == 0) return 0;
  return static_cast<double>(cpu.count()) / 1e3 / static_cast<double>(report.requests_written);
}

struct Percentile {
  const char* label;  // human
  const char* key;    // JSON
  double value;
};
constexpr Percentile kPercentiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90}, {"p99", "p99", 99}, {"p99.9", "p99_9", 99.9}};

}  // namespace

std::string FormatLatency(std::chrono::nanoseconds value) {
  if (value < std::chrono::milliseconds(1)) {
    return fmt::format("{:.0f} µs", static_cast<double>(value.count()) / 1e3);
  }
  if (value < std::chrono::seconds(1)) return fmt::format("{:.2f} ms", Millis(value));
  return fmt::format("{:.2f} s", Seconds(value));
}

std::string FormatSummary(const Report& r) {
  const bool open = r.rate > 0;
  std::string out = fmt::format("helios-loadgen: {} {}, {} connection{}\n", r.method, r.target,
                                r.connections, r.connections == 1 ? "" : "s");
  if (open) {
    out += fmt::format(
        "  open loop at {:g} requests/s for {:g} s after a {:g} s warm-up; "
        "timeout {:g} s\n",
        r.rate, Seconds(r.duration), Seconds(r.warmup), Seconds(r.timeout));
  } else {
    out += fmt::format(
        "  closed loop (as fast as answered) for {:g} s after a {:g} s warm-up; "
        "timeout {:g} s\n",
        Seconds(r.duration), Seconds(r.warmup), Seconds(r.timeout));
  }
  out += fmt::format("requests:   {} scheduled, {} sent, {} responses in {:.2f} s\n", r.scheduled,
                     r.sent, r.responses, Seconds(r.elapsed));
  out += open ? fmt::format("rate:       {:.1f} responses/s achieved, {:g} asked\n",
                            r.achieved_rate, r.rate)
              : fmt::format("rate:       {:.1f} responses/s (closed loop)\n", r.achieved_rate);

  const auto classes = r.StatusClassCounts();
  std::vector<std::string> parts;
  for (size_t c = 1; c < classes.size(); ++c) {
    if (classes[c] > 0) parts.push_back(fmt::format("{}xx {}", c, classes[c]));
  }
  std::vector<std::string> exact;
  for (const auto& [status, count] : r.status_counts) {
    if (status < 200 || status >= 300) exact.push_back(fmt::format("{}: {}", status, count));
  }
  out += fmt::format("status:     {}{}\n",
                     parts.empty() ? "no responses" : fmt::format("{}", fmt::join(parts, ", ")),
                     exact.empty() ? "" : fmt::format(" ({})", fmt::join(exact, ", ")));

  const ErrorCounts& e = r.errors;
  out += fmt::format(
      "errors:     {} (connect {}, read {}, write {}, closed {}, protocol {}, timeout {}); "
      "not sent {}, unfinished {}; reconnects {}\n",
      e.Total(), e.connect, e.read, e.write, e.closed, e.protocol, e.timeout, r.not_sent,
      r.unfinished, r.reconnects);
  if (open) {
    out += fmt::format(
        "schedule:   {} sent more than 1 ms late, at most {} waiting for a "
        "connection\n",
        r.late, r.max_queue);
  }
  if (r.latency.count() > 0) {
    out += fmt::format("latency:    mean {}", FormatLatency(r.latency.Mean()));
    for (const auto& p : kPercentiles) {
      out += fmt::format(", {} {}", p.label, FormatLatency(r.latency.Percentile(p.value)));
    }
    out += fmt::format(", max {} (from each request's {})\n", FormatLatency(r.latency.Max()),
                       open ? "scheduled time" : "write");
    if (open) {
      out += fmt::format("service:    mean {}", FormatLatency(r.service_time.Mean()));
      for (const auto& p : kPercentiles) {
        out += fmt::format(", {} {}", p.label, FormatLatency(r.service_time.Percentile(p.value)));
      }
      out += fmt::format(", max {} (from each request's write)\n",
                         FormatLatency(r.service_time.Max()));
    }
  } else {
    out += "latency:    no responses\n";
  }
  out += fmt::format(
      "generator:  {:.1f} µs of CPU per request ({:.2f} s for {} requests, warm-up included)\n",
      MicrosPerRequest(r, r.cpu_user + r.cpu_system), Seconds(r.cpu_user + r.cpu_system),
      r.requests_written);
  return out;
}

std::string FormatJson(const Report& r) {
  const auto classes = r.StatusClassCounts();
  const ErrorCounts& e = r.errors;
  std::string out = "{\n";
  out += fmt::format("  \"target\": {},\n  \"method\": {},\n  \"mode\": \"{}\",\n",
                     JsonString(r.target), JsonString(r.method), r.rate > 0 ? "open" : "closed");
  out += fmt::format(
      "  \"connections\": {},\n  \"rate_asked\": {},\n  \"duration_s\": {},\n"
      "  \"warmup_s\": {},\n  \"timeout_s\": {},\n",
      r.connections, r.rate, Seconds(r.duration), Seconds(r.warmup), Seconds(r.timeout));
  out += fmt::format(
      "  \"scheduled\": {},\n  \"sent\": {},\n  \"responses\": {},\n  \"not_sent\": {},\n"
      "  \"unfinished\": {},\n  \"late_over_1ms\": {},\n  \"max_queue\": {},\n  \"reconnects\": "
      "{},\n"
      "  \"body_bytes\": {},\n  \"elapsed_s\": {:.6f},\n  \"achieved_rate\": {:.3f},\n",
      r.scheduled, r.sent, r.responses, r.not_sent, r.unfinished, r.late, r.max_queue, r.reconnects,
      r.body_bytes, Seconds(r.elapsed), r.achieved_rate);
  out += fmt::format(
      "  \"errors\": {{\"connect\": {}, \"read\": {}, \"write\": {}, \"closed\": {}, "
      "\"protocol\": {}, \"timeout\": {}, \"total\": {}}},\n",
      e.connect, e.read, e.write, e.closed, e.protocol, e.timeout, e.Total());
  out += fmt::format(
      "  \"status_classes\": {{\"1xx\": {}, \"2xx\": {}, \"3xx\": {}, \"4xx\": {}, "
      "\"5xx\": {}}},\n",
      classes[1], classes[2], classes[3], classes[4], classes[5]);
  std::vector<std::string> statuses;
  for (const auto& [status, count] : r.status_counts) {
    statuses.push_back(fmt::format("\"{}\": {}", status, count));
  }
  out += fmt::format("  \"status\": {{{}}},\n", fmt::join(statuses, ", "));
  out += fmt::format("  \"latency_ms\": {{\"count\": {}, \"min\": {:.3f}, \"mean\": {:.3f}",
                     r.latency.count(), Millis(r.latency.Min()), Millis(r.latency.Mean()));
  for (const auto& p : kPercentiles) {
    out += fmt::format(", \"{}\": {:.3f}", p.key, Millis(r.latency.Percentile(p.value)));
  }
  out += fmt::format(", \"max\": {:.3f}}},\n", Millis(r.latency.Max()));
  out += fmt::format("  \"service_time_ms\": {{\"mean\": {:.3f}", Millis(r.service_time.Mean()));
  for (const auto& p : kPercentiles) {
    out += fmt::format(", \"{}\": {:.3f}", p.key, Millis(r.service_time.Percentile(p.value)));
  }
  out += fmt::format(", \"max\": {:.3f}}},\n", Millis(r.service_time.Max()));
  out += fmt::format(
      "  \"cpu_user_s\": {:.6f},\n  \"cpu_system_s\": {:.6f},\n  \"requests_written\": {},\n"
      "  \"cpu_us_per_request\": {:.3f}\n",
      Seconds(r.cpu_user), Seconds(r.cpu_system), r.requests_written,
      MicrosPerRequest(r, r.cpu_user + r.cpu_system));
  out += "}\n";
  return out;
}

}  // namespace helios::loadgen
