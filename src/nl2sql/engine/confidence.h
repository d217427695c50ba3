// The engine's confidence: a logistic model over signals of how a question was read (words left
// unexplained, how well each phrase named its table or column, the shape of the query, the
// structural words of the question), fitted on benchmark questions of databases held out from
// the rest (`eval --calibrate`, src/eval/calibrate.h), so that the probability it gives is the
// share of such answers that were right. The model is data (confidence_model.inc, written by
// that command); no feature names a table, column or value of any database.
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace helios::nl2sql::engine {

// The features, in a fixed order: Understanding::features holds one value per name.
std::span<const std::string_view> ConfidenceFeatureNames();

// Index of a feature name, or -1.
int ConfidenceFeatureIndex(std::string_view name);

// Fills a vector of ConfidenceFeatureNames().size() zeros; Set() by name.
class FeatureVector {
 public:
  FeatureVector();
  void Set(std::string_view name, double value);
  void Add(std::string_view name, double value);
  const std::vector<double>& values() const { return values_; }
  std::vector<double> Take() { return std::move(values_); }

 private:
  std::vector<double> values_;
};

struct ConfidenceWeight {
  std::string_view feature;  // "bias" for the intercept
  double weight;
};

// One node of a regression tree of the model (confidence_trees.inc). The nodes of a tree are
// consecutive and share `tree`; its first node is the root, `left` and `right` index the nodes
// of the same tree. A node with `left` < 0 is a leaf worth `value`; any other sends a question
// whose `feature` is below `threshold` left, the rest right.
struct ConfidenceTreeNode {
  int tree;
  std::string_view feature;
  double threshold;
  int left;
  int right;
  double value;
};

// The sum of the trees' leaves reached by `features` (in the order of ConfidenceFeatureNames();
// a feature the names do not know reads as 0). A node whose children lie outside its tree, or
// not after it, is a leaf: a malformed tree cannot loop.
double TreesScore(std::span<const ConfidenceTreeNode> nodes, std::span<const double> features);

// The shipped model's weights (confidence_model.inc); empty before the first calibration. A
// model of trees has only its "bias" here.
std::span<const ConfidenceWeight> ShippedConfidenceModel();

// The shipped model's trees (confidence_trees.inc); empty for a linear model.
std::span<const ConfidenceTreeNode> ShippedConfidenceTrees();

// P(correct) under the shipped model: 1 / (1 + exp(-(bias + w . x + trees))). `features` is in
// the order of ConfidenceFeatureNames(). Weights naming unknown features are ignored.
double CalibratedConfidence(std::span<const double> features);

// The threshold the model was calibrated for (the precision target met on held-out folds).
double ShippedConfidenceThreshold();

}  // namespace helios::nl2sql::engine
