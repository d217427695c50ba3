#include "cache/embedder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include "cache/semantic_cache.h"

namespace helios::cache {
namespace {

// Feature weights. Words carry the meaning; adjacent pairs add some word order; the character
// trigrams of a word (0.3 in all, shared by its trigrams) let inflections and spelling variants
// that survived lemmatisation still meet a little.
constexpr double kWordWeight = 1.0;
constexpr double kPairWeight = 0.7;
constexpr double kTrigramWeightPerWord = 0.3;

// FNV-1a 64 followed by a 64-bit finaliser (the one of MurmurHash3) so that the low bits used
// for the dimension are well mixed. Fixed by this file, never std::hash: every process and
// every instance sharing a Redis cache must map a feature to the same dimension and sign.
uint64_t StableHash(std::string_view kind, std::string_view feature) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  mix(kind);
  mix(feature);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Byte offsets where the UTF-8 characters of `s` start, plus s.size() at the end, so that
// trigrams never cut a character in two.
std::vector<size_t> CharStarts(std::string_view s) {
  std::vector<size_t> starts;
  starts.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace

HashingEmbedder::HashingEmbedder(size_t dimensions)
    : dimensions_(std::max<size_t>(dimensions, 1)) {}

std::string HashingEmbedder::name() const { return "builtin-hash-" + std::to_string(dimensions_); }

Result<std::vector<float>> HashingEmbedder::Embed(std::string_view text) {
  // Accumulated and scaled in double, rounded to float once at the end.
  std::vector<double> acc(dimensions_, 0.0);
  auto add = [&](std::string_view kind, std::string_view feature, double weight) {
    uint64_t h = StableHash(kind, feature);
    size_t index = static_cast<size_t>(h % dimensions_);
    acc[index] += (h >> 63) ? -weight : weight;
  };

  std::vector<std::string_view> words = Words(text);
  std::string buffer;
  for (size_t w = 0; w < words.size(); ++w) {
    add("w", words[w], kWordWeight);
    if (w + 1 < words.size()) {
      buffer.assign(words[w]);
      buffer += ' ';
      buffer += words[w + 1];
      add("p", buffer, kPairWeight);
    }
    buffer.assign("#");
    buffer += words[w];
    buffer += '#';
    std::vector<size_t> starts = CharStarts(buffer);
    size_t chars = starts.size() - 1;  // at least 3: the two marks and one character
    size_t trigrams = chars - 2;
    double weight = kTrigramWeightPerWord / static_cast<double>(trigrams);
    for (size_t t = 0; t < trigrams; ++t) {
      add("t", std::string_view(buffer).substr(starts[t], starts[t + 3] - starts[t]), weight);
    }
  }

  double sum = 0;
  for (double x : acc) sum += x * x;
  double inv = sum > 0 ? 1.0 / std::sqrt(sum) : 0.0;
  std::vector<float> v(dimensions_);
  for (size_t i = 0; i < dimensions_; ++i) v[i] = static_cast<float>(acc[i] * inv);
  return v;
}

void Normalize(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum == 0) return;
  double inv = 1.0 / std::sqrt(sum);
  for (float& x : v) x = static_cast<float>(x * inv);
}

double Similarity(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  // Four running sums, so that the additions do not wait on each other and the compiler can
  // use vector instructions: a lookup compares the query with every entry of its bucket.
  double sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= a.size(); i += 4) {
    for (size_t k = 0; k < 4; ++k) sums[k] += static_cast<double>(a[i + k]) * b[i + k];
  }
  for (; i < a.size(); ++i) sums[0] += static_cast<double>(a[i]) * b[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

}  // namespace helios::cache
