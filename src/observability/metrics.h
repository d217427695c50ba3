// Prometheus metrics: a registry of counter, gauge and histogram families and its text
// exposition (format 0.0.4, what GET /metrics answers), plus the product's own metrics
// (ServiceMetrics). There is no Prometheus client library in Debian 12, so this is our own,
// kept small: no summaries, no timestamps, no exemplars.
//
// A family is a metric name with a fixed list of label names; each distinct tuple of label
// values is one child (one time series, or one histogram). Label values are given in the order
// of the label names. Values that are not valid UTF-8 are stored with U+FFFD in place of the bad
// bytes (Prometheus rejects a scrape holding invalid UTF-8). Every child is a time series kept
// until the registry dies, so label values must come from small sets (tenant, error code, route
// pattern), never from raw user input.
//
// Programmer errors abort the process with a message on stderr, in every build type: an invalid
// metric or label name, a counter name not ending in "_total", a name registered again with
// another type, other labels or other buckets, a name whose series would collide with another
// family's (a histogram "x" owns x_bucket, x_sum and x_count), the wrong number of label values,
// a negative or NaN counter increment, and histogram buckets that are not finite and strictly
// increasing.
//
// Thread-safety: every method may be called from any thread. Children are created on first use
// and live as long as the registry; hot-path updates are lock-free atomics (a family's mutex is
// taken only to find or create a child, shared when the child exists). Render() sees each
// child's values as they are at the moment it reads them; a histogram's _count always equals
// its +Inf bucket. Families are owned by the registry: the references returned stay valid for
// the registry's lifetime.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace helios::observability {

class MetricsRegistry;

// A monotonically increasing count. Its name must end in "_total".
class CounterFamily {
 public:
  ~CounterFamily();
  CounterFamily(const CounterFamily&) = delete;
  CounterFamily& operator=(const CounterFamily&) = delete;

  void Inc(std::initializer_list<std::string_view> label_values = {}, double by = 1);  // by >= 0
  // 0 for a child that does not exist yet (without creating it).
  double Value(std::initializer_list<std::string_view> label_values = {}) const;  // for tests

  class Impl;  // defined in metrics.cc

 private:
  friend class MetricsRegistry;
  explicit CounterFamily(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A value that goes up and down.
class GaugeFamily {
 public:
  ~GaugeFamily();
  GaugeFamily(const GaugeFamily&) = delete;
  GaugeFamily& operator=(const GaugeFamily&) = delete;

  void Set(std::initializer_list<std::string_view> label_values, double value);
  void Add(std::initializer_list<std::string_view> label_values, double delta);
  // 0 for a child that does not exist yet (without creating it).
  double Value(std::initializer_list<std::string_view> label_values = {}) const;

  class Impl;  // defined in metrics.cc

 private:
  friend class MetricsRegistry;
  explicit GaugeFamily(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Observations counted in cumulative buckets ("less than or equal to"), with their sum and count.
// A NaN observation is counted in the +Inf bucket and makes the sum NaN, as Prometheus' own
// clients do.
class HistogramFamily {
 public:
  ~HistogramFamily();
  HistogramFamily(const HistogramFamily&) = delete;
  HistogramFamily& operator=(const HistogramFamily&) = delete;

  void Observe(std::initializer_list<std::string_view> label_values, double value);
  // 0 for a child that does not exist yet (without creating it).
  uint64_t Count(std::initializer_list<std::string_view> label_values = {}) const;  // for tests

  class Impl;  // defined in metrics.cc

 private:
  friend class MetricsRegistry;
  explicit HistogramFamily(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Names and label names are checked against Prometheus' rules (metric names
  // [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", no
  // "le" on a histogram); registering the same name twice returns the same family if the type
  // and labels (and a histogram's buckets) match, and aborts otherwise. The first help text
  // stays. A family without labels is created with its one child, so it is exported (as 0)
  // before its first update.
  CounterFamily& Counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& Gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  // buckets: finite upper bounds in strictly increasing order; the +Inf bucket is implicit (a
  // trailing +Inf is accepted and dropped).
  HistogramFamily& Histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> buckets);
  // A gauge without labels read when scraped (active sessions, breaker state). Registering the
  // name again as a callback replaces the reader; once that call returns the old reader is never
  // called again. `read` must stay callable until the registry dies or the reader is replaced,
  // must not call back into this registry, and should be quick: it runs inside Render(). A
  // reader that throws is rendered as NaN.
  void GaugeCallback(std::string name, std::string help, std::function<double()> read);
  // The same for a counter kept elsewhere (a count the logger keeps): its name must end in
  // "_total" and `read` must never return less than it did before.
  void CounterCallback(std::string name, std::string help, std::function<double()> read);

  // The whole exposition, families sorted by name, children sorted by label values.
  std::string Render() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Default latency buckets in seconds: 0.001 .. 10, 15 buckets, with bounds at the latencies
// the configuration and the alerts name (0.2 target, 0.3 slow query, 0.5 P99 alert).
std::vector<double> LatencyBuckets();

// A number as the exposition format writes it: shortest round-trip decimal, "+Inf", "-Inf" or
// "NaN" (all parsed by Prometheus).
std::string FormatMetricValue(double value);

// The product's metrics, registered once in the registry (names are the runbook's). Building a
// second ServiceMetrics over the same registry returns the same families.
struct ServiceMetrics {
  explicit ServiceMetrics(MetricsRegistry& registry);
  HistogramFamily& query_duration_seconds;  // {tenant}   every answered or failed question
  CounterFamily& queries_total;             // {tenant}
  // The same labels as queries_total, so that the runbook's rate(failed) / rate(total) matches.
  CounterFamily& queries_failed_total;            // {tenant}
  CounterFamily& query_errors_total;              // {tenant, code}  code = ErrorCodeName
  CounterFamily& cache_hits_total;                // {tenant}
  CounterFamily& cache_requests_total;            // {tenant}
  GaugeFamily& circuit_breaker_state;             // {service}  0 closed, 1 open, 2 half-open
  CounterFamily& rate_limit_rejections_total;     // {tenant}
  GaugeFamily& active_sessions;                   // {}
  HistogramFamily& llm_request_duration_seconds;  // {provider}
  HistogramFamily& db_query_duration_seconds;     // {database}
  CounterFamily& http_requests_total;             // {route, status}
  CounterFamily& login_failures_total;            // {reason}  "credentials", "rate_limited"
  CounterFamily& slow_queries_total;              // {tenant}
  // Connections answered 503 at once because the API server was saturated: {reason}
  // "queue_full" (every thread busy and the wait queue full) or "waited_too_long".
  CounterFamily& http_connections_shed_total;
  // Also registered: log_lines_dropped_total, read from observability::DroppedLogLines() (log
  // lines the output refused: a full disk, a closed pipe).
};

}  // namespace helios::observability
