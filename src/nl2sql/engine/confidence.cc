#include "nl2sql/engine/confidence.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace helios::nl2sql::engine {
namespace {

// Signals of the reading, then of the query, then structural words of the question.
constexpr std::string_view kNames[] = {
    // The reading.
    "heuristic_log",  // log of the product of the engine's own penalties
    "unknown_words",  // content words nothing explained
    "tokens",         // words in the question (log)
    "mentions",       // phrases naming a table, column or value
    "table_mentions",
    "column_mentions",
    "value_mentions",
    "quoted_mentions",
    "unused_mentions",     // mentions that found no place in the query
    "ambiguous_mentions",  // mentions whose best targets tie
    "weakest_exact",
    "weakest_head",
    "weakest_synonym",
    "weakest_modifier",
    "aggregate_words",
    "superlative_words",
    "top_words",
    "group_words",
    "numeric_conditions",
    "date_words",
    "negation_words",
    "sort_words",
    "distinct_words",
    "everything_words",
    "with_words",
    "follow_up",
    // The query.
    "joins",
    "select_items",
    "where_predicates",
    "group_by",
    "having",
    "order_by",
    "limit",
    "distinct",
    "aggregated",
    "contains_predicates",
    "in_predicates",
    "count_star",
    "tables_in_schema",  // log
    // Structural words.
    "w_both",
    "w_never",
    "w_not",
    "w_no",
    "w_without",
    "w_except",
    "w_than",
    "w_average",
    "w_each",
    "w_every",
    "w_all",
    "w_most",
    "w_least",
    "w_and",
    "w_or",
    "w_who",
    "w_whose",
    "w_which",
    "w_have",
    "w_at_least",
    "w_more_than",
    "w_less_than",
    "w_same",
    "w_different",
    "w_only",
    "w_per",
    "w_by",
    "w_order",
    "w_first",
    "w_last",
    "w_top",
    "w_total",
    "w_number",
    "w_how_many",
    "w_what",
    "w_list",
    "w_name",
    "w_any",
    "w_between",
    "w_for",
    "w_of",
    "w_in",
    "w_with",
    "w_from",
    "w_did",
    "w_also",
    // Kinds of question.
    "starts_how",
    "starts_which",
};

}  // namespace

std::span<const std::string_view> ConfidenceFeatureNames() { return kNames; }

int ConfidenceFeatureIndex(std::string_view name) {
  static const std::unordered_map<std::string_view, int> kIndex = [] {
    std::unordered_map<std::string_view, int> m;
    for (size_t i = 0; i < std::size(kNames); ++i) m.emplace(kNames[i], static_cast<int>(i));
    return m;
  }();
  auto it = kIndex.find(name);
  return it == kIndex.end() ? -1 : it->second;
}

FeatureVector::FeatureVector() : values_(std::size(kNames), 0.0) {}

void FeatureVector::Set(std::string_view name, double value) {
  int i = ConfidenceFeatureIndex(name);
  if (i >= 0) values_[static_cast<size_t>(i)] = value;
}

void FeatureVector::Add(std::string_view name, double value) {
  int i = ConfidenceFeatureIndex(name);
  if (i >= 0) values_[static_cast<size_t>(i)] += value;
}

namespace {

// Written by `heliosdb-conversational-bi eval ... --calibrate` (see docs/accuracy.md).
constexpr double kThreshold =
#include "nl2sql/engine/confidence_threshold.inc"
    ;
constexpr ConfidenceWeight kModel[] = {
#include "nl2sql/engine/confidence_model.inc"
};
constexpr ConfidenceTreeNode kTrees[] = {
#include "nl2sql/engine/confidence_trees.inc"
};

struct Compiled {
  double bias = 0;
  std::vector<std::pair<size_t, double>> weights;
};

const Compiled& Model() {
  static const Compiled kCompiled = [] {
    Compiled c;
    for (const auto& w : kModel) {
      if (w.feature == "bias") {
        c.bias = w.weight;
        continue;
      }
      int i = ConfidenceFeatureIndex(w.feature);
      if (i >= 0) c.weights.emplace_back(static_cast<size_t>(i), w.weight);
    }
    return c;
  }();
  return kCompiled;
}

}  // namespace

std::span<const ConfidenceWeight> ShippedConfidenceModel() {
  size_t n = sizeof(kModel) / sizeof(kModel[0]);
  if (n == 1 && kModel[0].feature.empty()) return {};
  return {kModel, n};
}

std::span<const ConfidenceTreeNode> ShippedConfidenceTrees() {
  size_t n = sizeof(kTrees) / sizeof(kTrees[0]);
  if (n == 1 && kTrees[0].tree < 0) return {};
  return {kTrees, n};
}

namespace {

// Trees with their features resolved to indices, each node's children checked.
struct CompiledNode {
  int feature;  // -1 for a feature the names do not know: it reads as 0
  double threshold;
  uint32_t left;
  uint32_t right;
  double value;
  bool leaf;
};
using CompiledTrees = std::vector<std::vector<CompiledNode>>;

CompiledTrees Compile(std::span<const ConfidenceTreeNode> nodes) {
  CompiledTrees out;
  size_t start = 0;
  while (start < nodes.size()) {
    size_t end = start;
    while (end < nodes.size() && nodes[end].tree == nodes[start].tree) ++end;
    const size_t size = end - start;
    std::vector<CompiledNode> tree;
    for (size_t i = start; i < end; ++i) {
      const ConfidenceTreeNode& n = nodes[i];
      // Children must come after their parent: a malformed tree cannot loop.
      const bool leaf = n.left <= static_cast<int>(i - start) ||
                        n.right <= static_cast<int>(i - start) ||
                        static_cast<size_t>(n.left) >= size || static_cast<size_t>(n.right) >= size;
      tree.push_back({ConfidenceFeatureIndex(n.feature), n.threshold,
                      static_cast<uint32_t>(leaf ? 0 : n.left),
                      static_cast<uint32_t>(leaf ? 0 : n.right), n.value, leaf});
    }
    out.push_back(std::move(tree));
    start = end;
  }
  return out;
}

double Score(const CompiledTrees& trees, std::span<const double> features) {
  double sum = 0;
  for (const auto& tree : trees) {
    const CompiledNode* n = &tree[0];
    while (!n->leaf) {
      const double x = n->feature >= 0 && static_cast<size_t>(n->feature) < features.size()
                           ? features[static_cast<size_t>(n->feature)]
                           : 0.0;
      n = &tree[x < n->threshold ? n->left : n->right];
    }
    sum += n->value;
  }
  return sum;
}

}  // namespace

double TreesScore(std::span<const ConfidenceTreeNode> nodes, std::span<const double> features) {
  return Score(Compile(nodes), features);
}

double CalibratedConfidence(std::span<const double> features) {
  const Compiled& m = Model();
  double z = m.bias;
  for (const auto& [i, w] : m.weights)
    if (i < features.size()) z += w * features[i];
  static const CompiledTrees kCompiledTrees = Compile(ShippedConfidenceTrees());
  z += Score(kCompiledTrees, features);
  return 1.0 / (1.0 + std::exp(-z));
}

double ShippedConfidenceThreshold() { return kThreshold; }

}  // namespace helios::nl2sql::engine
