#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace helios::loadgen {

int LatencyHistogram::BucketIndex(uint64_t nanos) {
  // Values below 2^(kSubBucketBits + 1) have buckets of width 1; above, the top
  // kSubBucketBits + 1 significant bits pick the bucket within the value's power of two.
  const int top_bit = 63 - std::countl_zero(nanos | 1);
  const int shift = std::max(0, top_bit - kSubBucketBits);
  return (shift << kSubBucketBits) + static_cast<int>(nanos >> shift);
}

uint64_t LatencyHistogram::BucketMidpoint(int index) {
  const int shift = std::max(0, (index >> kSubBucketBits) - 1);
  const uint64_t low = static_cast<uint64_t>(index - (shift << kSubBucketBits)) << shift;
  const uint64_t width = uint64_t{1} << shift;
  return low + (width - 1) / 2;
}

void LatencyHistogram::Record(std::chrono::nanoseconds value) {
  const uint64_t nanos = value.count() < 0 ? 0 : static_cast<uint64_t>(value.count());
  const uint64_t clamped = std::min<uint64_t>(nanos, kMaxValue.count());
  ++buckets_[BucketIndex(clamped)];
  ++count_;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
  sum_ += nanos;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

std::chrono::nanoseconds LatencyHistogram::Min() const {
  return std::chrono::nanoseconds(count_ == 0 ? 0 : static_cast<int64_t>(min_));
}

std::chrono::nanoseconds LatencyHistogram::Max() const {
  return std::chrono::nanoseconds(static_cast<int64_t>(max_));
}

std::chrono::nanoseconds LatencyHistogram::Mean() const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(sum_ / count_));
}

std::chrono::nanoseconds LatencyHistogram::Percentile(double percentile) const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  if (percentile >= 100) return Max();
  const double wanted = std::ceil(std::max(percentile, 0.0) / 100 * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const uint64_t value = std::clamp(BucketMidpoint(i), min_, max_);
      return std::chrono::nanoseconds(static_cast<int64_t>(value));
    }
  }
  return Max();
}

uint64_t LatencyHistogram::CountAtOrAbove(std::chrono::nanoseconds threshold) const {
  if (threshold.count() <= 0) return count_;
  const uint64_t wanted =
      std::min<uint64_t>(static_cast<uint64_t>(threshold.count()), kMaxValue.count());
  uint64_t total = 0;
  for (int i = BucketIndex(wanted); i < kBucketCount; ++i) {
    if (BucketMidpoint(i) >= wanted) total += buckets_[i];
  }
  return total;
}

}  // namespace helios::loadgen
