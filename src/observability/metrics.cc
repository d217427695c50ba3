#include "observability/metrics.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/text.h"
#include "observability/logger.h"

namespace helios::observability {
namespace {

[[noreturn]] void ProgrammerError(std::string_view message) {
  std::fprintf(stderr, "metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// s with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s) {
  if (text::IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    size_t length = Utf8SequenceLength(s, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, length));
      i += length;
    }
  }
  return out;
}

// HELP text: backslash and newline escaped.
void AppendEscapedHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Label value: backslash, double quote and newline escaped.
void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

using LabelKey = std::vector<std::string>;
using LabelView = std::span<const std::string_view>;

// Orders label-value tuples; transparent, so that finding an existing child allocates nothing.
struct LabelKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

// kCallback is a gauge read when scraped, kCounterCallback a counter read when scraped.
enum class Kind { kCounter, kGauge, kHistogram, kCallback, kCounterCallback };

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kHistogram:
      return "histogram";
    case Kind::kCallback:
      return "gauge";
    case Kind::kCounterCallback:
      return "counter";
  }
  return "untyped";
}

// What every family has: its name, help and label names.
struct FamilyInfo {
  std::string name;
  std::string help;
  std::vector<std::string> labels;
};

void AppendHeader(std::string& out, const FamilyInfo& info, Kind kind) {
  out += "# HELP ";
  out += info.name;
  out += ' ';
  AppendEscapedHelp(out, info.help);
  out += "\n# TYPE ";
  out += info.name;
  out += ' ';
  out += KindName(kind);
  out += '\n';
}

// One sample line: name{labels[,le="bound"]} value
void AppendSample(std::string& out, std::string_view name, const FamilyInfo& info,
                  const LabelKey& values, std::string_view le, double value) {
  out += name;
  if (!values.empty() || !le.empty()) {
    out += '{';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ',';
      out += info.labels[i];
      out += "=\"";
      AppendEscapedLabelValue(out, values[i]);
      out += '"';
    }
    if (!le.empty()) {
      if (!values.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

// The children of one family, keyed by label values.
template <typename Child>
class Children {
 public:
  explicit Children(const FamilyInfo& info) : info_(info) {}

  // The child for values, created (with Child(args...)) on first use.
  template <typename... Args>
  Child& Get(std::initializer_list<std::string_view> values, const Args&... args) {
    CheckArity(values.size());
    LabelView view(values.begin(), values.size());
    {
      std::shared_lock lock(mutex_);
      if (auto it = children_.find(view); it != children_.end()) return it->second;
    }
    LabelKey key;
    key.reserve(values.size());
    for (std::string_view v : values) key.push_back(SanitizeUtf8(v));
    std::unique_lock lock(mutex_);
    // A value that needed sanitizing was not found above but may exist in its sanitized form,
    // and another thread may have created the child meanwhile: try_emplace handles both.
    return children_.try_emplace(std::move(key), args...).first->second;
  }

  // The existing child for values, or nullptr.
  const Child* Find(std::initializer_list<std::string_view> values) const {
    CheckArity(values.size());
    LabelView view(values.begin(), values.size());
    std::shared_lock lock(mutex_);
    if (auto it = children_.find(view); it != children_.end()) return &it->second;
    // The child of a value that was not UTF-8 is stored under its sanitized form.
    if (std::all_of(values.begin(), values.end(), text::IsValidUtf8)) return nullptr;
    LabelKey key;
    for (std::string_view v : values) key.push_back(SanitizeUtf8(v));
    if (auto it = children_.find(key); it != children_.end()) return &it->second;
    return nullptr;
  }

  // Calls f(label values, child) for every child in label order, under the shared lock.
  template <typename F>
  void ForEach(F&& f) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, child] : children_) f(key, child);
  }

 private:
  void CheckArity(size_t given) const {
    if (given != info_.labels.size()) {
      ProgrammerError(fmt::format("{} has {} label(s) but was given {} value(s)", info_.name,
                                  info_.labels.size(), given));
    }
  }

  const FamilyInfo& info_;
  mutable std::shared_mutex mutex_;
  std::map<LabelKey, Child, LabelKeyLess> children_;
};

// A counter or gauge child: one double, updated atomically.
struct ValueChild {
  std::atomic<double> value{0.0};
};

struct HistogramChild {
  explicit HistogramChild(size_t bucket_count) : buckets(bucket_count) {}
  // Per-bucket (not cumulative) counts; the last one is +Inf. Render() accumulates them.
  std::vector<std::atomic<uint64_t>> buckets;
  std::atomic<double> sum{0.0};
};

std::vector<double> CheckedBuckets(const std::string& name, std::vector<double> buckets) {
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i])) {
      ProgrammerError(fmt::format("histogram {}: bucket bounds must be finite", name));
    }
    if (i > 0 && !(buckets[i - 1] < buckets[i])) {
      ProgrammerError(fmt::format("histogram {}: bucket bounds must strictly increase", name));
    }
  }
  return buckets;
}

}  // namespace

class CounterFamily::Impl {
 public:
  explicit Impl(FamilyInfo info) : info(std::move(info)), children(this->info) {}
  FamilyInfo info;
  Children<ValueChild> children;
};

class GaugeFamily::Impl {
 public:
  explicit Impl(FamilyInfo info) : info(std::move(info)), children(this->info) {}
  FamilyInfo info;
  Children<ValueChild> children;
};

class HistogramFamily::Impl {
 public:
  Impl(FamilyInfo info, std::vector<double> bounds)
      : info(std::move(info)), bounds(std::move(bounds)), children(this->info) {}
  FamilyInfo info;
  const std::vector<double> bounds;  // finite, strictly increasing; +Inf implicit
  Children<HistogramChild> children;

  HistogramChild& Get(std::initializer_list<std::string_view> values) {
    return children.Get(values, bounds.size() + 1);
  }
};

// ----- CounterFamily -----

CounterFamily::CounterFamily(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CounterFamily::~CounterFamily() = default;

void CounterFamily::Inc(std::initializer_list<std::string_view> label_values, double by) {
  if (!(by >= 0)) {
    ProgrammerError(
        fmt::format("counter {} incremented by {}", impl_->info.name, FormatMetricValue(by)));
  }
  impl_->children.Get(label_values).value.fetch_add(by, std::memory_order_relaxed);
}

double CounterFamily::Value(std::initializer_list<std::string_view> label_values) const {
  const ValueChild* child = impl_->children.Find(label_values);
  return child == nullptr ? 0.0 : child->value.load(std::memory_order_relaxed);
}

// ----- GaugeFamily -----

GaugeFamily::GaugeFamily(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GaugeFamily::~GaugeFamily() = default;

void GaugeFamily::Set(std::initializer_list<std::string_view> label_values, double value) {
  impl_->children.Get(label_values).value.store(value, std::memory_order_relaxed);
}

void GaugeFamily::Add(std::initializer_list<std::string_view> label_values, double delta) {
  impl_->children.Get(label_values).value.fetch_add(delta, std::memory_order_relaxed);
}

double GaugeFamily::Value(std::initializer_list<std::string_view> label_values) const {
  const ValueChild* child = impl_->children.Find(label_values);
  return child == nullptr ? 0.0 : child->value.load(std::memory_order_relaxed);
}

// ----- HistogramFamily -----

HistogramFamily::HistogramFamily(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HistogramFamily::~HistogramFamily() = default;

void HistogramFamily::Observe(std::initializer_list<std::string_view> label_values, double value) {
  HistogramChild& child = impl_->Get(label_values);
  const std::vector<double>& bounds = impl_->bounds;
  // Bucket i counts bounds[i-1] < value <= bounds[i]; NaN compares false with everything, so it
  // is placed in +Inf explicitly.
  size_t index = std::isnan(value)
                     ? bounds.size()
                     : static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                           bounds.begin());
  child.buckets[index].fetch_add(1, std::memory_order_relaxed);
  child.sum.fetch_add(value, std::memory_order_relaxed);
}

uint64_t HistogramFamily::Count(std::initializer_list<std::string_view> label_values) const {
  const HistogramChild* child = impl_->children.Find(label_values);
  if (child == nullptr) return 0;
  uint64_t count = 0;
  for (const auto& bucket : child->buckets) count += bucket.load(std::memory_order_relaxed);
  return count;
}

// ----- MetricsRegistry -----

namespace {

struct CallbackFamily {
  explicit CallbackFamily(FamilyInfo info) : info(std::move(info)) {}
  FamilyInfo info;
  mutable std::mutex mutex;  // guards read, and is held while it runs
  std::function<double()> read;
};

void RenderValues(std::string& out, const FamilyInfo& info, Kind kind,
                  const Children<ValueChild>& children) {
  AppendHeader(out, info, kind);
  children.ForEach([&](const LabelKey& values, const ValueChild& child) {
    AppendSample(out, info.name, info, values, {}, child.value.load(std::memory_order_relaxed));
  });
}

void RenderHistogram(std::string& out, const HistogramFamily::Impl& family) {
  const FamilyInfo& info = family.info;
  AppendHeader(out, info, Kind::kHistogram);
  const std::string bucket_name = info.name + "_bucket";
  const std::string sum_name = info.name + "_sum";
  const std::string count_name = info.name + "_count";
  std::vector<std::string> les;
  les.reserve(family.bounds.size() + 1);
  for (double bound : family.bounds) les.push_back(FormatMetricValue(bound));
  les.push_back("+Inf");
  family.children.ForEach([&](const LabelKey& values, const HistogramChild& child) {
    // Each bucket is read once, so the cumulative counts never decrease and _count is exactly
    // the +Inf bucket even while observations land.
    uint64_t cumulative = 0;
    for (size_t i = 0; i < les.size(); ++i) {
      cumulative += child.buckets[i].load(std::memory_order_relaxed);
      AppendSample(out, bucket_name, info, values, les[i], static_cast<double>(cumulative));
    }
    AppendSample(out, sum_name, info, values, {}, child.sum.load(std::memory_order_relaxed));
    AppendSample(out, count_name, info, values, {}, static_cast<double>(cumulative));
  });
}

void RenderCallback(std::string& out, const CallbackFamily& family, Kind kind) {
  AppendHeader(out, family.info, kind);
  double value = std::nan("");
  {
    std::lock_guard lock(family.mutex);
    try {
      value = family.read();
    } catch (...) {
      // The reader belongs to another module; a failing read is shown as "no value", not
      // allowed to fail the whole scrape.
      value = std::nan("");
    }
  }
  AppendSample(out, family.info.name, family.info, {}, {}, value);
}

}  // namespace

class MetricsRegistry::Impl {
 public:
  using Family = std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
                              std::unique_ptr<HistogramFamily>, std::unique_ptr<CallbackFamily>>;
  struct Entry {
    Kind kind;
    std::vector<std::string> labels;
    std::vector<double> buckets;  // histograms only
    Family family;
  };

  // Checks name, labels and collisions for a new family, or, when the name exists, that the
  // existing family matches and returns it. Called with mutex held.
  Entry* Find(const std::string& name, Kind kind, const std::vector<std::string>& labels,
              const std::vector<double>& buckets) {
    auto it = families.find(name);
    if (it == families.end()) return nullptr;
    Entry& entry = it->second;
    if (entry.kind != kind || entry.labels != labels || entry.buckets != buckets) {
      ProgrammerError(
          fmt::format("{} is already registered as a {} with labels [{}]{}", name,
                      entry.kind == Kind::kCallback          ? "callback gauge"
                      : entry.kind == Kind::kCounterCallback ? "callback counter"
                                                             : KindName(entry.kind),
                      fmt::join(entry.labels, ", "),
                      entry.kind == Kind::kHistogram
                          ? fmt::format(" and buckets [{}]", fmt::join(entry.buckets, ", "))
                          : ""));
    }
    return &entry;
  }

  void CheckNew(const std::string& name, Kind kind, const std::vector<std::string>& labels) {
    if (!IsMetricName(name)) ProgrammerError(fmt::format("invalid metric name \"{}\"", name));
    if ((kind == Kind::kCounter || kind == Kind::kCounterCallback) && !name.ends_with("_total")) {
      ProgrammerError(fmt::format("counter name \"{}\" must end in _total", name));
    }
    std::set<std::string_view> seen;
    for (const std::string& label : labels) {
      if (!IsLabelName(label)) {
        ProgrammerError(fmt::format("{}: invalid label name \"{}\"", name, label));
      }
      if (kind == Kind::kHistogram && label == "le") {
        ProgrammerError(fmt::format("{}: a histogram cannot have a label named le", name));
      }
      if (!seen.insert(label).second) {
        ProgrammerError(fmt::format("{}: label \"{}\" given twice", name, label));
      }
    }
    for (const std::string& sample : SampleNames(name, kind)) {
      if (sample_names.contains(sample)) {
        ProgrammerError(
            fmt::format("{}: its series {} would collide with another family's", name, sample));
      }
    }
  }

  void Add(const std::string& name, Entry entry) {
    for (std::string& sample : SampleNames(name, entry.kind)) sample_names.insert(sample);
    families.emplace(name, std::move(entry));
  }

  void AddCallback(std::string name, std::string help, std::function<double()> read, Kind kind) {
    if (!read) ProgrammerError(fmt::format("{}: the callback is empty", name));
    std::lock_guard lock(mutex);
    if (Entry* entry = Find(name, kind, {}, {})) {
      CallbackFamily& family = *std::get<std::unique_ptr<CallbackFamily>>(entry->family);
      std::lock_guard read_lock(family.mutex);
      family.read = std::move(read);
      return;
    }
    CheckNew(name, kind, {});
    auto family = std::make_unique<CallbackFamily>(FamilyInfo{name, SanitizeUtf8(help), {}});
    family->read = std::move(read);
    Add(name, Entry{kind, {}, {}, std::move(family)});
  }

  static std::vector<std::string> SampleNames(const std::string& name, Kind kind) {
    if (kind == Kind::kHistogram) return {name + "_bucket", name + "_sum", name + "_count"};
    return {name};
  }

  mutable std::mutex mutex;  // guards the two maps; never held while rendering
  std::map<std::string, Entry> families;
  std::set<std::string> sample_names;
};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

CounterFamily& MetricsRegistry::Counter(std::string name, std::string help,
                                        std::vector<std::string> labels) {
  std::lock_guard lock(impl_->mutex);
  if (Impl::Entry* entry = impl_->Find(name, Kind::kCounter, labels, {})) {
    return *std::get<std::unique_ptr<CounterFamily>>(entry->family);
  }
  impl_->CheckNew(name, Kind::kCounter, labels);
  auto family = std::unique_ptr<CounterFamily>(new CounterFamily(
      std::make_unique<CounterFamily::Impl>(FamilyInfo{name, SanitizeUtf8(help), labels})));
  CounterFamily& result = *family;
  if (labels.empty()) family->impl_->children.Get({});
  impl_->Add(name, Impl::Entry{Kind::kCounter, std::move(labels), {}, std::move(family)});
  return result;
}

GaugeFamily& MetricsRegistry::Gauge(std::string name, std::string help,
                                    std::vector<std::string> labels) {
  std::lock_guard lock(impl_->mutex);
  if (Impl::Entry* entry = impl_->Find(name, Kind::kGauge, labels, {})) {
    return *std::get<std::unique_ptr<GaugeFamily>>(entry->family);
  }
  impl_->CheckNew(name, Kind::kGauge, labels);
  auto family = std::unique_ptr<GaugeFamily>(new GaugeFamily(
      std::make_unique<GaugeFamily::Impl>(FamilyInfo{name, SanitizeUtf8(help), labels})));
  GaugeFamily& result = *family;
  if (labels.empty()) family->impl_->children.Get({});
  impl_->Add(name, Impl::Entry{Kind::kGauge, std::move(labels), {}, std::move(family)});
  return result;
}

HistogramFamily& MetricsRegistry::Histogram(std::string name, std::string help,
                                            std::vector<std::string> labels,
                                            std::vector<double> buckets) {
  buckets = CheckedBuckets(name, std::move(buckets));
  std::lock_guard lock(impl_->mutex);
  if (Impl::Entry* entry = impl_->Find(name, Kind::kHistogram, labels, buckets)) {
    return *std::get<std::unique_ptr<HistogramFamily>>(entry->family);
  }
  impl_->CheckNew(name, Kind::kHistogram, labels);
  auto family =
      std::unique_ptr<HistogramFamily>(new HistogramFamily(std::make_unique<HistogramFamily::Impl>(
          FamilyInfo{name, SanitizeUtf8(help), labels}, buckets)));
  HistogramFamily& result = *family;
  if (labels.empty()) family->impl_->Get({});
  impl_->Add(name, Impl::Entry{Kind::kHistogram, std::move(labels), std::move(buckets),
                               std::move(family)});
  return result;
}

void MetricsRegistry::GaugeCallback(std::string name, std::string help,
                                    std::function<double()> read) {
  impl_->AddCallback(std::move(name), std::move(help), std::move(read), Kind::kCallback);
}

void MetricsRegistry::CounterCallback(std::string name, std::string help,
                                      std::function<double()> read) {
  impl_->AddCallback(std::move(name), std::move(help), std::move(read), Kind::kCounterCallback);
}

std::string MetricsRegistry::Render() const {
  // The entries are collected under the lock and rendered without it: entries are never
  // removed or changed once added (a map's nodes stay put while others are inserted), and a
  // callback may take its own module's locks.
  std::vector<const Impl::Entry*> entries;
  {
    std::lock_guard lock(impl_->mutex);
    entries.reserve(impl_->families.size());
    for (const auto& [name, entry] : impl_->families) entries.push_back(&entry);
  }
  std::string out;
  out.reserve(entries.size() * 256);
  for (const Impl::Entry* entry : entries) {
    std::visit(
        [&out, kind = entry->kind](const auto& family) {
          using T = std::decay_t<decltype(*family)>;
          if constexpr (std::is_same_v<T, CounterFamily>) {
            RenderValues(out, family->impl_->info, Kind::kCounter, family->impl_->children);
          } else if constexpr (std::is_same_v<T, GaugeFamily>) {
            RenderValues(out, family->impl_->info, Kind::kGauge, family->impl_->children);
          } else if constexpr (std::is_same_v<T, HistogramFamily>) {
            RenderHistogram(out, *family->impl_);
          } else {
            RenderCallback(out, *family, kind);
          }
        },
        entry->family);
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10};
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Shortest decimal that reads back as the same double ("0.1", "5", "1e+20"); Go's
  // strconv.ParseFloat, which Prometheus uses, reads all of these forms.
  return fmt::format("{}", value);
}

namespace {

// LLM calls take seconds, and up to the provider timeout (30 s by default).
std::vector<double> LlmBuckets() { return {0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60}; }

}  // namespace

ServiceMetrics::ServiceMetrics(MetricsRegistry& registry)
    : query_duration_seconds(registry.Histogram(
          "query_duration_seconds",
          "Time to answer a question (answered or failed), from request to reply, in seconds.",
          {"tenant"}, LatencyBuckets())),
      queries_total(
          registry.Counter("queries_total", "Questions received, answered or failed.", {"tenant"})),
      queries_failed_total(registry.Counter("queries_failed_total",
                                            "Questions that failed (any error code).", {"tenant"})),
      query_errors_total(registry.Counter(
          "query_errors_total", "Questions that failed, by error code.", {"tenant", "code"})),
      cache_hits_total(registry.Counter("cache_hits_total",
                                        "Questions answered from the query cache.", {"tenant"})),
      cache_requests_total(registry.Counter("cache_requests_total",
                                            "Query cache lookups (hits and misses).", {"tenant"})),
      circuit_breaker_state(registry.Gauge(
          "circuit_breaker_state", "State of a circuit breaker: 0 closed, 1 open, 2 half-open.",
          {"service"})),
      rate_limit_rejections_total(
          registry.Counter("rate_limit_rejections_total",
                           "Requests refused because the tenant is over its quota.", {"tenant"})),
      active_sessions(registry.Gauge("active_sessions", "Conversations held in memory.")),
      llm_request_duration_seconds(registry.Histogram(
          "llm_request_duration_seconds", "Duration of LLM provider requests, in seconds.",
          {"provider"}, LlmBuckets())),
      db_query_duration_seconds(registry.Histogram("db_query_duration_seconds",
                                                   "Duration of database statements, in seconds.",
                                                   {"database"}, LatencyBuckets())),
      http_requests_total(registry.Counter("http_requests_total",
                                           "HTTP requests by route pattern and status code.",
                                           {"route", "status"})),
      login_failures_total(registry.Counter(
          "login_failures_total",
          "Failed logins: \"credentials\" (bad user or password) or \"rate_limited\".",
          {"reason"})),
      slow_queries_total(registry.Counter(
          "slow_queries_total",
          "Questions slower than [production.performance] slow_query_threshold_ms.", {"tenant"})),
      http_connections_shed_total(registry.Counter(
          "http_connections_shed_total",
          "API connections answered 503 at once because the server was saturated: "
          "\"queue_full\" (every thread busy, the wait queue full) or \"waited_too_long\".",
          {"reason"})) {
  registry.CounterCallback(
      "log_lines_dropped_total",
      "Log lines that could not be written (the log output failed: a full disk, a closed pipe).",
      [] { return static_cast<double>(DroppedLogLines()); });
}

}  // namespace helios::observability
