#include "nl2sql/engine/confidence.h"

#include <array>
#include <cmath>
#include <string>
#include <unordered_map>

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

double CalibratedConfidence(std::span<const double> features) {
  const Compiled& m = Model();
  double z = m.bias;
  for (const auto& [i, w] : m.weights)
    if (i < features.size()) z += w * features[i];
  return 1.0 / (1.0 + std::exp(-z));
}

double ShippedConfidenceThreshold() { return kThreshold; }

}  // namespace helios::nl2sql::engine
