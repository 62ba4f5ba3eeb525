#include "plan/request_builder.h"

#include <set>

#include "graph/model_loader.h"
#include "graph/shape_inference.h"
#include "plan/latency_model.h"
#include "plan/plan_graph.h"

namespace seam::plan {
namespace {

bool IsLossy(const std::string& codec) {
  return codec.starts_with("fp16") || codec.starts_with("int8");
}

Result<TierModel> TierFromProfile(const PlanGraph& graph, const TierInput& in) {
  const profile::Profile& p = in.profile;
  const std::string where = "profile '" + in.profile_path + "' (tier " + in.name + ")";
  if (!p.model_sha256.empty() && !graph.model_sha256.empty() &&
      p.model_sha256 != graph.model_sha256) {
    return InvalidArgument(where + " was measured on another model (" + p.model_path + "), not " +
                           graph.model_path);
  }
  if (p.nodes.size() != graph.nodes.size()) {
    return InvalidArgument(where + " has " + std::to_string(p.nodes.size()) +
                           " nodes; the model has " + std::to_string(graph.nodes.size()));
  }
  for (size_t v = 0; v < graph.nodes.size(); ++v) {
    if (p.nodes[v].name != graph.nodes[v].name) {
      return InvalidArgument(where + ": node " + std::to_string(v) + " is '" + p.nodes[v].name +
                             "', the model's is '" + graph.nodes[v].name + "' (another model?)");
    }
  }
  auto fitted = FitLatencyModel(p);
  if (!fitted.ok()) return fitted.status().WithContext(where);
  TierModel tier;
  tier.name = in.name;
  tier.overhead_ms = fitted->overhead_ms();
  tier.boundary_ms_per_byte = fitted->ms_per_boundary_byte();
  for (size_t v = 0; v < graph.nodes.size(); ++v) {
    const int position = static_cast<int>(v);
    tier.node_ms.push_back(fitted->PredictNodeMs(position, SegmentStart::kInside));
    tier.input_node_ms.push_back(fitted->PredictNodeMs(position, SegmentStart::kModelInput));
  }
  for (const auto& c : p.codecs) {
    tier.codecs.push_back({c.codec, c.encode_gbps, c.decode_gbps, c.ratio, IsLossy(c.codec)});
  }
  tier.power_compute_w = p.power_compute_w;
  tier.power_transmit_w = p.power_transmit_w;
  tier.power_idle_w = p.power_idle_w;
  tier.price_per_compute_second = p.price_per_compute_second;
  tier.price_per_gb_egress = p.price_per_gb_egress;
  return tier;
}

}  // namespace

Result<PlanRequest> BuildPlanRequest(const PlanGraph& graph, const RequestInputs& in) {
  if (in.tiers.empty()) return InvalidArgument("no tier: give at least one --profile TIER=FILE");
  PlanRequest r;
  r.graph = graph;
  r.objective = in.objective;
  r.slo_ms = in.slo_ms;
  r.keep_input_on_device = in.keep_input_on_device;
  std::set<std::string> names;
  for (const auto& t : in.tiers) {
    if (!names.insert(t.name).second)
      return InvalidArgument("tier '" + t.name + "' is given twice");
    SEAM_ASSIGN_OR_RETURN(TierModel tier, TierFromProfile(graph, t));
    r.tiers.push_back(std::move(tier));
  }
  std::set<std::string> used_links;
  for (size_t k = 0; k + 1 < in.tiers.size(); ++k) {
    const std::string name = in.tiers[k].name + "-" + in.tiers[k + 1].name;
    auto it = in.links.find(name);
    if (it == in.links.end()) {
      return InvalidArgument("missing link " + name + ": give --link " + name + "=BANDWIDTH,RTT");
    }
    auto link = ParseLink(it->second);
    if (!link.ok()) return link.status().WithContext("--link " + name);
    r.links.push_back(*link);
    used_links.insert(name);
  }
  for (const auto& [name, spec] : in.links) {
    if (used_links.count(name)) continue;
    const auto dash = name.find('-');
    const std::string a = name.substr(0, dash),
                      b = dash == std::string::npos ? "" : name.substr(dash + 1);
    for (const std::string& tier : {a, b}) {
      if (!names.count(tier)) {
        return InvalidArgument("--link " + name + " names tier '" + tier +
                               "', which has no --profile (tiers: " +
                               [&] {
                                 std::string all;
                                 for (const auto& t : in.tiers)
                                   all += (all.empty() ? "" : ", ") + t.name;
                                 return all;
                               }() +
                               ")");
      }
    }
    return InvalidArgument("--link " + name + " does not join consecutive tiers; links go " +
                           "between neighbours in the order the profiles are given");
  }
  for (const auto& [tier, mb] : in.memory_mb) {
    bool found = false;
    for (auto& t : r.tiers) {
      if (t.name == tier) {
        t.memory_limit_bytes = mb * 1e6;
        found = true;
      }
    }
    if (!found)
      return InvalidArgument("--memory names tier '" + tier + "', which has no --profile");
    if (!(mb > 0)) return InvalidArgument("--memory " + tier + ": the limit must be positive");
  }
  return r;
}

Result<PlanRequest> BuildPlanRequestFromFiles(const PlanningInputs& p) {
  graph::ShapeOverrides overrides;
  for (const auto& text : p.shapes)
    SEAM_RETURN_IF_ERROR(graph::ParseShapeOverride(text, overrides));
  RequestInputs in;
  SEAM_ASSIGN_OR_RETURN(in.objective, ParseObjective(p.objective));
  in.slo_ms = p.slo_ms;
  in.keep_input_on_device = p.keep_input_on_device;
  for (const auto& [tier, path] : p.profiles) {
    SEAM_ASSIGN_OR_RETURN(profile::Profile profile, profile::ReadProfile(path));
    in.tiers.push_back({tier, path, std::move(profile)});
  }
  in.links = p.links;
  in.memory_mb = p.memory_mb;
  SEAM_ASSIGN_OR_RETURN(graph::LoadedModel model, graph::LoadModel(p.model_path));
  auto graph = PlanGraphFromModel(model, overrides);
  if (!graph.ok()) return graph.status().WithContext(p.model_path);
  SEAM_ASSIGN_OR_RETURN(PlanRequest request, BuildPlanRequest(*graph, in));
  request.lossy_allowed = p.lossy_allowed;
  if (!p.pin.empty()) {
    for (size_t j = 0; j < request.tiers.size(); ++j) {
      if (request.tiers[j].name == p.pin) request.pinned_tier = static_cast<int>(j);
    }
    if (request.pinned_tier < 0) {
      return InvalidArgument("--pin " + p.pin + ": no tier of that name (give it a --profile)");
    }
  }
  return request;
}

nlohmann::json PlanningInputsToJson(const PlanningInputs& p) {
  nlohmann::json profiles = nlohmann::json::array();
  for (const auto& [tier, path] : p.profiles) profiles.push_back({{"tier", tier}, {"path", path}});
  return {{"model", p.model_path},
          {"shapes", p.shapes},
          {"profiles", profiles},
          {"links", p.links},
          {"memory_mb", p.memory_mb},
          {"objective", p.objective},
          {"slo_ms", p.slo_ms},
          {"keep_input_on_device", p.keep_input_on_device},
          {"pin", p.pin},
          {"lossy_allowed", p.lossy_allowed}};
}

PlanningInputs PlanningInputsFromJson(const nlohmann::json& j) {
  PlanningInputs p;
  p.model_path = j.at("model").get<std::string>();
  p.shapes = j.at("shapes").get<std::vector<std::string>>();
  for (const auto& t : j.at("profiles")) {
    p.profiles.emplace_back(t.at("tier").get<std::string>(), t.at("path").get<std::string>());
  }
  p.links = j.at("links").get<std::map<std::string, std::string>>();
  p.memory_mb = j.at("memory_mb").get<std::map<std::string, double>>();
  p.objective = j.at("objective").get<std::string>();
  p.slo_ms = j.at("slo_ms").get<double>();
  p.keep_input_on_device = j.at("keep_input_on_device").get<bool>();
  p.pin = j.at("pin").get<std::string>();
  p.lossy_allowed = j.at("lossy_allowed").get<std::map<std::string, std::vector<std::string>>>();
  return p;
}

}  // namespace seam::plan
