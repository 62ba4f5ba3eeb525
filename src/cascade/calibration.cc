#include "cascade/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/percentile.h"

namespace seam::cascade {
namespace {

std::string Pct(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f%%", 100 * v);
  return buffer;
}

}  // namespace

CurvePoint Evaluate(RuleKind kind, const std::vector<ExampleRecord>& records, double threshold) {
  CurvePoint p{.threshold = threshold};
  if (records.empty()) return p;
  double correct = 0, sent = 0, bytes = 0, ms = 0;
  for (const auto& r : records) {
    const bool up = !Passes(kind, r.score, threshold);
    sent += up;
    correct += (up ? r.big_class : r.small_class) == r.label;
    bytes += up ? r.bytes_up : 0;
    ms += r.small_ms + (up ? r.big_ms : 0);
  }
  const double n = static_cast<double>(records.size());
  p.accuracy = correct / n;
  p.cloud_fraction = sent / n;
  p.bytes_per_input = bytes / n;
  p.mean_latency_ms = ms / n;
  return p;
}

std::vector<CurvePoint> Sweep(RuleKind kind, const std::vector<ExampleRecord>& records) {
  std::vector<double> scores;
  scores.reserve(records.size());
  for (const auto& r : records) scores.push_back(r.score);
  std::sort(scores.begin(), scores.end());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
  // A threshold at each distinct score (the loosest of them sends nothing up), and one just
  // beyond the strictest score, which sends everything up -- when a rule can hold it: scores
  // are 0 to 1 (or 0 to ln classes for entropy), so a top score of exactly 1 (or an entropy of
  // 0) leaves no threshold beyond it, and the curve ends at the strictest score.
  const bool higher = Passes(kind, 1, 0);
  std::vector<double> thresholds(scores.begin(), scores.end());
  if (!scores.empty()) {
    const double beyond = higher ? std::nextafter(scores.back(), INFINITY)
                                 : std::nextafter(scores.front(), -INFINITY);
    if (higher ? beyond <= 1 : beyond >= 0) thresholds.push_back(beyond);
  }
  std::vector<CurvePoint> curve;
  curve.reserve(thresholds.size());
  for (double t : thresholds) curve.push_back(Evaluate(kind, records, t));
  std::stable_sort(curve.begin(), curve.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.cloud_fraction < b.cloud_fraction;
  });
  return curve;
}

std::vector<CurvePoint> Thin(const std::vector<CurvePoint>& curve, size_t points) {
  if (curve.size() <= points || points < 2) return curve;
  std::vector<CurvePoint> out;
  const double lo = curve.front().cloud_fraction, hi = curve.back().cloud_fraction;
  size_t i = 0;
  for (size_t k = 0; k < points; ++k) {
    const double want = lo + (hi - lo) * static_cast<double>(k) / static_cast<double>(points - 1);
    while (i + 1 < curve.size() && curve[i].cloud_fraction < want) ++i;
    if (out.empty() || out.back().threshold != curve[i].threshold) out.push_back(curve[i]);
  }
  if (out.back().threshold != curve.back().threshold) out.push_back(curve.back());
  return out;
}

Result<CurvePoint> Choose(const std::vector<CurvePoint>& curve, const Target& target) {
  if (target.min_accuracy.has_value() == target.max_cloud_fraction.has_value()) {
    return InvalidArgument("a calibration target is a minimum accuracy or a maximum cloud ratio");
  }
  if (curve.empty()) return InvalidArgument("no calibration records");
  const CurvePoint* best = nullptr;
  if (target.min_accuracy) {
    const CurvePoint* most = &curve.front();
    for (const auto& p : curve) {
      if (p.accuracy > most->accuracy) most = &p;
      if (p.accuracy >= *target.min_accuracy &&
          (!best || p.cloud_fraction < best->cloud_fraction)) {
        best = &p;
      }
    }
    if (!best) {
      return NotFound("no threshold reaches an accuracy of " + Pct(*target.min_accuracy) +
                      " on this set; the best is " + Pct(most->accuracy) + " (sending " +
                      Pct(most->cloud_fraction) + " up)");
    }
  } else {
    for (const auto& p : curve) {
      if (p.cloud_fraction <= *target.max_cloud_fraction &&
          (!best || p.accuracy > best->accuracy)) {
        best = &p;
      }
    }
    if (!best) {
      return NotFound("no threshold sends at most " + Pct(*target.max_cloud_fraction) +
                      " up; the least is " + Pct(curve.front().cloud_fraction));
    }
  }
  return *best;
}

double LatencyPercentileMs(RuleKind kind, const std::vector<ExampleRecord>& records,
                           Strategy strategy, double threshold, double p) {
  if (records.empty()) return 0;
  std::vector<double> ms;
  ms.reserve(records.size());
  for (const auto& r : records) {
    switch (strategy) {
      case Strategy::kSmallOnly:
        ms.push_back(r.small_ms);
        break;
      case Strategy::kBigOnly:
        ms.push_back(r.big_ms);
        break;
      case Strategy::kCascade:
        ms.push_back(r.small_ms + (Passes(kind, r.score, threshold) ? 0 : r.big_ms));
        break;
    }
  }
  return Percentile(std::move(ms), p);
}

double SmallAccuracy(const std::vector<ExampleRecord>& records) {
  if (records.empty()) return 0;
  double c = 0;
  for (const auto& r : records) c += r.small_class == r.label;
  return c / static_cast<double>(records.size());
}

double BigAccuracy(const std::vector<ExampleRecord>& records) {
  if (records.empty()) return 0;
  double c = 0;
  for (const auto& r : records) c += r.big_class == r.label;
  return c / static_cast<double>(records.size());
}

}  // namespace seam::cascade
