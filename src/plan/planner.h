// The planner: which tier runs each node and which codec each tensor uses on each link, so that a
// request costs least under the user's objective and constraints.
//
// MakePlan is a pipeline of passes, each timed and individually testable:
//   validate        the request is consistent (sizes, names, links, limits)
//   candidate costs every (node, tier), (tensor, link, codec) and fixed term priced in the
//                   objective and in milliseconds (for the SLO)
//   solve           exact min-cut placement (placement.h); SLO and memory limits by Lagrangian
//                   multipliers, with the gap to the dual bound reported when they bind
//   codec choice    the cheapest allowed codec of every tensor on every link it crosses
//   verify          the plan is monotone, respects the constraints, and its cost recomputed from
//                   scratch equals the solver's
//
// Cost model of one request (all additive, so the min-cut is exact for it):
//   compute   node time on its tier (the tier's latency model), plus the tier's per-run overhead:
//             the device's when it runs anything, another tier's whenever the request reaches it
//             (it runs its segment or passes the request on);
//             A node costs its input_node_ms on the lowest tier that runs anything (whose segment
//             starts at the model input), its node_ms elsewhere;
//   links     per link used: its round trip and a request and a response message overhead; per
//             tensor crossing it: encode on the sender + bytes*ratio over the bandwidth + decode;
//   edges     each segment's inputs and outputs cost bytes * its tier's boundary_ms_per_byte: a
//             tensor crossing link k costs that on the sender (unless it is a model input, which
//             no segment gives out, or a model output, priced where it is made) and on the
//             receiver; a model output, on the tier that makes it; the model's input, on the
//             device when it runs anything. Exact for tensors that cross one link; a tensor that
//             only passes through a tier is charged there too (twice), an over-estimate;
//   results   model outputs return down the chain to the device with the best lossless codec.
// Objectives: latency (ms); device energy (mJ: device compute, encode and decode at the compute
// power, its transfers at the transmit power, and idle power while it waits for the others);
// money (compute seconds times each tier's price, plus egress GB times the sending tier's price).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "plan/link.h"
#include "plan/plan_graph.h"

namespace seam::plan {

enum class Objective { kLatency, kDeviceEnergy, kCost };
const char* ObjectiveName(Objective objective);
Result<Objective> ParseObjective(const std::string& text);

struct CodecModel {
  std::string codec;       // "fp16", "identity+zstd"...
  double encode_gbps = 0;  // GB of input per second on this tier
  double decode_gbps = 0;
  double ratio = 1;  // encoded / original bytes
  bool lossy = false;
};

struct TierModel {
  std::string name;
  double overhead_ms = 0;  // per run of a segment
  // Predicted time of each node by position, ms, in a segment that starts at a cut.
  std::vector<double> node_ms;
  // The same in a segment that starts at the model input (the tier's segment when no tier below
  // runs anything; always the device's), which ONNX Runtime may optimise better (latency_model.h);
  // empty: as node_ms. The planner uses min(input_node_ms, node_ms) per node.
  std::vector<double> input_node_ms;
  // Cost of each byte a segment on this tier takes in or gives out, ms per byte (layout
  // conversions at its edges and copying outputs out: the latency model's c).
  double boundary_ms_per_byte = 0;
  std::vector<CodecModel> codecs;  // what this tier can encode/decode (identity is implied)
  double memory_limit_bytes = 0;   // parameters this tier may hold; 0 = unlimited
  double power_compute_w = 0;      // used for the device (tier 0)
  double power_transmit_w = 0;
  double power_idle_w = 0;
  double price_per_compute_second = 0;
  double price_per_gb_egress = 0;
};

struct PlanRequest {
  PlanGraph graph;
  std::vector<TierModel> tiers;  // chain order: the device first
  std::vector<Link> links;       // links[k] joins tiers k and k+1
  Objective objective = Objective::kLatency;
  double slo_ms = 0;  // 0: no latency bound
  bool keep_input_on_device = false;
  // >= 0: every node on this tier (a single-tier baseline costed by the same model).
  int pinned_tier = -1;
  // Lossy codecs a tensor may use (by tensor name), as an accuracy calibration allowed them.
  std::map<std::string, std::vector<std::string>> lossy_allowed;
};

// One tensor over one link in one direction.
struct TensorMove {
  int tensor = 0;  // index in PlanGraph::tensors
  int link = 0;
  bool to_device = false;  // a result returning down the chain
  std::string codec;
  double bytes = 0;
  double wire_bytes = 0;
  double encode_ms = 0;
  double transfer_ms = 0;
  double decode_ms = 0;
  double boundary_ms = 0;  // the tensor at the sender's and the receiver's segment edges
};

struct PassTiming {
  std::string name;
  double ms = 0;
};

struct Plan {
  std::vector<int> tier_of_node;
  std::vector<TensorMove> moves;  // up the chain, then results down
  // Predictions for one request.
  double latency_ms = 0;
  double device_energy_mj = 0;
  double money = 0;
  std::vector<double> compute_ms;   // per tier, overhead included
  std::vector<double> link_ms;      // per link: round trip, messages, transfers, codecs
  std::vector<double> param_bytes;  // per tier
  double objective_value = 0;
  // Optimality: exact unless an SLO or memory limit bound; then a dual lower bound.
  bool exact = true;
  double lower_bound = 0;
  std::string note;
  std::vector<PassTiming> passes;
};

Result<Plan> MakePlan(const PlanRequest& request);

// Prices a given placement and its codecs (`plan.tier_of_node`, the codecs of `plan.moves`) under
// `request` with the planner's own cost model: the predictions of a Plan (latency, energy, money,
// per-tier and per-link terms). A tensor whose codec `plan` does not name, or names but `request`
// does not offer, moves as identity. INVALID_ARGUMENT when the placement does not fit the
// request (sizes, tiers, data flowing down the chain).
Result<Plan> PricePlan(const PlanRequest& request, const Plan& plan);

}  // namespace seam::plan
