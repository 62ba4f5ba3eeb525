#include "plan/plan_file.h"

#include "common/file_util.h"

namespace seam::plan {
namespace {

using nlohmann::json;

std::string CodecKey(const std::string& tensor, const std::string& link, bool up) {
  return tensor + "|" + link + (up ? "|up" : "|down");
}

}  // namespace

std::string ExecutablePlan::CodecFor(const std::string& tensor, int link, bool up) const {
  auto it = codecs.find(CodecKey(tensor, tiers[link] + "-" + tiers[link + 1], up));
  return it == codecs.end() ? "identity" : it->second;
}

Result<ExecutablePlan> ReadExecutablePlan(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ExecutablePlan plan;
  plan.path = path;
  try {
    plan.json = json::parse(text);
    const json& j = plan.json;
    if (j.value("schema", "") != "seam.plan/v1") {
      return InvalidArgument(path + ": not a plan (schema '" + j.value("schema", "") +
                             "', expected 'seam.plan/v1'; make one with `seam plan`)");
    }
    plan.model_sha256 = j.at("model").at("sha256").get<std::string>();
    plan.model_path = j.at("model").value("path", "");
    if (j.contains("constraints") && j.at("constraints").contains("slo_ms")) {
      plan.slo_ms = j.at("constraints").at("slo_ms").get<double>();
    }
    if (j.contains("device_fallback")) {
      plan.device_fallback = j.at("device_fallback").value("fits", true);
    }
    for (const auto& t : j.at("tiers")) plan.tiers.push_back(t.at("name").get<std::string>());
    if (plan.tiers.empty()) return InvalidArgument(path + ": the plan has no tier");
    std::map<std::string, int> index;
    for (size_t i = 0; i < plan.tiers.size(); ++i) index[plan.tiers[i]] = static_cast<int>(i);
    for (const auto& p : j.at("placement")) {
      const std::string tier = p.at("tier").get<std::string>();
      auto it = index.find(tier);
      if (it == index.end())
        return InvalidArgument(path + ": placement names unknown tier '" + tier + "'");
      plan.tier_of_node[p.at("node").get<std::string>()] = it->second;
    }
    for (const auto& t : j.at("transfers")) {
      plan.codecs[CodecKey(t.at("tensor").get<std::string>(), t.at("link").get<std::string>(),
                           t.at("direction").get<std::string>() == "up")] =
          t.at("codec").get<std::string>();
    }
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": malformed plan: " + e.what());
  }
  plan.id = PlanId(plan.json);
  return plan;
}

std::string PlanId(const nlohmann::json& plan) {
  const std::string identity = plan.at("model").at("sha256").get<std::string>() +
                               plan.at("placement").dump() + plan.at("transfers").dump();
  return Sha256Hex(identity).substr(0, 16);
}

bool SamePlacementAndCodecs(const nlohmann::json& a, const nlohmann::json& b) {
  auto moves = [](const nlohmann::json& plan) {
    std::vector<std::string> out;
    for (const auto& t : plan.at("transfers")) {
      out.push_back(t.at("tensor").get<std::string>() + '|' + t.at("link").get<std::string>() +
                    '|' + t.at("direction").get<std::string>() + '|' +
                    t.at("codec").get<std::string>());
    }
    return out;
  };
  return a.at("model").at("sha256") == b.at("model").at("sha256") &&
         a.at("placement") == b.at("placement") && moves(a) == moves(b);
}

Status RecordDeployment(ExecutablePlan& plan, const Deployment& deployment) {
  json tiers = json::array();
  for (const auto& d : deployment.tiers) {
    tiers.push_back({{"tier", d.tier},
                     {"directory", d.directory},
                     {"model", d.model},
                     {"version", d.version},
                     {"address", d.address}});
  }
  plan.json["deployment"] = {{"plan_id", plan.id},
                             {"name", deployment.name},
                             {"device_stage", deployment.device_stage},
                             {"tiers", tiers}};
  return WriteFileAtomic(plan.path, plan.json.dump(2) + "\n");
}

Result<std::string> DeviceStagePath(const ExecutablePlan& plan) {
  if (!plan.json.contains("deployment")) {
    return FailedPrecondition(plan.path + " is not deployed yet: run `seam deploy " + plan.path +
                              " ...` first");
  }
  try {
    const json& d = plan.json.at("deployment");
    if (d.at("plan_id").get<std::string>() != plan.id) {
      return FailedPrecondition(plan.path +
                                ": its deployment is of another plan (the placement "
                                "changed since); deploy it again");
    }
    return d.at("device_stage").get<std::string>();
  } catch (const json::exception& e) {
    return InvalidArgument(plan.path + ": malformed deployment section: " + e.what());
  }
}

nlohmann::json HandPlacedPlan(const std::string& model_path, const std::string& model_sha256,
                              const std::vector<std::string>& tiers,
                              const std::vector<std::pair<std::string, std::string>>& node_tiers,
                              const nlohmann::json& transfers) {
  nlohmann::json tier_list = nlohmann::json::array(), placement = nlohmann::json::array();
  for (const auto& t : tiers) tier_list.push_back({{"name", t}});
  for (const auto& [node, tier] : node_tiers) placement.push_back({{"node", node}, {"tier", tier}});
  return {{"schema", "seam.plan/v1"},
          {"model", {{"path", model_path}, {"sha256", model_sha256}}},
          {"tiers", tier_list},
          {"placement", placement},
          {"transfers", transfers}};
}

}  // namespace seam::plan
