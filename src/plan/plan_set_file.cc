#include "plan/plan_set_file.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/file_util.h"
#include "plan/plan_file.h"
#include "plan/plan_output.h"

namespace seam::plan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSchema = "seam.planset/v1";

std::string LinkName(const std::vector<std::string>& tiers, size_t k) {
  return tiers[k] + "-" + tiers[k + 1];
}

std::vector<std::string> TierNames(const PlanRequest& r) {
  std::vector<std::string> names;
  for (const auto& t : r.tiers) names.push_back(t.name);
  return names;
}

std::string Mbit(double bps) {
  if (std::isinf(bps)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, bps >= 10e6 ? "%.0f" : "%.2g", bps / 1e6);
  return buf;
}

}  // namespace

Result<json> WritePlanSetMembers(const std::string& set_path, const PlanRequest& request,
                                 const PlanSet& set, const PlanSetOptions& options) {
  const fs::path path(set_path);
  const std::vector<std::string> tiers = TierNames(request);
  const PlanConditions nominal = NominalConditions(request);
  json members = json::array();
  for (size_t i = 0; i < set.members.size(); ++i) {
    const PlanSetMember& m = set.members[i];
    std::string file = path.stem().string();
    file += ".m";
    file += std::to_string(i);
    file += ".json";
    const json plan = PlanToJson(request, m.plan);
    SEAM_RETURN_IF_ERROR(
        WriteFileAtomic((path.parent_path() / file).string(), plan.dump(2) + "\n"));
    members.push_back({{"plan", file},
                       {"id", PlanId(plan)},
                       {"label", m.label},
                       {"all_device", m.all_device},
                       {"best_share", m.best_share},
                       {"predicted_ms", m.plan.latency_ms},
                       {"terms",
                        {{"cpu_ms", m.terms.cpu_ms},
                         {"wire_bytes", m.terms.wire_bytes},
                         {"link_used", m.terms.link_used}}}});
  }
  json links = json::array(), breakpoints = json::array();
  for (size_t k = 0; k + 1 < tiers.size(); ++k) {
    links.push_back({{"name", LinkName(tiers, k)},
                     {"bandwidth_bps", nominal.bandwidth_bps[k]},
                     {"rtt_ms", nominal.rtt_ms[k]}});
    json ranges = json::array();
    for (const auto& r : set.breakpoints[k]) {
      ranges.push_back({{"from_bps", r.from_bps},
                        {"to_bps", std::isinf(r.to_bps) ? json(nullptr) : json(r.to_bps)},
                        {"member", r.member}});
    }
    breakpoints.push_back({{"link", LinkName(tiers, k)}, {"ranges", ranges}});
  }
  return json{
      {"schema", kSchema},
      {"model", {{"path", request.graph.model_path}, {"sha256", request.graph.model_sha256}}},
      {"tiers", tiers},
      {"links", links},
      {"tier_speeds", nominal.tier_speed},
      {"range",
       {{"bandwidth_range", options.bandwidth_range},
        {"bandwidth_points", options.bandwidth_points},
        {"device_speeds", options.device_speeds},
        {"server_speeds", options.server_speeds},
        {"tolerance", options.tolerance},
        {"max_plans", options.max_plans}}},
      {"points", set.points},
      {"worst_regret", set.worst_regret},
      {"note", set.note},
      {"members", members},
      {"breakpoints", breakpoints}};
}

std::string PlanSetToTable(const PlanRequest& request, const PlanSet& set) {
  const std::vector<std::string> tiers = TierNames(request);
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line,
                "plan set for %s: %zu plans; over %d sampled link and tier states the best of "
                "them is within %.1f%% of the optimum\n\n",
                request.graph.model_path.c_str(), set.members.size(), set.points,
                100 * (set.worst_regret - 1));
  out += line;
  std::snprintf(line, sizeof line, "%-4s %-48s %12s %10s\n", "plan", "placement", "now ms",
                "best at");
  out += line;
  for (size_t i = 0; i < set.members.size(); ++i) {
    const auto& m = set.members[i];
    std::snprintf(line, sizeof line, "m%-3zu %-48s %12.3f %9.0f%%\n", i, m.label.c_str(),
                  m.plan.latency_ms, 100 * m.best_share);
    out += line;
  }
  for (size_t k = 0; k < set.breakpoints.size(); ++k) {
    std::string text = "\n";
    text += LinkName(tiers, k);
    text += " (other conditions as profiled), Mbit/s:";
    for (const auto& r : set.breakpoints[k]) {
      text += "  ";
      text += r.from_bps > 0 ? Mbit(r.from_bps) : "0";
      text += "-";
      text += Mbit(r.to_bps);
      text += " m";
      text += std::to_string(r.member);
    }
    out += text;
  }
  out += "\n";
  if (!set.note.empty()) out += "note: " + set.note + "\n";
  return out;
}

Result<ExecutablePlanSet> ReadPlanSet(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ExecutablePlanSet set;
  set.path = path;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": not JSON: " + e.what());
  }
  if (j.is_object() && j.value("schema", "") == "seam.plan/v1") {
    SEAM_ASSIGN_OR_RETURN(ExecutablePlan plan, ReadExecutablePlan(path));
    set.model_sha256 = plan.model_sha256;
    set.model_path = plan.model_path;
    set.tiers = plan.tiers;
    set.members.push_back({path, plan.id, "as planned", false, {}});
    return set;
  }
  if (!j.is_object() || j.value("schema", "") != kSchema) {
    return InvalidArgument(path + ": neither a plan nor a plan set (schema '" +
                           (j.is_object() ? j.value("schema", "") : std::string()) +
                           "'; make one with `seam plan`, or `seam plan --set`)");
  }
  set.is_set = true;
  try {
    set.model_sha256 = j.at("model").at("sha256").get<std::string>();
    set.model_path = j.at("model").value("path", "");
    set.tiers = j.at("tiers").get<std::vector<std::string>>();
    set.nominal.tier_speed = j.at("tier_speeds").get<std::vector<double>>();
    for (const auto& link : j.at("links")) {
      set.nominal.bandwidth_bps.push_back(link.at("bandwidth_bps").get<double>());
      set.nominal.rtt_ms.push_back(link.at("rtt_ms").get<double>());
    }
    if (j.contains("range")) {
      const json& r = j.at("range");
      set.range.bandwidth_range = r.value("bandwidth_range", set.range.bandwidth_range);
      set.range.device_speeds = r.value("device_speeds", set.range.device_speeds);
      set.range.server_speeds = r.value("server_speeds", set.range.server_speeds);
    }
    if (j.contains("planning")) set.planning = PlanningInputsFromJson(j.at("planning"));
    const fs::path dir = fs::path(path).parent_path();
    for (const auto& m : j.at("members")) {
      PlanSetEntry e;
      e.plan_path = (dir / m.at("plan").get<std::string>()).string();
      e.id = m.at("id").get<std::string>();
      e.label = m.value("label", "");
      e.all_device = m.value("all_device", false);
      const json& t = m.at("terms");
      e.terms.cpu_ms = t.at("cpu_ms").get<std::vector<double>>();
      e.terms.wire_bytes = t.at("wire_bytes").get<std::vector<double>>();
      e.terms.link_used = t.at("link_used").get<std::vector<bool>>();
      set.members.push_back(std::move(e));
    }
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": malformed plan set: " + e.what());
  }
  const size_t links = set.tiers.size() < 2 ? 0 : set.tiers.size() - 1;
  if (set.members.empty()) return InvalidArgument(path + ": the plan set has no plan");
  if (set.nominal.tier_speed.size() != set.tiers.size() ||
      set.nominal.bandwidth_bps.size() != links) {
    return InvalidArgument(path + ": the plan set's tiers and links do not match");
  }
  for (const auto& m : set.members) {
    if (m.terms.cpu_ms.size() != set.tiers.size() || m.terms.wire_bytes.size() != links ||
        m.terms.link_used.size() != links) {
      return InvalidArgument(path + ": the terms of " + m.plan_path +
                             " do not match the set's tiers and links");
    }
    SEAM_ASSIGN_OR_RETURN(ExecutablePlan plan, ReadExecutablePlan(m.plan_path));
    if (plan.model_sha256 != set.model_sha256) {
      return InvalidArgument(m.plan_path + " is a plan for another model than its set " + path +
                             " (model sha256 " + plan.model_sha256.substr(0, 12) +
                             "..., the set's " + set.model_sha256.substr(0, 12) + "...)");
    }
    if (plan.tiers != set.tiers) {
      return InvalidArgument(m.plan_path + " has other tiers than its set " + path);
    }
    if (plan.id != m.id) {
      return InvalidArgument(m.plan_path + " changed since " + path + " was written (plan id " +
                             plan.id + ", the set recorded " + m.id +
                             "); make the set again with `seam plan --set`");
    }
  }
  return set;
}

}  // namespace seam::plan
