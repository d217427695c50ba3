#include "eval/calibrate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

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
  // Out-of-fold probabilities over `folds`: each fold scored by a model fitted on the others.
  auto out_of_fold = [&](const std::set<size_t>& folds) {
    std::vector<std::pair<double, bool>> scored;
    for (size_t f : folds) {
      std::set<size_t> rest = folds;
      rest.erase(f);
      const LogisticModel m = FitLogistic(samples_of(rest), nf, options.l2);
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
  for (size_t k = 0; k < options.folds; ++k) {
    const std::set<size_t> others = all_but({k});
    FoldFigures ff;
    ff.fold = k;
    ff.threshold =
        ChooseThreshold(out_of_fold(others), options.target_precision, options.min_answers);
    const LogisticModel m = FitLogistic(samples_of(others), nf, options.l2);
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
  const std::set<size_t> every = all_but({});
  c.threshold = ChooseThreshold(out_of_fold(every), options.target_precision, options.min_answers);
  c.model = FitLogistic(samples_of(every), nf, options.l2);
  return c;
}

std::string ModelInclude(const Calibration& c) {
  std::string out =
      "// The engine's confidence model (confidence.h): written by\n"
      "//   heliosdb-conversational-bi eval ... --calibrate --write-model DIR\n"
      "// (docs/accuracy.md says how it was run). Do not edit by hand.\n";
  out += fmt::format("{{\"bias\", {:.17g}}},\n", c.model.bias);
  for (size_t i = 0; i < c.feature_names.size(); ++i)
    if (c.model.weights[i] != 0)
      out += fmt::format("{{\"{}\", {:.17g}}},\n", c.feature_names[i], c.model.weights[i]);
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
