// Plan sets: the few placements that are (near) optimal over a range of link states and tier
// speeds, each with the cost terms that re-predict its latency under new estimates in
// microseconds, so that the device can choose per request among plans already deployed.
//
// Conditions scale the planner's request: a tier's speed factor f multiplies every millisecond of
// work on that tier's CPU (node times, per-run overhead, segment edges, codecs: "2" = twice as
// slow as its profile); a link's bandwidth and RTT replace the profiled ones. The latency of a
// fixed placement (and codecs) is linear in those:
//   latency = sum_j f_j * cpu_ms[j]  +  sum_{links k used} (rtt_k + 2*overhead_k +
//   wire_bytes_k*8/bw_k)
// PlanTerms holds cpu_ms, wire_bytes and which links are used; PredictLatencyMs evaluates it and
// equals the planner's own pricing of the placement under the scaled request (tested).
//
// MakePlanSet samples the conditions on a grid (each link's bandwidth from nominal/range to
// nominal*range, each tier's speed over `speeds`), solves the exact planner at every point, and
// keeps a small subset of the distinct plans found, chosen greedily so that over every sampled
// point the best kept plan is within `tolerance` of that point's optimum (the set's worst
// regret), plus the all-device plan (the device then needs nothing above it). Objective: latency.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "plan/planner.h"

namespace seam::plan {

struct PlanTerms {
  std::vector<double> cpu_ms;      // per tier, at speed factor 1
  std::vector<double> wire_bytes;  // per link, both directions
  std::vector<bool> link_used;     // per link: the request crosses it
};

// The state of the tiers and links a prediction is made for.
struct PlanConditions {
  std::vector<double> tier_speed;  // per tier; measured / profiled time, 1 = as profiled
  std::vector<double> bandwidth_bps;
  std::vector<double> rtt_ms;  // per link, including the per-message overheads (2 * overhead)
  // Per tier, the time a request waits in its server behind others (empty: none). Paid by a plan
  // whose requests reach the tier, whatever it computes there.
  std::vector<double> queue_ms;
};

// The request's own conditions (speed 1, its links' bandwidths; rtt + 2 * overhead).
PlanConditions NominalConditions(const PlanRequest& request);
// The request with `conditions` applied (tier speeds scale its CPU work; links replaced, their
// per-message overhead folded into the RTT).
PlanRequest ScaledRequest(const PlanRequest& request, const PlanConditions& conditions);

// The terms of `plan` under `request` (its cost is linear in the conditions; see above).
Result<PlanTerms> TermsOf(const PlanRequest& request, const Plan& plan);
double PredictLatencyMs(const PlanTerms& terms, const PlanConditions& conditions);

struct PlanSetOptions {
  double bandwidth_range = 16;  // each link from nominal/range to nominal*range
  int bandwidth_points = 9;     // per link, geometric
  std::vector<double> device_speeds = {1, 2, 4, 8};
  std::vector<double> server_speeds = {1, 3};  // every tier above the device, independently
  double tolerance = 0.05;                     // worst regret the set aims for
  int max_plans = 6;                           // the all-device plan included
};

struct PlanSetMember {
  Plan plan;  // priced at the request's own conditions
  PlanTerms terms;
  std::string label;        // "device 12 | edge 88 nodes"
  double best_share = 0;    // of the sampled points where it is the set's best
  bool all_device = false;  // every node on the device
};

// A link's bandwidth range in which one member is the set's best (the other conditions nominal).
struct BandwidthRange {
  double from_bps = 0, to_bps = 0;
  int member = 0;
};

struct PlanSet {
  std::vector<PlanSetMember> members;  // members[0]: the optimum at the request's conditions
  double worst_regret = 1;             // max over sampled points of best kept / optimum
  int points = 0;                      // sampled conditions
  std::vector<std::vector<BandwidthRange>> breakpoints;  // per link
  std::string note;                                      // e.g. why the all-device plan is missing
};

// Where `conditions` leave what a set made with `options` around `nominal` covers (a link's
// bandwidth beyond its range, a tier's speed beyond the sampled ones by more than half again):
// one line naming each, for instance "device-edge at 0.3 Mbit/s (the set covers 1.2-320)";
// empty when covered. `tiers` names them.
std::string OutsideRange(const std::vector<std::string>& tiers, const PlanConditions& nominal,
                         const PlanSetOptions& options, const PlanConditions& conditions);

// INVALID_ARGUMENT for settings out of range or an objective other than latency.
Result<PlanSet> MakePlanSet(const PlanRequest& request, const PlanSetOptions& options);

// "device 12 | edge 88": nodes per tier that runs any.
std::string PlacementLabel(const PlanRequest& request, const std::vector<int>& tier_of_node);

}  // namespace seam::plan
