#include "cache/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cache/semantic_cache.h"

namespace helios::cache {
namespace {

std::vector<float> EmbedOrDie(std::string_view text, size_t dimensions = 512) {
  HashingEmbedder embedder(dimensions);
  auto v = embedder.Embed(text);
  EXPECT_TRUE(v) << v.error().message;
  return v ? *v : std::vector<float>();
}

double Sim(std::string_view a, std::string_view b) {
  return Similarity(EmbedOrDie(a), EmbedOrDie(b));
}

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

TEST(HashingEmbedder, NamesItsDimensions) {
  EXPECT_EQ(HashingEmbedder().name(), "builtin-hash-512");
  EXPECT_EQ(HashingEmbedder(64).name(), "builtin-hash-64");
}

TEST(HashingEmbedder, GivesUnitVectorsOfItsDimensions) {
  std::vector<float> v = EmbedOrDie("total revenue by <value:customers.country>");
  ASSERT_EQ(v.size(), 512u);
  EXPECT_NEAR(Norm(v), 1.0, 1e-6);
  EXPECT_EQ(EmbedOrDie("top <number> product", 64).size(), 64u);
}

TEST(HashingEmbedder, IdenticalTextIsSimilarityOne) {
  EXPECT_NEAR(Sim("top <number> customer by revenue", "top <number> customer by revenue"), 1.0,
              1e-6);
  // Spacing is not part of the text's meaning.
  EXPECT_NEAR(Sim("top <number> customer", "  top   <number>\tcustomer "), 1.0, 1e-6);
}

TEST(HashingEmbedder, WordOrderChangesKeepSimilarityHigh) {
  EXPECT_GT(Sim("show total revenue by country", "by country show total revenue"), 0.85);
  EXPECT_GT(Sim("revenue by country in <year>", "in <year> revenue by country"), 0.85);
  EXPECT_GT(Sim("list customer in <value:customers.country> by revenue",
                "by revenue list customer in <value:customers.country>"),
            0.85);
  EXPECT_LT(Sim("show total revenue by country", "by country show total revenue"), 0.999);
}

TEST(HashingEmbedder, OneDifferentContentWordLowersSimilarity) {
  double s = Sim("total revenue by country", "total revenue by region");
  EXPECT_LT(s, 0.85);
  EXPECT_GT(s, 0.5);  // still related: three words and a pair in common
  EXPECT_LT(Sim("total revenue by country", "average revenue by country"), 0.85);
  EXPECT_LT(Sim("total revenue by country", "total order by country"), 0.85);
}

TEST(HashingEmbedder, SharedCharacterTrigramsCountALittle) {
  // "countries" shares trigrams with "country", "region" none: the first is closer.
  EXPECT_GT(Sim("revenue by country", "revenue by countries"),
            Sim("revenue by country", "revenue by region"));
}

TEST(HashingEmbedder, SlotMarkersAreWords) {
  EXPECT_LT(Sim("revenue in <value:customers.country>", "revenue in <value:customers.city>"), 0.85);
  EXPECT_NEAR(Sim("revenue in <number>", "revenue in <number>"), 1.0, 1e-6);
}

TEST(HashingEmbedder, EmptyTextIsTheZeroVector) {
  std::vector<float> empty = EmbedOrDie("");
  ASSERT_EQ(empty.size(), 512u);
  for (float x : empty) EXPECT_EQ(x, 0.0f);
  EXPECT_EQ(EmbedOrDie("   "), empty);
  double s = Similarity(empty, EmbedOrDie("total revenue"));
  EXPECT_FALSE(std::isnan(s));
  EXPECT_EQ(s, 0.0);
  EXPECT_EQ(Similarity(empty, empty), 0.0);
}

TEST(HashingEmbedder, HandlesMultibyteCharacters) {
  std::vector<float> v = EmbedOrDie("umsatz nach größe 日本");
  EXPECT_NEAR(Norm(v), 1.0, 1e-6);
  EXPECT_NEAR(Sim("umsatz nach größe", "umsatz nach größe"), 1.0, 1e-6);
  EXPECT_LT(Sim("umsatz nach größe", "umsatz nach grösse"), 0.85);
}

// Every process and every instance sharing a Redis cache must give the same vector: the hash
// is fixed by the embedder, not by the standard library. These values are that contract
// (computed apart from this code, from the features and hash its source describes).
TEST(HashingEmbedder, IsTheSameInEveryProcess) {
  std::vector<float> v = EmbedOrDie("top <number> customer", 16);
  std::vector<float> expected = {
      0.01858949f, -0.3655932f, -0.4771302f, 0.0f, -0.03717897f, 0.0f, -0.03098248f, 0.04957197f,
      0.5452916f,  0.01858949f, -0.3284143f, 0.0f, 0.4771302f,   0.0f, 0.0f,         -0.01858949f};
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-6) << "dimension " << i;
}

TEST(Normalize, ScalesToUnitLengthAndLeavesZerosAlone) {
  std::vector<float> v = {3, 4};
  Normalize(v);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0, 0};
  Normalize(zero);
  EXPECT_EQ(zero, (std::vector<float>{0, 0, 0}));
}

TEST(Similarity, IsTheDotProductAndZeroForDifferentSizes) {
  EXPECT_DOUBLE_EQ(Similarity({0.6f, 0.8f}, {1, 0}), static_cast<double>(0.6f));
  EXPECT_DOUBLE_EQ(Similarity({1, 0}, {0, 1}), 0.0);
  EXPECT_DOUBLE_EQ(Similarity({1, 0}, {1, 0, 0}), 0.0);
}

}  // namespace
}  // namespace helios::cache
