#include "plan/latency_model.h"

#include <cmath>
#include <limits>
#include <string>

namespace seam::plan {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool BadTime(const profile::Timing& t) {
  return !std::isfinite(t.median_ms) || !std::isfinite(t.p90_ms) || t.median_ms < 0 || t.p90_ms < 0;
}

std::string Range(int first, int last) {
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict, PR105651) on "[" + std::to_string().
  std::string range = "[";
  range += std::to_string(first);
  range += ',';
  range += std::to_string(last);
  range += ']';
  return range;
}

Status Validate(const profile::Profile& p) {
  const std::string where = "profile of tier '" + p.tier + "'";
  const int n = static_cast<int>(p.nodes.size());
  if (n == 0) return InvalidArgument(where + ": no node timings");
  if (p.model_nodes != n) {
    return InvalidArgument(where + ": model.nodes is " + std::to_string(p.model_nodes) +
                           " but it times " + std::to_string(n) + " nodes");
  }
  if (BadTime(p.per_run_overhead)) return InvalidArgument(where + ": bad per-run overhead time");
  if (BadTime(p.whole_model)) return InvalidArgument(where + ": bad whole-model time");
  double total = 0;
  for (const auto& node : p.nodes) {
    if (BadTime(node.time)) {
      return InvalidArgument(where + ": node '" + node.name +
                             "' has a negative or non-finite time");
    }
    total += node.time.median_ms;
  }
  if (total <= 0) return InvalidArgument(where + ": every node time is 0");
  for (const auto& s : p.segments) {
    if (s.first < 0 || s.first > s.last || s.last >= n) {
      return InvalidArgument(where + ": segment " + Range(s.first, s.last) +
                             " is not a range of its " + std::to_string(n) + " nodes");
    }
    if (BadTime(s.time)) {
      return InvalidArgument(where + ": segment " + Range(s.first, s.last) +
                             " has a negative or non-finite time");
    }
  }
  return Status::Ok();
}

}  // namespace

double LatencyModel::PredictMs(int first, int last) const {
  if (first < 0 || first > last || last >= num_nodes()) return kNaN;
  return a_ms_ + b_ * (prefix_ms_[last + 1] - prefix_ms_[first]);
}

double LatencyModel::PredictNodeMs(int position) const {
  if (position < 0 || position >= num_nodes()) return kNaN;
  return b_ * node_ms_[position];
}

Result<LatencyModel> FitLatencyModel(const profile::Profile& profile) {
  SEAM_RETURN_IF_ERROR(Validate(profile));
  LatencyModel model;
  const int n = static_cast<int>(profile.nodes.size());
  model.prefix_ms_.assign(n + 1, 0.0);
  for (int i = 0; i < n; ++i) {
    model.node_ms_.push_back(profile.nodes[i].time.median_ms);
    model.prefix_ms_[i + 1] = model.prefix_ms_[i] + model.node_ms_[i];
  }
  const double total = model.prefix_ms_[n];

  // Weighted sums for min sum w (y - a - b x)^2 with w = 1 / y^2: relative error.
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  bool has_whole = false;
  auto add = [&](double x, double y) {
    if (y <= 0) return;  // a 0 ms measurement carries no relative information
    const double w = 1 / (y * y);
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
  };
  for (const auto& s : profile.segments) {
    add(model.prefix_ms_[s.last + 1] - model.prefix_ms_[s.first], s.time.median_ms);
    has_whole |= s.first == 0 && s.last == n - 1;
  }
  if (!has_whole) add(total, profile.whole_model.median_ms);

  // Distinct lengths are needed to separate a from b; the test is relative to the spread.
  const double det = sw * sxx - sx * sx;
  if (sw > 0 && det > 1e-9 * sw * sxx) {
    model.b_ = (sw * sxy - sx * sy) / det;
    model.a_ms_ = (sy - model.b_ * sx) / sw;
    model.method_ = "least-squares";
    if (model.a_ms_ < 0) {
      model.a_ms_ = 0;
      model.b_ = sxy / sxx;
      model.method_ = "least-squares, a clamped to 0";
    }
    if (std::isfinite(model.b_) && model.b_ > 0) return model;
  }

  const double whole = profile.whole_model.median_ms;
  const double overhead = profile.per_run_overhead.median_ms;
  if (whole <= 0) {
    return InvalidArgument("profile of tier '" + profile.tier +
                           "': too few segment times to fit, and no whole-model time");
  }
  if (whole > overhead) {
    model.a_ms_ = overhead;
    model.b_ = (whole - overhead) / total;
    model.method_ = "fallback: a = per-run overhead, b = (whole - overhead) / sum of nodes";
  } else {
    model.a_ms_ = 0;
    model.b_ = whole / total;
    model.method_ = "fallback: a = 0, b = whole / sum of nodes (overhead >= whole)";
  }
  return model;
}

}  // namespace seam::plan
