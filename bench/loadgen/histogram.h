// A latency histogram for helios-loadgen: log-linear buckets (HdrHistogram's layout, written
// here) over nanoseconds, so recording is one index computation and an increment, memory is
// fixed (about 216 KiB), and every percentile is within kMaxRelativeError of the exact value
// for latencies from 0 to kMaxValue (60 s). Values above kMaxValue land in the last bucket;
// the exact minimum, maximum and sum are kept beside the buckets.
// Thread-safety: none; one histogram per thread, combined with Merge.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace helios::loadgen {

class LatencyHistogram {
 public:
  // Each power of two is split into 2^kSubBucketBits equal buckets, so a bucket's width is at
  // most 1/1024 of its lower bound and its midpoint is within 1/2048 of any value in it: 0.15 ms
  // at 300 ms, fine enough to see the few milliseconds a server adds to a slow upstream's
  // answer (bench/suite.sh, scenario llm).
  static constexpr int kSubBucketBits = 10;
  static constexpr double kMaxRelativeError = 1.0 / 2048;
  static constexpr std::chrono::nanoseconds kMaxValue = std::chrono::seconds(60);

  LatencyHistogram() = default;

  // Negative values (which a monotonic clock cannot produce) count as zero.
  void Record(std::chrono::nanoseconds value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // All zero when nothing was recorded.
  std::chrono::nanoseconds Min() const;
  std::chrono::nanoseconds Max() const;
  std::chrono::nanoseconds Mean() const;
  // The value below which `percentile` percent of the recorded values fall (0 < percentile
  // <= 100; 100 is the exact maximum), as the midpoint of its bucket, clamped to the exact
  // minimum and maximum.
  std::chrono::nanoseconds Percentile(double percentile) const;
  // How many recorded values are at least `threshold`, at bucket resolution: values in the
  // bucket that holds `threshold` count when that bucket's midpoint is at least `threshold`
  // (like recording, a threshold above kMaxValue counts as kMaxValue).
  uint64_t CountAtOrAbove(std::chrono::nanoseconds threshold) const;

 private:
  static constexpr int kMaxShift = 25;  // 2^(25 + 11) ns > kMaxValue
  static constexpr int kBucketCount = (kMaxShift + 2) << kSubBucketBits;

  static int BucketIndex(uint64_t nanos);
  static uint64_t BucketMidpoint(int index);

  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Nanoseconds; 2^64 ns is 584 years of summed latency.
  uint64_t sum_ = 0;
};

}  // namespace helios::loadgen
