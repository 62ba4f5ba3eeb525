#include "cascade/handoff_rule.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace seam::cascade {
namespace {

struct KindName {
  RuleKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {{RuleKind::kMaxProbability, "max_probability"},
                               {RuleKind::kMargin, "margin"},
                               {RuleKind::kEntropy, "entropy"},
                               {RuleKind::kMeanBoxScore, "mean_box_score"},
                               {RuleKind::kLowScoreShare, "low_score_share"}};

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

// Probabilities from a row of logits (numerically stable) or as given.
std::vector<double> Probabilities(std::span<const float> row, bool softmax) {
  std::vector<double> p(row.begin(), row.end());
  if (!softmax) return p;
  const double top = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (double& v : p) sum += (v = std::exp(v - top));
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

std::string RuleKindName(RuleKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

Result<RuleKind> ParseRuleKind(const std::string& name) {
  std::string all;
  for (const auto& k : kKinds) {
    if (name == k.name) return k.kind;
    all += std::string(all.empty() ? "" : ", ") + k.name;
  }
  return InvalidArgument("unknown hand-off rule '" + name + "' (one of: " + all + ")");
}

bool IsDetectorRule(RuleKind kind) {
  return kind == RuleKind::kMeanBoxScore || kind == RuleKind::kLowScoreShare;
}

bool HandoffRule::HigherIsConfident() const {
  return kind != RuleKind::kEntropy && kind != RuleKind::kLowScoreShare;
}

Status HandoffRule::Validate(int64_t classes) const {
  if (output.empty()) return InvalidArgument("rule: 'output' names no output of the small model");
  if (!std::isfinite(threshold)) return InvalidArgument("rule: threshold is not a number");
  if (kind == RuleKind::kEntropy) {
    const double max = classes > 1 ? std::log(static_cast<double>(classes)) : INFINITY;
    if (threshold < 0 || threshold > max) {
      return InvalidArgument("rule: an entropy threshold is in nats, 0 to ln(classes) = " +
                             Num(max) + "; got " + Num(threshold));
    }
  } else if (threshold < 0 || threshold > 1) {
    return InvalidArgument("rule: a " + RuleKindName(kind) + " threshold is between 0 and 1; got " +
                           Num(threshold));
  }
  if (IsDetectorRule(kind)) {
    if (!(box_threshold >= 0 && box_threshold <= 1) || !(low_score >= 0 && low_score <= 1)) {
      return InvalidArgument("rule: box_threshold and low_score are box scores, 0 to 1");
    }
  }
  return Status::Ok();
}

bool Passes(RuleKind kind, double score, double threshold) {
  return kind == RuleKind::kEntropy || kind == RuleKind::kLowScoreShare ? score <= threshold
                                                                        : score >= threshold;
}

Result<Decision> Decide(const HandoffRule& rule, std::span<const float> row) {
  if (row.empty()) return InvalidArgument("rule output '" + rule.output + "' is empty");
  for (float v : row) {
    if (!std::isfinite(v)) {
      return InvalidArgument("rule output '" + rule.output + "' holds a value that is not finite");
    }
  }
  Decision d;
  if (IsDetectorRule(rule.kind)) {
    int detections = 0, low = 0;
    double sum = 0;
    for (float s : row) {
      if (s < rule.box_threshold) continue;
      ++detections;
      sum += s;
      low += s < rule.low_score;
    }
    if (detections == 0) {
      d.score = rule.kind == RuleKind::kMeanBoxScore ? 1 : 0;  // nothing to re-check
    } else {
      d.score = rule.kind == RuleKind::kMeanBoxScore ? sum / detections
                                                     : static_cast<double>(low) / detections;
    }
  } else {
    const std::vector<double> p = Probabilities(row, rule.softmax);
    const auto top = std::max_element(p.begin(), p.end());
    d.top_class = top - p.begin();
    if (rule.kind == RuleKind::kMaxProbability) {
      d.score = *top;
    } else if (rule.kind == RuleKind::kMargin) {
      double second = 0;
      for (size_t i = 0; i < p.size(); ++i) {
        if (static_cast<int64_t>(i) != d.top_class) second = std::max(second, p[i]);
      }
      d.score = *top - (p.size() > 1 ? second : 0);
    } else {
      double h = 0;
      for (double v : p) h -= v > 0 ? v * std::log(v) : 0;
      d.score = h;
    }
  }
  d.confident = Passes(rule.kind, d.score, rule.threshold);
  return d;
}

}  // namespace seam::cascade
