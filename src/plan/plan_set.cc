#include "plan/plan_set.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace seam::plan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Identity of a plan: where every node runs and which codec every move uses.
std::string PlanKey(const Plan& plan) {
  std::string key;
  for (int t : plan.tier_of_node) key += static_cast<char>('0' + t);
  for (const auto& m : plan.moves) {
    key += '|';
    key += std::to_string(m.tensor);
    key += ':';
    key += std::to_string(m.link);
    key += m.to_device ? 'd' : 'u';
    key += m.codec;
  }
  return key;
}

// Geometric points from lo to hi, `n` of them (n >= 2).
std::vector<double> Geometric(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i)
    out.push_back(lo * std::pow(hi / lo, static_cast<double>(i) / (n - 1)));
  return out;
}

// Every combination of the per-link bandwidth scales and per-tier speeds.
std::vector<PlanConditions> Grid(const PlanConditions& nominal, const PlanSetOptions& o) {
  const size_t tiers = nominal.tier_speed.size(), links = nominal.bandwidth_bps.size();
  std::vector<std::vector<double>> axes;  // tiers first, then links
  axes.push_back(o.device_speeds);
  for (size_t j = 1; j < tiers; ++j) axes.push_back(o.server_speeds);
  for (size_t k = 0; k < links; ++k) {
    axes.push_back(Geometric(1 / o.bandwidth_range, o.bandwidth_range, o.bandwidth_points));
  }
  std::vector<PlanConditions> grid;
  std::vector<size_t> index(axes.size(), 0);
  while (true) {
    PlanConditions c = nominal;
    for (size_t j = 0; j < tiers; ++j) c.tier_speed[j] = axes[j][index[j]];
    for (size_t k = 0; k < links; ++k) {
      c.bandwidth_bps[k] = nominal.bandwidth_bps[k] * axes[tiers + k][index[tiers + k]];
    }
    grid.push_back(std::move(c));
    size_t a = 0;
    while (a < axes.size() && ++index[a] == axes[a].size()) index[a++] = 0;
    if (a == axes.size()) break;
  }
  return grid;
}

int Best(const std::vector<int>& kept, const std::vector<std::vector<double>>& predicted,
         size_t p) {
  int best = kept.front();
  for (int c : kept) {
    if (predicted[c][p] < predicted[best][p]) best = c;
  }
  return best;
}

double WorstRegret(const std::vector<int>& kept, const std::vector<std::vector<double>>& predicted,
                   const std::vector<double>& optimum) {
  double worst = 1;
  for (size_t p = 0; p < optimum.size(); ++p) {
    worst = std::max(worst, predicted[Best(kept, predicted, p)][p] / optimum[p]);
  }
  return worst;
}

// The member that is best at `bps` on link k, the other conditions nominal.
int BestAt(const PlanSet& set, const PlanConditions& nominal, size_t k, double bps) {
  PlanConditions c = nominal;
  c.bandwidth_bps[k] = bps;
  int best = 0;
  double best_ms = kInf;
  for (size_t m = 0; m < set.members.size(); ++m) {
    const double ms = PredictLatencyMs(set.members[m].terms, c);
    if (ms < best_ms) best_ms = ms, best = static_cast<int>(m);
  }
  return best;
}

// Where along link k's bandwidth the set's best member changes (other conditions nominal): a fine
// geometric scan over the range, each change refined by bisection.
std::vector<BandwidthRange> Breakpoints(const PlanSet& set, const PlanConditions& nominal, size_t k,
                                        double range) {
  const std::vector<double> scan =
      Geometric(nominal.bandwidth_bps[k] / range, nominal.bandwidth_bps[k] * range, 241);
  std::vector<BandwidthRange> out;
  int current = BestAt(set, nominal, k, scan.front());
  out.push_back({0, kInf, current});
  for (size_t i = 1; i < scan.size(); ++i) {
    const int here = BestAt(set, nominal, k, scan[i]);
    if (here == current) continue;
    double lo = scan[i - 1], hi = scan[i];
    for (int it = 0; it < 40; ++it) {
      const double mid = std::sqrt(lo * hi);
      (BestAt(set, nominal, k, mid) == current ? lo : hi) = mid;
    }
    out.back().to_bps = hi;
    out.push_back({hi, kInf, here});
    current = here;
  }
  return out;
}

}  // namespace

PlanConditions NominalConditions(const PlanRequest& r) {
  PlanConditions c;
  c.tier_speed.assign(r.tiers.size(), 1.0);
  for (const Link& link : r.links) {
    c.bandwidth_bps.push_back(link.bandwidth_bps);
    c.rtt_ms.push_back(link.rtt_ms + 2 * link.overhead_ms);
  }
  return c;
}

PlanRequest ScaledRequest(const PlanRequest& request, const PlanConditions& c) {
  PlanRequest r = request;
  for (size_t j = 0; j < r.tiers.size() && j < c.tier_speed.size(); ++j) {
    const double f = c.tier_speed[j];
    TierModel& t = r.tiers[j];
    for (double& ms : t.node_ms) ms *= f;
    for (double& ms : t.input_node_ms) ms *= f;
    t.overhead_ms *= f;
    t.boundary_ms_per_byte *= f;
    for (CodecModel& codec : t.codecs) {
      codec.encode_gbps /= f;
      codec.decode_gbps /= f;
    }
  }
  for (size_t k = 0; k < r.links.size() && k < c.bandwidth_bps.size(); ++k) {
    r.links[k].bandwidth_bps = c.bandwidth_bps[k];
    r.links[k].rtt_ms = c.rtt_ms[k];
    r.links[k].overhead_ms = 0;
  }
  return r;
}

Result<PlanTerms> TermsOf(const PlanRequest& request, const Plan& plan) {
  const PlanConditions nominal = NominalConditions(request);
  SEAM_ASSIGN_OR_RETURN(Plan base, PricePlan(ScaledRequest(request, nominal), plan));
  PlanTerms terms;
  // Latency is linear in each tier's speed factor: its slope is the tier's CPU time.
  for (size_t j = 0; j < request.tiers.size(); ++j) {
    PlanConditions twice = nominal;
    twice.tier_speed[j] = 2;
    SEAM_ASSIGN_OR_RETURN(Plan slower, PricePlan(ScaledRequest(request, twice), plan));
    terms.cpu_ms.push_back(slower.latency_ms - base.latency_ms);
  }
  const int highest = plan.tier_of_node.empty()
                          ? 0
                          : *std::max_element(plan.tier_of_node.begin(), plan.tier_of_node.end());
  terms.wire_bytes.assign(request.links.size(), 0);
  for (size_t k = 0; k < request.links.size(); ++k) {
    terms.link_used.push_back(static_cast<int>(k) < highest);
  }
  for (const auto& m : base.moves) terms.wire_bytes[m.link] += m.wire_bytes;
  return terms;
}

double PredictLatencyMs(const PlanTerms& terms, const PlanConditions& c) {
  double ms = 0;
  for (size_t j = 0; j < terms.cpu_ms.size(); ++j) {
    ms += terms.cpu_ms[j] * (j < c.tier_speed.size() ? c.tier_speed[j] : 1.0);
  }
  for (size_t k = 0; k < terms.link_used.size(); ++k) {
    if (!terms.link_used[k]) continue;
    ms += c.rtt_ms[k] + terms.wire_bytes[k] * 8.0 / c.bandwidth_bps[k] * 1e3;
    if (k + 1 < c.queue_ms.size()) ms += c.queue_ms[k + 1];  // the tier the link reaches
  }
  return ms;
}

std::string OutsideRange(const std::vector<std::string>& tiers, const PlanConditions& nominal,
                         const PlanSetOptions& o, const PlanConditions& c) {
  std::string out;
  auto add = [&](const std::string& what) {
    if (!out.empty()) out += ", ";
    out += what;
  };
  char buf[160];
  for (size_t k = 0; k < c.bandwidth_bps.size() && k < nominal.bandwidth_bps.size(); ++k) {
    const double lo = nominal.bandwidth_bps[k] / o.bandwidth_range;
    const double hi = nominal.bandwidth_bps[k] * o.bandwidth_range;
    if (c.bandwidth_bps[k] >= lo && c.bandwidth_bps[k] <= hi) continue;
    std::snprintf(buf, sizeof buf, "%s-%s at %.3g Mbit/s (the set covers %.3g-%.3g)",
                  tiers[k].c_str(), tiers[k + 1].c_str(), c.bandwidth_bps[k] / 1e6, lo / 1e6,
                  hi / 1e6);
    add(buf);
  }
  for (size_t j = 0; j < c.tier_speed.size() && j < tiers.size(); ++j) {
    const auto& speeds = j == 0 ? o.device_speeds : o.server_speeds;
    if (speeds.empty()) continue;
    // The slowest and fastest sampled, with half again of margin (and never above speed 1: a
    // tier faster than profiled only makes its plans better than predicted).
    const double lo = std::min(1.0, *std::min_element(speeds.begin(), speeds.end())) / 1.5;
    const double hi = *std::max_element(speeds.begin(), speeds.end()) * 1.5;
    if (c.tier_speed[j] >= lo && c.tier_speed[j] <= hi) continue;
    std::snprintf(buf, sizeof buf, "%s %.3gx its profile's time (the set covers %.3g-%.3gx)",
                  tiers[j].c_str(), c.tier_speed[j], lo, hi);
    add(buf);
  }
  return out;
}

std::string PlacementLabel(const PlanRequest& r, const std::vector<int>& tier_of_node) {
  std::vector<int> count(r.tiers.size(), 0);
  for (int t : tier_of_node) ++count[t];
  std::string out;
  for (size_t j = 0; j < count.size(); ++j) {
    if (count[j] == 0) continue;
    if (!out.empty()) out += " | ";
    out += r.tiers[j].name;
    out += ' ';
    out += std::to_string(count[j]);
  }
  return out;
}

Result<PlanSet> MakePlanSet(const PlanRequest& request, const PlanSetOptions& o) {
  if (request.objective != Objective::kLatency) {
    return InvalidArgument(std::string("plan sets choose by latency; the objective is ") +
                           ObjectiveName(request.objective));
  }
  if (!(o.bandwidth_range > 1) || !std::isfinite(o.bandwidth_range)) {
    return InvalidArgument("the plan set's bandwidth range must be above 1 (a factor), got " +
                           std::to_string(o.bandwidth_range));
  }
  if (o.bandwidth_points < 2 || o.bandwidth_points > 64) {
    return InvalidArgument("the plan set needs 2 to 64 bandwidth points per link, got " +
                           std::to_string(o.bandwidth_points));
  }
  for (const auto* speeds : {&o.device_speeds, &o.server_speeds}) {
    if (speeds->empty()) return InvalidArgument("the plan set needs at least one tier speed");
    for (double f : *speeds) {
      if (!(f > 0) || !std::isfinite(f)) {
        return InvalidArgument("tier speed factors must be positive, got " + std::to_string(f));
      }
    }
  }
  if (!(o.tolerance >= 0)) {
    return InvalidArgument("the plan set's tolerance must be 0 or more, got " +
                           std::to_string(o.tolerance));
  }
  if (o.max_plans < 1) {
    return InvalidArgument("a plan set holds at least one plan, got a maximum of " +
                           std::to_string(o.max_plans));
  }
  for (const Link& link : request.links) {
    if (!(link.bandwidth_bps > 0)) {
      return InvalidArgument("a plan set scales each link's bandwidth: give every link one");
    }
  }
  PlanRequest base = request;
  base.slo_ms = 0;  // the fastest plan is what a latency objective wants at every point
  SEAM_ASSIGN_OR_RETURN(Plan nominal_plan, MakePlan(base));
  const PlanConditions nominal = NominalConditions(base);

  std::vector<Plan> candidates{nominal_plan};
  std::map<std::string, int> index{{PlanKey(nominal_plan), 0}};
  auto add = [&](Plan plan) {
    const std::string key = PlanKey(plan);
    if (auto it = index.find(key); it != index.end()) return it->second;
    index[key] = static_cast<int>(candidates.size());
    candidates.push_back(std::move(plan));
    return static_cast<int>(candidates.size()) - 1;
  };
  PlanSet set;
  int all_device = -1;
  {
    PlanRequest local = base;
    local.pinned_tier = 0;
    auto plan = MakePlan(local);
    if (plan.ok()) {
      all_device = add(std::move(plan).value());
    } else {
      set.note = "no all-device plan: " + plan.status().message() +
                 "; a request the tiers above cannot answer cannot be finished on the device";
    }
  }
  const std::vector<PlanConditions> grid = Grid(nominal, o);
  std::vector<double> optimum;
  for (const PlanConditions& c : grid) {
    SEAM_ASSIGN_OR_RETURN(Plan plan, MakePlan(ScaledRequest(base, c)));
    optimum.push_back(plan.latency_ms);
    add(std::move(plan));
  }
  std::vector<PlanTerms> terms;
  std::vector<std::vector<double>> predicted(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    SEAM_ASSIGN_OR_RETURN(PlanTerms t, TermsOf(base, candidates[i]));
    for (const auto& c : grid) predicted[i].push_back(PredictLatencyMs(t, c));
    terms.push_back(std::move(t));
  }
  // Greedy cover: keep adding the candidate that lowers the worst regret most.
  std::vector<int> kept{0};
  if (all_device > 0 && o.max_plans > 1) kept.push_back(all_device);
  double regret = WorstRegret(kept, predicted, optimum);
  while (regret > 1 + o.tolerance && static_cast<int>(kept.size()) < o.max_plans) {
    int pick = -1;
    double pick_regret = regret;
    for (int c = 0; c < static_cast<int>(candidates.size()); ++c) {
      if (std::find(kept.begin(), kept.end(), c) != kept.end()) continue;
      std::vector<int> trial = kept;
      trial.push_back(c);
      const double r = WorstRegret(trial, predicted, optimum);
      if (r < pick_regret - 1e-12) pick = c, pick_regret = r;
    }
    if (pick < 0) break;
    kept.push_back(pick);
    regret = pick_regret;
  }
  set.worst_regret = regret;
  set.points = static_cast<int>(grid.size());
  std::vector<int> wins(kept.size(), 0);
  for (size_t p = 0; p < grid.size(); ++p) {
    const int best = Best(kept, predicted, p);
    ++wins[std::find(kept.begin(), kept.end(), best) - kept.begin()];
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    PlanSetMember m;
    SEAM_ASSIGN_OR_RETURN(m.plan, PricePlan(base, candidates[kept[i]]));
    m.plan.passes = candidates[kept[i]].passes;
    m.terms = terms[kept[i]];
    m.all_device =
        kept[i] == all_device || std::all_of(m.plan.tier_of_node.begin(), m.plan.tier_of_node.end(),
                                             [](int t) { return t == 0; });
    m.label = PlacementLabel(base, m.plan.tier_of_node);
    // Codecs by how many tensors use them, so that plans differing only there read apart.
    std::map<std::string, int> codecs;
    for (const auto& move : m.plan.moves) {
      if (move.codec != "identity") ++codecs[move.codec];
    }
    bool first = true;
    for (const auto& [codec, count] : codecs) {
      m.label += first ? " (" : ", ";
      m.label += codec;
      m.label += " x";
      m.label += std::to_string(count);
      first = false;
    }
    if (!codecs.empty()) m.label += ")";
    m.best_share = static_cast<double>(wins[i]) / grid.size();
    set.members.push_back(std::move(m));
  }
  for (size_t k = 0; k < base.links.size(); ++k) {
    set.breakpoints.push_back(Breakpoints(set, nominal, k, o.bandwidth_range));
  }
  return set;
}

}  // namespace seam::plan
