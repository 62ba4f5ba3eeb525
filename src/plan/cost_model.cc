#include "plan/cost_model.h"

#include <algorithm>
#include <limits>

namespace seam::plan {
namespace {

// Prices a span of time spent on a tier (computing, encoding or decoding).
Terms OnTier(const PlanRequest& r, int tier, double ms) {
  const TierModel& device = r.tiers[0];
  switch (r.objective) {
    case Objective::kLatency:
      return {ms, ms};
    case Objective::kDeviceEnergy:
      return {(tier == 0 ? device.power_compute_w : device.power_idle_w) * ms, ms};
    case Objective::kCost:
      return {r.tiers[tier].price_per_compute_second * ms / 1e3, ms};
  }
  return {ms, ms};
}

// Prices bytes on the wire over link k, sent by `sender`.
Terms OnWire(const PlanRequest& r, int link, int sender, double ms, double wire_bytes) {
  const TierModel& device = r.tiers[0];
  switch (r.objective) {
    case Objective::kLatency:
      return {ms, ms};
    case Objective::kDeviceEnergy:
      return {(link == 0 ? device.power_transmit_w : device.power_idle_w) * ms, ms};
    case Objective::kCost:
      return {r.tiers[sender].price_per_gb_egress * wire_bytes / 1e9, ms};
  }
  return {ms, ms};
}

// Time the device waits for the network (round trips).
Terms Waiting(const PlanRequest& r, double ms) {
  switch (r.objective) {
    case Objective::kLatency:
      return {ms, ms};
    case Objective::kDeviceEnergy:
      return {r.tiers[0].power_idle_w * ms, ms};
    case Objective::kCost:
      return {0, ms};
  }
  return {ms, ms};
}

const CodecModel* FindCodec(const TierModel& tier, const std::string& codec) {
  for (const auto& c : tier.codecs) {
    if (c.codec == codec) return &c;
  }
  return nullptr;
}

// All codecs both ends of a link know, with identity always available.
std::vector<MoveOption> MoveOptions(const PlanRequest& r, int t, int link, bool down) {
  const PlanTensor& tensor = r.graph.tensors[t];
  const int sender = down ? link + 1 : link;
  const int receiver = down ? link : link + 1;
  std::vector<std::string> lossy;
  if (auto it = r.lossy_allowed.find(tensor.name); it != r.lossy_allowed.end() && !down) {
    lossy = it->second;
  }
  // The tensor at the edges of the segments it leaves and enters (see planner.h): a result going
  // down to the device passes through no segment; a model input is given out by none, and a
  // model output's sender edge is priced with the node that makes it.
  const double bytes = static_cast<double>(tensor.bytes);
  const double send_edge_ms = down || tensor.producer < 0 || tensor.is_model_output
                                  ? 0
                                  : bytes * r.tiers[sender].boundary_ms_per_byte;
  const double receive_edge_ms = down ? 0 : bytes * r.tiers[receiver].boundary_ms_per_byte;
  std::vector<MoveOption> options;
  auto add = [&](const std::string& codec, double enc_gbps, double dec_gbps, double ratio) {
    MoveOption o;
    o.move.tensor = t;
    o.move.link = link;
    o.move.to_device = down;
    o.move.codec = codec;
    o.move.bytes = static_cast<double>(tensor.bytes);
    o.move.wire_bytes = o.move.bytes * ratio;
    o.move.encode_ms = enc_gbps > 0 ? o.move.bytes / (enc_gbps * 1e9) * 1e3 : 0;
    o.move.decode_ms = dec_gbps > 0 ? o.move.bytes / (dec_gbps * 1e9) * 1e3 : 0;
    o.move.transfer_ms = r.links[link].TransferMs(o.move.wire_bytes);
    o.move.boundary_ms = send_edge_ms + receive_edge_ms;
    o.terms = OnTier(r, sender, o.move.encode_ms + send_edge_ms);
    o.terms += OnWire(r, link, sender, o.move.transfer_ms, o.move.wire_bytes);
    o.terms += OnTier(r, receiver, o.move.decode_ms + receive_edge_ms);
    options.push_back(o);
  };
  add("identity", 0, 0, 1);
  for (const auto& enc : r.tiers[sender].codecs) {
    const CodecModel* dec = FindCodec(r.tiers[receiver], enc.codec);
    if (!dec || enc.codec == "identity") continue;
    if (enc.lossy) {
      if (!tensor.is_float32) continue;
      if (std::find(lossy.begin(), lossy.end(), enc.codec) == lossy.end()) continue;
    }
    add(enc.codec, enc.encode_gbps, dec->decode_gbps, enc.ratio);
  }
  return options;
}

}  // namespace

CandidateCosts BuildCandidateCosts(const PlanRequest& r) {
  const int tiers = static_cast<int>(r.tiers.size());
  const int nodes = static_cast<int>(r.graph.nodes.size());
  // Model outputs cost their bytes at the edge of the segment that makes them; the model's inputs
  // at the device's, when it runs anything.
  std::vector<double> output_bytes(nodes, 0.0);
  double input_bytes = 0;
  for (const PlanTensor& t : r.graph.tensors) {
    if (t.is_model_output && t.producer >= 0) output_bytes[t.producer] += t.bytes;
    if (t.producer < 0 && !t.consumers.empty()) input_bytes += t.bytes;
  }
  CandidateCosts c;
  c.compute.assign(nodes, std::vector<Terms>(tiers));
  c.compute_from_input.assign(nodes, std::vector<Terms>(tiers));
  for (int v = 0; v < nodes; ++v) {
    for (int j = 0; j < tiers; ++j) {
      const TierModel& tier = r.tiers[j];
      const double edge_ms = output_bytes[v] * tier.boundary_ms_per_byte;
      const double inside = tier.node_ms[v];
      const double from_input =
          tier.input_node_ms.empty() ? inside : std::min(inside, tier.input_node_ms[v]);
      c.compute[v][j] = OnTier(r, j, inside + edge_ms);
      c.compute_from_input[v][j] = OnTier(r, j, from_input + edge_ms);
    }
  }
  c.up.resize(r.graph.tensors.size());
  c.down.resize(r.graph.tensors.size());
  for (int t = 0; t < static_cast<int>(r.graph.tensors.size()); ++t) {
    const PlanTensor& tensor = r.graph.tensors[t];
    for (int k = 0; k + 1 < tiers; ++k) {
      const bool raw_input_pinned = tensor.producer < 0 && r.keep_input_on_device;
      c.up[t].push_back(raw_input_pinned ? std::vector<MoveOption>{} : MoveOptions(r, t, k, false));
      c.down[t].push_back(tensor.is_model_output ? MoveOptions(r, t, k, true)
                                                 : std::vector<MoveOption>{});
    }
  }
  for (int k = 0; k + 1 < tiers; ++k) {
    // One request message up and one response down per link used.
    Terms fixed = Waiting(r, r.links[k].rtt_ms);
    fixed += OnWire(r, k, k, 2 * r.links[k].overhead_ms, 0);
    c.fixed_link.push_back(fixed);
  }
  for (int j = 0; j < tiers; ++j) {
    const double edge_ms = j == 0 ? input_bytes * r.tiers[0].boundary_ms_per_byte : 0;
    c.fixed_tier.push_back(OnTier(r, j, r.tiers[j].overhead_ms + edge_ms));
  }
  return c;
}

bool StartMatters(const CandidateCosts& c) {
  for (size_t v = 0; v < c.compute.size(); ++v) {
    for (size_t j = 1; j < c.compute[v].size(); ++j) {
      if (c.compute_from_input[v][j].objective < c.compute[v][j].objective ||
          c.compute_from_input[v][j].ms < c.compute[v][j].ms) {
        return true;
      }
    }
  }
  return false;
}

const MoveOption* BestOption(const std::vector<MoveOption>& options, const Multipliers& m) {
  const MoveOption* best = nullptr;
  double best_cost = std::numeric_limits<double>::infinity();
  for (const auto& o : options) {
    const double cost = o.terms.objective + m.lambda * o.terms.ms;
    if (cost < best_cost) {
      best_cost = cost;
      best = &o;
    }
  }
  return best;
}

PlacementProblem BuildProblem(const PlanRequest& r, const CandidateCosts& c, const Multipliers& m,
                              int lowest) {
  const int tiers = static_cast<int>(r.tiers.size());
  const int nodes = static_cast<int>(r.graph.nodes.size());
  auto price = [&m](const Terms& t) { return t.objective + m.lambda * t.ms; };
  PlacementProblem p;
  p.num_tiers = tiers;
  p.node_cost.assign(nodes, std::vector<double>(tiers, 0));
  for (int v = 0; v < nodes; ++v) {
    for (int j = 0; j < tiers; ++j) {
      if (j < lowest || (r.pinned_tier >= 0 && j != r.pinned_tier)) {
        p.node_cost[v][j] = kForbidden;
        continue;
      }
      p.node_cost[v][j] = price(j == lowest ? c.compute_from_input[v][j] : c.compute[v][j]);
      if (!m.mu.empty()) p.node_cost[v][j] += m.mu[j] * r.graph.nodes[v].param_bytes;
    }
  }
  for (int t = 0; t < static_cast<int>(r.graph.tensors.size()); ++t) {
    const PlanTensor& tensor = r.graph.tensors[t];
    PlacementProblem::Tensor pt;
    pt.producer = tensor.producer;
    pt.consumers = tensor.consumers;
    for (int k = 0; k + 1 < tiers; ++k) {
      const MoveOption* best = BestOption(c.up[t][k], m);
      pt.link_cost.push_back(best ? price(best->terms) : kForbidden);
    }
    // A model output made on tier j returns over links j-1..0: a cost of its producer's tier.
    if (tensor.is_model_output && tensor.producer >= 0) {
      double down = 0;
      for (int j = 1; j < tiers; ++j) {
        const MoveOption* best = BestOption(c.down[t][j - 1], m);
        down += best ? price(best->terms) : kForbidden;
        if (j >= lowest) p.node_cost[tensor.producer][j] += down;
      }
    }
    p.tensors.push_back(std::move(pt));
  }
  // A tier above the device pays its per-request overhead whenever data reaches it (it runs its
  // segment or passes the request on); the device pays only when it runs something.
  for (size_t k = 0; k < c.fixed_link.size(); ++k) {
    p.fixed_link_cost.push_back(price(c.fixed_link[k]) + price(c.fixed_tier[k + 1]));
  }
  p.first_tier_cost = price(c.fixed_tier[0]);
  return p;
}

}  // namespace seam::plan
