#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace helios::loadgen {
namespace {

using std::chrono::nanoseconds;

// The exact percentile by the same definition as the histogram's: the smallest value with at
// least ceil(p% of n) values at or below it.
int64_t ExactPercentile(std::vector<int64_t> sorted, double percentile) {
  const auto rank = static_cast<size_t>(
      std::max(1.0, std::ceil(percentile / 100 * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

void ExpectPercentilesWithinError(const std::vector<int64_t>& values) {
  LatencyHistogram histogram;
  for (int64_t v : values) histogram.Record(nanoseconds(v));
  std::vector<int64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    const double exact = static_cast<double>(ExactPercentile(sorted, p));
    const double got = static_cast<double>(histogram.Percentile(p).count());
    EXPECT_LE(std::abs(got - exact), exact * LatencyHistogram::kMaxRelativeError + 1)
        << "p" << p << ": exact " << exact << " ns, histogram " << got << " ns";
  }
  EXPECT_EQ(histogram.Max().count(), sorted.back());
  EXPECT_EQ(histogram.Min().count(), sorted.front());
  EXPECT_EQ(histogram.Percentile(100).count(), sorted.back());
}

TEST(LatencyHistogram, UniformMicrosecondsToSecondsWithinStatedError) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> uniform(1'000, 1'000'000'000);  // 1 µs .. 1 s
  std::vector<int64_t> values(200'000);
  for (auto& v : values) v = uniform(random);
  ExpectPercentilesWithinError(values);
}

TEST(LatencyHistogram, LogNormalLatenciesWithinStatedError) {
  // A long-tailed distribution like real latencies: median 2 ms, tail into seconds.
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> lognormal(std::log(2e6), 1.2);
  std::vector<int64_t> values(200'000);
  for (auto& v : values) {
    v = std::clamp<int64_t>(static_cast<int64_t>(lognormal(random)), 1'000, 60'000'000'000);
  }
  ExpectPercentilesWithinError(values);
}

TEST(LatencyHistogram, KnownPercentilesOfASimpleSequence) {
  // 1 ms, 2 ms, ..., 1000 ms: p50 is 500 ms, p99 990 ms, p99.9 999 ms.
  LatencyHistogram histogram;
  for (int i = 1; i <= 1000; ++i) histogram.Record(std::chrono::milliseconds(i));
  EXPECT_EQ(histogram.count(), 1000u);
  EXPECT_NEAR(histogram.Percentile(50).count(), 500e6, 500e6 / 100);
  EXPECT_NEAR(histogram.Percentile(99).count(), 990e6, 990e6 / 100);
  EXPECT_NEAR(histogram.Percentile(99.9).count(), 999e6, 999e6 / 100);
  EXPECT_EQ(histogram.Mean(), std::chrono::microseconds(500'500));
  // At bucket resolution (a bucket near 900 ms is about 4 ms wide): 100 values, give or take
  // the few that share the threshold's bucket.
  EXPECT_NEAR(static_cast<double>(histogram.CountAtOrAbove(std::chrono::milliseconds(901))), 100,
              2);
  EXPECT_EQ(histogram.CountAtOrAbove(std::chrono::milliseconds(0)), 1000u);
}

TEST(LatencyHistogram, ExtremesOfTheRangeKeepTheirValue) {
  LatencyHistogram histogram;
  histogram.Record(std::chrono::microseconds(1));
  histogram.Record(std::chrono::seconds(60));
  EXPECT_NEAR(histogram.Percentile(50).count(), 1000, 1000 * LatencyHistogram::kMaxRelativeError);
  EXPECT_EQ(histogram.Percentile(100), std::chrono::seconds(60));
  // Above the range: counted in the last bucket, the exact maximum still reported.
  histogram.Record(std::chrono::seconds(100));
  EXPECT_EQ(histogram.Max(), std::chrono::seconds(100));
  EXPECT_EQ(histogram.CountAtOrAbove(std::chrono::seconds(30)), 2u);
}

TEST(LatencyHistogram, EmptyReportsZeroes) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.Percentile(99).count(), 0);
  EXPECT_EQ(histogram.Mean().count(), 0);
  EXPECT_EQ(histogram.Min().count(), 0);
  EXPECT_EQ(histogram.Max().count(), 0);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 random(3);
  std::exponential_distribution<double> exponential(1.0 / 5e6);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const nanoseconds v(static_cast<int64_t>(exponential(random)));
    (i % 2 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
  EXPECT_EQ(a.Max(), all.Max());
  EXPECT_EQ(a.Mean(), all.Mean());
}

}  // namespace
}  // namespace helios::loadgen
