#include "plan/latency_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "plan/nnls.h"

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

// One measured segment as the fit sees it.
struct Sample {
  int first = 0;
  int last = 0;
  std::string kind;  // profile::SegmentTiming::kind
  double bytes = 0;  // boundary bytes
  double ms = 0;     // measured median
};

// The design of one fit: which terms it has. Columns: a, then c if fitted, then one scale per
// zone of `input_starts` (for segments from the model input), then, unless `one_scale`, one per
// zone of `inside_starts` (for the others).
struct Design {
  std::vector<int> input_starts;   // first position of each zone, ascending, from 0
  std::vector<int> inside_starts;  // likewise
  bool one_scale = false;          // a single scale for every node and start
  bool with_c = false;
};

int ZoneOf(const std::vector<int>& starts, int position) {
  return static_cast<int>(std::upper_bound(starts.begin(), starts.end(), position) -
                          starts.begin()) -
         1;
}

// Unoptimised node time of [first, last] in each zone of `starts`, appended to `row`.
void AppendZoneSums(const std::vector<int>& starts, const std::vector<double>& prefix_ms, int first,
                    int last, bool present, std::vector<double>& row) {
  const int zones = static_cast<int>(starts.size());
  const int n = static_cast<int>(prefix_ms.size()) - 1;
  for (int z = 0; z < zones; ++z) {
    const int lo = std::max(first, starts[z]);
    const int hi = std::min(last + 1, z + 1 < zones ? starts[z + 1] : n);
    row.push_back(present && hi > lo ? prefix_ms[hi] - prefix_ms[lo] : 0.0);
  }
}

std::vector<double> Row(const Design& d, const std::vector<double>& prefix_ms, const Sample& s) {
  std::vector<double> row = {1.0};
  if (d.with_c) row.push_back(s.bytes);
  if (d.one_scale) {
    AppendZoneSums({0}, prefix_ms, s.first, s.last, true, row);
  } else {
    AppendZoneSums(d.input_starts, prefix_ms, s.first, s.last, s.first == 0, row);
    AppendZoneSums(d.inside_starts, prefix_ms, s.first, s.last, s.first > 0, row);
  }
  return row;
}

struct ZoneFit {
  double a = 0;
  double c = 0;
  std::vector<double> input;   // scale per input zone
  std::vector<double> inside;  // scale per inside zone
};

// When a fit fails: a zone whose scale the samples did not pin, if one can be blamed.
struct Weakest {
  bool inside = false;
  int zone = -1;
};

// Weighted by 1 / measured^2: the fit minimises relative error. Fails when there are not more
// samples than unknowns (noise would be fitted exactly), when the samples cannot separate the
// terms, or when a zone's scale comes out 0 (its nodes would cost nothing).
std::optional<ZoneFit> TryFit(const Design& design, const std::vector<Sample>& samples,
                              const std::vector<double>& prefix, Weakest& weakest) {
  LeastSquaresProblem problem;
  for (const Sample& s : samples) {
    problem.rows.push_back(Row(design, prefix, s));
    problem.targets.push_back(s.ms);
    problem.weights.push_back(1 / (s.ms * s.ms));
  }
  weakest = {};
  if (problem.rows.empty() || problem.rows.size() <= problem.rows.front().size()) {
    return std::nullopt;
  }
  const std::optional<std::vector<double>> x = SolveNonNegative(problem);
  if (!x) return std::nullopt;
  ZoneFit fit;
  fit.a = (*x)[0];
  fit.c = design.with_c ? (*x)[1] : 0;
  auto next = x->begin() + (design.with_c ? 2 : 1);
  if (design.one_scale) {
    fit.input = fit.inside = {*next};
  } else {
    const auto inputs = static_cast<std::ptrdiff_t>(design.input_starts.size());
    fit.input.assign(next, next + inputs);
    fit.inside.assign(next + inputs, x->end());
  }
  for (bool inside : {false, true}) {
    const std::vector<double>& scales = inside ? fit.inside : fit.input;
    for (size_t z = 0; z < scales.size(); ++z) {
      if (!(scales[z] > 0) || !std::isfinite(scales[z])) {
        weakest = {inside, static_cast<int>(z)};
        return std::nullopt;
      }
    }
  }
  return fit;
}

// `starts` with zone `zone` merged into its lighter neighbour (by unoptimised time).
std::vector<int> MergeZone(std::vector<int> starts, int zone, const std::vector<double>& prefix) {
  const int zones = static_cast<int>(starts.size());
  const int n = static_cast<int>(prefix.size()) - 1;
  auto weight = [&](int z) {
    return prefix[z + 1 < zones ? starts[z + 1] : n] - prefix[starts[z]];
  };
  // Merging zone z with z + 1 removes starts[z + 1]; with z - 1, starts[z].
  const bool with_next = zone == 0 || (zone + 1 < zones && weight(zone + 1) < weight(zone - 1));
  starts.erase(starts.begin() + (with_next ? zone + 1 : zone));
  return starts;
}

// The lightest zone of `starts` (by unoptimised time), when a fit fails without a zone to blame.
int LightestZone(const std::vector<int>& starts, const std::vector<double>& prefix) {
  const int zones = static_cast<int>(starts.size());
  const int n = static_cast<int>(prefix.size()) - 1;
  int lightest = 0;
  double least = std::numeric_limits<double>::infinity();
  for (int z = 0; z < zones; ++z) {
    const double w = prefix[z + 1 < zones ? starts[z + 1] : n] - prefix[starts[z]];
    if (w < least) least = w, lightest = z;
  }
  return lightest;
}

std::string Zones(size_t count) {
  return std::to_string(count) + (count == 1 ? " zone" : " zones");
}

}  // namespace

double LatencyModel::ScaleAt(int position, SegmentStart start) const {
  if (position < 0 || position >= num_nodes()) return kNaN;
  return start == SegmentStart::kModelInput ? input_scale_[ZoneOf(input_starts_, position)]
                                            : inside_scale_[ZoneOf(inside_starts_, position)];
}

const std::vector<int>& LatencyModel::zone_starts(SegmentStart start) const {
  return start == SegmentStart::kModelInput ? input_starts_ : inside_starts_;
}

double LatencyModel::PredictMs(int first, int last, int64_t boundary_bytes) const {
  if (first < 0 || first > last || last >= num_nodes() || boundary_bytes < 0) return kNaN;
  const SegmentStart start = first == 0 ? SegmentStart::kModelInput : SegmentStart::kInside;
  double ms = a_ms_ + c_ms_per_byte_ * static_cast<double>(boundary_bytes);
  for (int i = first; i <= last; ++i) ms += PredictNodeMs(i, start);
  return ms;
}

double LatencyModel::PredictNodeMs(int position, SegmentStart start) const {
  if (position < 0 || position >= num_nodes()) return kNaN;
  return ScaleAt(position, start) * node_ms_[position];
}

Result<LatencyModel> FitLatencyModel(const profile::Profile& profile) {
  SEAM_RETURN_IF_ERROR(Validate(profile));
  LatencyModel model;
  const int n = static_cast<int>(profile.nodes.size());
  std::vector<double> prefix(n + 1, 0.0);
  for (int i = 0; i < n; ++i) {
    model.node_ms_.push_back(profile.nodes[i].time.median_ms);
    prefix[i + 1] = prefix[i] + model.node_ms_[i];
  }

  // A 0 ms measurement carries no relative information and is left out.
  std::vector<Sample> samples;
  bool has_whole = false;
  bool all_bytes = true;  // c is fitted only when every sample has its boundary bytes
  for (const auto& s : profile.segments) {
    has_whole |= s.first == 0 && s.last == n - 1;
    if (s.time.median_ms <= 0) continue;
    all_bytes &= s.boundary_bytes.has_value();
    samples.push_back({s.first, s.last, s.kind, static_cast<double>(s.boundary_bytes.value_or(0)),
                       s.time.median_ms});
  }
  if (!has_whole && profile.whole_model.median_ms > 0) {
    samples.push_back({0, n - 1, "whole", 0, profile.whole_model.median_ms});
    all_bytes = false;
  }
  // Zones come from what was measured for them (profiler.h): each prefix [0, e] ends a zone of
  // the scales for segments from the model input, each tile [f, l] ends one of the others'.
  std::vector<int> input_starts = {0}, inside_starts = {0};
  for (const Sample& s : samples) {
    if (s.last + 1 >= n) continue;
    if (s.kind == "prefix" && s.first == 0) input_starts.push_back(s.last + 1);
    if (s.kind == "tile") inside_starts.push_back(s.last + 1);
  }
  for (auto* starts : {&input_starts, &inside_starts}) {
    std::sort(starts->begin(), starts->end());
    starts->erase(std::unique(starts->begin(), starts->end()), starts->end());
  }

  // Designs from the richest down: scales per zone apart for the two starts (zones merged one by
  // one while the samples cannot pin a scale of each), then one scale; each with c when every
  // sample has boundary bytes, else (or when c is not separable) without.
  for (bool one_scale : {false, true}) {
    Design design{input_starts, inside_starts, one_scale, false};
    if (one_scale) design.input_starts = design.inside_starts = {0};
    while (true) {
      Weakest weakest;
      for (bool with_c : {true, false}) {
        if (with_c && !all_bytes) continue;
        design.with_c = with_c;
        Weakest blamed;
        std::optional<ZoneFit> fit = TryFit(design, samples, prefix, blamed);
        if (fit) {
          model.a_ms_ = fit->a;
          model.c_ms_per_byte_ = fit->c;
          model.input_starts_ = design.input_starts;
          model.inside_starts_ = design.inside_starts;
          model.input_scale_ = std::move(fit->input);
          model.inside_scale_ = std::move(fit->inside);
          model.method_ = one_scale
                              ? std::string("non-negative least squares: one scale")
                              : "non-negative least squares: " + Zones(design.input_starts.size()) +
                                    " from the model input, " + Zones(design.inside_starts.size()) +
                                    " inside";
          if (!all_bytes) {
            model.method_ += "; no boundary bytes, c = 0";
          } else if (!with_c) {
            model.method_ += "; c not separable, c = 0";
          }
          return model;
        }
        if (weakest.zone < 0) weakest = blamed;
      }
      if (one_scale) break;
      // Merge the zone to blame, or else the lightest zone of the finer zoning.
      if (weakest.zone < 0) {
        if (design.input_starts.size() == 1 && design.inside_starts.size() == 1) break;
        weakest.inside = design.inside_starts.size() >= design.input_starts.size();
        weakest.zone =
            LightestZone(weakest.inside ? design.inside_starts : design.input_starts, prefix);
      }
      std::vector<int>& starts = weakest.inside ? design.inside_starts : design.input_starts;
      if (starts.size() == 1) break;
      starts = MergeZone(starts, weakest.zone, prefix);
    }
  }

  const double total = prefix[n];
  const double whole = profile.whole_model.median_ms;
  const double overhead = profile.per_run_overhead.median_ms;
  if (whole <= 0) {
    return InvalidArgument("profile of tier '" + profile.tier +
                           "': too few segment times to fit, and no whole-model time");
  }
  model.input_starts_ = model.inside_starts_ = {0};
  if (whole > overhead) {
    model.a_ms_ = overhead;
    model.input_scale_ = {(whole - overhead) / total};
    model.method_ = "fallback: a = per-run overhead, b = (whole - overhead) / sum of nodes";
  } else {
    model.a_ms_ = 0;
    model.input_scale_ = {whole / total};
    model.method_ = "fallback: a = 0, b = whole / sum of nodes (overhead >= whole)";
  }
  model.inside_scale_ = model.input_scale_;
  return model;
}

}  // namespace seam::plan
