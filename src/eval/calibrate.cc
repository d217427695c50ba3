#include "eval/calibrate.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <set>
#include <thread>

namespace helios::eval {
namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Solves A x = b for a symmetric positive definite A (Cholesky); false when A is not.
bool SolveSpd(std::vector<double> a, std::vector<double> b, size_t n, std::vector<double>& x) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (d <= 1e-12) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L y = b
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  x = std::move(b);
  return true;
}

struct Answered {
  size_t result = 0;  // index into report.results
  size_t fold = 0;
  bool correct = false;
};

}  // namespace

size_t FoldOf(std::string_view database, size_t folds) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : database) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return folds == 0 ? 0 : static_cast<size_t>(h % folds);
}

double LogisticModel::Predict(const std::vector<double>& x) const {
  double z = bias;
  for (size_t i = 0; i < weights.size() && i < x.size(); ++i) z += weights[i] * x[i];
  return Sigmoid(z);
}

LogisticModel FitLogistic(const std::vector<Sample>& samples, size_t features, double l2) {
  LogisticModel model;
  model.weights.assign(features, 0.0);
  if (samples.empty()) return model;
  const double n = static_cast<double>(samples.size());
  // Standardise; a feature constant over the samples keeps weight 0.
  std::vector<double> mean(features, 0.0), sd(features, 0.0);
  for (const auto& s : samples)
    for (size_t j = 0; j < features; ++j) mean[j] += (*s.x)[j] / n;
  for (const auto& s : samples)
    for (size_t j = 0; j < features; ++j)
      sd[j] += ((*s.x)[j] - mean[j]) * ((*s.x)[j] - mean[j]) / n;
  std::vector<size_t> used;
  for (size_t j = 0; j < features; ++j) {
    sd[j] = std::sqrt(sd[j]);
    if (sd[j] > 1e-9) used.push_back(j);
  }
  const size_t d = used.size() + 1;  // [bias, used features...]
  std::vector<std::vector<double>> z(samples.size(), std::vector<double>(d, 1.0));
  for (size_t i = 0; i < samples.size(); ++i)
    for (size_t k = 0; k < used.size(); ++k)
      z[i][k + 1] = ((*samples[i].x)[used[k]] - mean[used[k]]) / sd[used[k]];
  std::vector<double> w(d, 0.0);
  double positives = 0;
  for (const auto& s : samples) positives += s.correct ? 1 : 0;
  const double prior = std::clamp(positives / n, 1e-3, 1 - 1e-3);
  w[0] = std::log(prior / (1 - prior));
  for (int iter = 0; iter < 50; ++iter) {
    std::vector<double> h(d * d, 0.0), g(d, 0.0);
    for (size_t i = 0; i < samples.size(); ++i) {
      double t = 0;
      for (size_t k = 0; k < d; ++k) t += w[k] * z[i][k];
      const double p = Sigmoid(t);
      const double r = p - (samples[i].correct ? 1.0 : 0.0);
      const double v = std::max(p * (1 - p), 1e-9);
      for (size_t a = 0; a < d; ++a) {
        g[a] += r * z[i][a];
        const double va = v * z[i][a];
        for (size_t b = 0; b <= a; ++b) h[a * d + b] += va * z[i][b];
      }
    }
    for (size_t a = 0; a < d; ++a)
      for (size_t b = 0; b < a; ++b) h[b * d + a] = h[a * d + b];
    for (size_t k = 1; k < d; ++k) {
      g[k] += l2 * w[k];
      h[k * d + k] += l2;
    }
    std::vector<double> step;
    if (!SolveSpd(h, g, d, step)) break;
    double change = 0;
    for (size_t k = 0; k < d; ++k) {
      w[k] -= step[k];
      change = std::max(change, std::abs(step[k]));
    }
    if (change < 1e-8) break;
  }
  model.bias = w[0];
  for (size_t k = 0; k < used.size(); ++k) {
    const size_t j = used[k];
    model.weights[j] = w[k + 1] / sd[j];
    model.bias -= w[k + 1] * mean[j] / sd[j];
  }
  return model;
}

double BoostedTrees::Predict(const std::vector<double>& x) const {
  double z = bias;
  for (const auto& tree : trees) {
    size_t at = 0;
    while (tree[at].feature >= 0) {
      const auto f = static_cast<size_t>(tree[at].feature);
      const double v = f < x.size() ? x[f] : 0.0;
      at = static_cast<size_t>(v < tree[at].threshold ? tree[at].left : tree[at].right);
    }
    z += tree[at].value;
  }
  return Sigmoid(z);
}

namespace {

// Each feature cut into bins: a value's bin is the number of cuts at or below it, so that
// "bin <= b" is "value < cuts[b]". Cuts lie halfway between neighbouring values.
struct Binned {
  std::vector<std::vector<double>> cuts;     // per feature
  std::vector<std::vector<uint8_t>> bin_of;  // per feature, per sample
};

Binned BinFeatures(const std::vector<Sample>& samples, size_t features, size_t bins) {
  Binned b;
  b.cuts.resize(features);
  b.bin_of.assign(features, std::vector<uint8_t>(samples.size(), 0));
  bins = std::clamp<size_t>(bins, 2, 255);
  std::vector<double> values(samples.size());
  for (size_t j = 0; j < features; ++j) {
    for (size_t i = 0; i < samples.size(); ++i) values[i] = (*samples[i].x)[j];
    std::sort(values.begin(), values.end());
    std::vector<double> distinct = values;
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    std::vector<double>& cuts = b.cuts[j];
    if (distinct.size() <= bins) {
      for (size_t k = 1; k < distinct.size(); ++k)
        cuts.push_back((distinct[k - 1] + distinct[k]) / 2);
    } else {
      // Quantiles of the samples, each moved to the gap above its value.
      for (size_t k = 1; k < bins; ++k) {
        const double q = values[k * values.size() / bins];
        auto next = std::upper_bound(distinct.begin(), distinct.end(), q);
        if (next == distinct.end()) continue;
        const double cut = (q + *next) / 2;
        if (cuts.empty() || cut > cuts.back()) cuts.push_back(cut);
      }
    }
    for (size_t i = 0; i < samples.size(); ++i) {
      const double v = (*samples[i].x)[j];
      b.bin_of[j][i] =
          static_cast<uint8_t>(std::upper_bound(cuts.begin(), cuts.end(), v) - cuts.begin());
    }
  }
  return b;
}

struct TreeBuilder {
  const Binned& binned;
  const std::vector<double>& g;
  const std::vector<double>& h;
  const BoostOptions& options;
  std::vector<TreeNode> nodes;
  std::vector<std::pair<int, std::vector<size_t>>> leaves;  // node, its samples

  double Score(double gs, double hs) const { return gs * gs / (hs + options.l2); }

  int Grow(const std::vector<size_t>& rows, size_t depth) {
    const int at = static_cast<int>(nodes.size());
    nodes.emplace_back();
    double gs = 0, hs = 0;
    for (size_t i : rows) {
      gs += g[i];
      hs += h[i];
    }
    int best_feature = -1;
    size_t best_bin = 0;
    double best_gain = 1e-9;
    if (depth < options.depth && rows.size() >= 2 * options.min_leaf) {
      const double parent = Score(gs, hs);
      for (size_t j = 0; j < binned.cuts.size(); ++j) {
        const size_t nb = binned.cuts[j].size() + 1;
        if (nb < 2) continue;
        std::vector<double> hg(nb, 0.0), hh(nb, 0.0);
        std::vector<size_t> hn(nb, 0);
        const auto& bins = binned.bin_of[j];
        for (size_t i : rows) {
          hg[bins[i]] += g[i];
          hh[bins[i]] += h[i];
          ++hn[bins[i]];
        }
        double gl = 0, hl = 0;
        size_t nl = 0;
        for (size_t b = 0; b + 1 < nb; ++b) {
          gl += hg[b];
          hl += hh[b];
          nl += hn[b];
          if (nl < options.min_leaf) continue;
          if (rows.size() - nl < options.min_leaf) break;
          const double gain = Score(gl, hl) + Score(gs - gl, hs - hl) - parent;
          if (gain > best_gain) {
            best_gain = gain;
            best_feature = static_cast<int>(j);
            best_bin = b;
          }
        }
      }
    }
    if (best_feature < 0) {
      nodes[static_cast<size_t>(at)].value = -gs / (hs + options.l2) * options.learning_rate;
      leaves.emplace_back(at, rows);
      return at;
    }
    const auto f = static_cast<size_t>(best_feature);
    std::vector<size_t> left, right;
    for (size_t i : rows) (binned.bin_of[f][i] <= best_bin ? left : right).push_back(i);
    nodes[static_cast<size_t>(at)].feature = best_feature;
    nodes[static_cast<size_t>(at)].threshold = binned.cuts[f][best_bin];
    const int l = Grow(left, depth + 1);
    const int r = Grow(right, depth + 1);
    nodes[static_cast<size_t>(at)].left = l;
    nodes[static_cast<size_t>(at)].right = r;
    return at;
  }
};

}  // namespace

BoostedTrees FitBoostedTrees(const std::vector<Sample>& samples, size_t features,
                             const BoostOptions& options) {
  BoostedTrees model;
  if (samples.empty()) return model;
  const size_t n = samples.size();
  double positives = 0;
  for (const auto& s : samples) positives += s.correct ? 1 : 0;
  const double prior = std::clamp(positives / static_cast<double>(n), 1e-3, 1 - 1e-3);
  model.bias = std::log(prior / (1 - prior));
  const Binned binned = BinFeatures(samples, features, options.bins);
  std::vector<double> z(n, model.bias), g(n), h(n);
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  for (size_t t = 0; t < options.trees; ++t) {
    for (size_t i = 0; i < n; ++i) {
      const double p = Sigmoid(z[i]);
      g[i] = p - (samples[i].correct ? 1.0 : 0.0);
      h[i] = std::max(p * (1 - p), 1e-6);
    }
    TreeBuilder b{binned, g, h, options, {}, {}};
    b.Grow(all, 0);
    for (const auto& [node, rows] : b.leaves)
      for (size_t i : rows) z[i] += b.nodes[static_cast<size_t>(node)].value;
    model.trees.push_back(std::move(b.nodes));
  }
  return model;
}

double ChooseThreshold(const std::vector<std::pair<double, bool>>& scored, double target,
                       size_t min_answers) {
  std::vector<std::pair<double, bool>> s = scored;
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double best = 1.01;
  size_t answered = 0, correct = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    ++answered;
    correct += s[i].second ? 1 : 0;
    // Only between distinct probabilities: a threshold keeps all of a tie or none of it.
    if (i + 1 < s.size() && s[i + 1].first == s[i].first) continue;
    if (answered >= min_answers &&
        static_cast<double>(correct) >= target * static_cast<double>(answered))
      best = s[i].first;
  }
  return best;
}

Result<Calibration> Calibrate(const Report& report, std::vector<std::string> feature_names,
                              const CalibrationOptions& options) {
  const size_t nf = feature_names.size();
  if (options.folds < 3)
    return Fail(ErrorCode::kInvalidArgument, "calibration needs at least 3 folds");
  std::vector<Answered> answered;
  std::set<std::string> databases;
  for (size_t i = 0; i < report.results.size(); ++i) {
    const QuestionResult& r = report.results[i];
    databases.insert(r.database);
    if (r.outcome != Outcome::kCorrect && r.outcome != Outcome::kWrong) continue;
    if (r.features.size() != nf)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("question {} of '{}' has {} confidence features, not {}: the run "
                              "must ask the engine with no confidence threshold",
                              r.item, r.database, r.features.size(), nf));
    answered.push_back({i, FoldOf(r.database, options.folds), r.outcome == Outcome::kCorrect});
  }
  if (answered.size() < options.min_answers * options.folds)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} answered questions are too few to calibrate on {} folds",
                            answered.size(), options.folds));
  auto samples_of = [&](const std::set<size_t>& folds) {
    std::vector<Sample> out;
    for (const auto& a : answered)
      if (folds.contains(a.fold)) out.push_back({&report.results[a.result].features, a.correct});
    return out;
  };
  auto all_but = [&](std::set<size_t> excluded) {
    std::set<size_t> folds;
    for (size_t f = 0; f < options.folds; ++f)
      if (!excluded.contains(f)) folds.insert(f);
    return folds;
  };
  auto fit = [&](const std::vector<Sample>& samples) {
    ConfidenceModel m;
    m.kind = options.model;
    if (m.kind == ModelKind::kTrees)
      m.trees = FitBoostedTrees(samples, nf, options.boost);
    else
      m.logistic = FitLogistic(samples, nf, options.l2);
    return m;
  };
  // Out-of-fold probabilities over `folds`: each fold scored by a model fitted on the others.
  auto out_of_fold = [&](const std::set<size_t>& folds) {
    std::vector<std::pair<double, bool>> scored;
    for (size_t f : folds) {
      std::set<size_t> rest = folds;
      rest.erase(f);
      const ConfidenceModel m = fit(samples_of(rest));
      for (const auto& a : answered)
        if (a.fold == f)
          scored.push_back({m.Predict(report.results[a.result].features), a.correct});
    }
    return scored;
  };

  Calibration c;
  c.feature_names = std::move(feature_names);
  c.reliability.assign(10, {0, 0});
  c.held_out_probability.assign(report.results.size(), -1.0);
  // Each fold's threshold and model, and the shipped ones (index `folds`), are independent
  // fits: made on all cores.
  std::vector<double> thresholds(options.folds + 1, 0.0);
  std::vector<ConfidenceModel> models(options.folds + 1);
  {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t k; (k = next.fetch_add(1)) <= options.folds;) {
        const std::set<size_t> train = k < options.folds ? all_but({k}) : all_but({});
        thresholds[k] =
            ChooseThreshold(out_of_fold(train), options.target_precision, options.min_answers);
        models[k] = fit(samples_of(train));
      }
    };
    const size_t n =
        std::min<size_t>(options.folds + 1, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
  }
  for (size_t k = 0; k < options.folds; ++k) {
    FoldFigures ff;
    ff.fold = k;
    ff.threshold = thresholds[k];
    const ConfidenceModel& m = models[k];
    std::set<std::string> dbs;
    for (size_t i = 0; i < report.results.size(); ++i) {
      const QuestionResult& r = report.results[i];
      if (FoldOf(r.database, options.folds) != k) continue;
      dbs.insert(r.database);
      Outcome o = r.outcome;
      ff.unthresholded.Add(o);
      if (o == Outcome::kCorrect || o == Outcome::kWrong) {
        const double p = m.Predict(r.features);
        c.held_out_probability[i] = p;
        auto& bin = c.reliability[std::min<size_t>(9, static_cast<size_t>(p * 10))];
        ++bin.first;
        bin.second += o == Outcome::kCorrect ? 1 : 0;
        if (p < ff.threshold) o = Outcome::kDeclined;
      }
      ff.figures.Add(o);
      c.held_out.Add(o);
      c.held_out_by_difficulty[r.difficulty].Add(o);
    }
    ff.databases = dbs.size();
    c.folds.push_back(ff);
  }
  c.threshold = thresholds[options.folds];
  c.model = std::move(models[options.folds]);
  return c;
}

std::string ModelInclude(const Calibration& c) {
  std::string out =
      "// The engine's confidence model (confidence.h): written by\n"
      "//   heliosdb-conversational-bi eval ... --calibrate --write-model DIR\n"
      "// (docs/accuracy.md says how it was run). Do not edit by hand.\n";
  if (c.model.kind == ModelKind::kTrees) {
    out += fmt::format("{{\"bias\", {:.17g}}},\n", c.model.trees.bias);
    return out;
  }
  out += fmt::format("{{\"bias\", {:.17g}}},\n", c.model.logistic.bias);
  for (size_t i = 0; i < c.feature_names.size(); ++i)
    if (c.model.logistic.weights[i] != 0)
      out += fmt::format("{{\"{}\", {:.17g}}},\n", c.feature_names[i], c.model.logistic.weights[i]);
  return out;
}

std::string TreesInclude(const Calibration& c) {
  std::string out =
      "// The engine's confidence model's trees (confidence.h), written with\n"
      "// confidence_model.inc. Do not edit by hand.\n";
  if (c.model.kind != ModelKind::kTrees || c.model.trees.trees.empty())
    return out + "{-1, \"\", 0.0, -1, -1, 0.0},\n";
  for (size_t t = 0; t < c.model.trees.trees.size(); ++t)
    for (const TreeNode& n : c.model.trees.trees[t]) {
      const std::string feature =
          n.feature >= 0 ? c.feature_names[static_cast<size_t>(n.feature)] : std::string();
      out += fmt::format("{{{}, \"{}\", {:.17g}, {}, {}, {:.17g}}},\n", t, feature, n.threshold,
                         n.left, n.right, n.value);
    }
  return out;
}

std::string ThresholdInclude(const Calibration& c) {
  return fmt::format(
      "// The confidence threshold the model was calibrated for (confidence.h); written with\n"
      "// confidence_model.inc. Do not edit by hand.\n{:.17g}\n",
      c.threshold);
}

std::string CalibrationText(const Calibration& c) {
  auto pct = [](double v) { return fmt::format("{:.1f}%", 100 * v); };
  auto line = [&](const std::string& name, const Figures& f) {
    return fmt::format("{:<28} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}\n", name, f.questions,
                       f.answered, f.correct, pct(f.coverage()), pct(f.precision()),
                       pct(f.accuracy()));
  };
  std::string out = "calibration (every figure on databases the model never saw)\n\n";
  out += fmt::format("{:<28} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}\n", "", "questions", "answered",
                     "correct", "coverage", "precision", "accuracy");
  for (const auto& f : c.folds) {
    out += line(fmt::format("fold {} ({} dbs) all read", f.fold, f.databases), f.unthresholded);
    out += line(fmt::format("fold {} at {:.3f}", f.fold, f.threshold), f.figures);
  }
  out += line("held out, all folds", c.held_out);
  for (const auto& [d, f] : c.held_out_by_difficulty)
    out += line(fmt::format("  difficulty {}", DifficultyName(d)), f);
  out += "\nreliability (out-of-fold probability: answers, share right)\n";
  for (size_t b = 0; b < c.reliability.size(); ++b) {
    const auto& [n, k] = c.reliability[b];
    if (n == 0) continue;
    out += fmt::format("  {:.1f}-{:.1f}: {:>5}  {}\n", b / 10.0, (b + 1) / 10.0, n,
                       pct(static_cast<double>(k) / static_cast<double>(n)));
  }
  out += fmt::format(
      "\nshipped threshold {:.3f} (chosen on the out-of-fold probabilities of "
      "every fold)\n",
      c.threshold);
  return out;
}

}  // namespace helios::eval
