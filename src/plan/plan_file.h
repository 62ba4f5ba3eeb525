// The plan file (schema "seam.plan/v1") as the later layers read it, and its "deployment"
// section: the one module, with plan_output.h (which writes the plan), that reads or writes the
// file. `seam deploy`, `seam run`, the client library and the benchmarks all come through here.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::plan {

// A plan file read for execution.
struct ExecutablePlan {
  std::string path;
  std::string id;  // 16 hex digits: a hash of the model, the placement and the codecs
  std::string model_sha256;
  std::string model_path;  // as `seam plan` recorded it
  double slo_ms = 0;       // the latency bound it was planned for; 0: none
  // The device can hold the whole model (plan_output.h, DeviceFallbackOf): deploy a fallback.
  bool device_fallback = true;
  std::vector<std::string> tiers;             // chain order, the device first
  std::map<std::string, int> tier_of_node;    // node name -> index in tiers
  std::map<std::string, std::string> codecs;  // CodecKey(...) -> codec
  nlohmann::json json;                        // the whole file

  // The codec of `tensor` on the link from tiers[link] to tiers[link + 1], up or down;
  // "identity" when the plan names none.
  std::string CodecFor(const std::string& tensor, int link, bool up) const;
};

// A plan for a placement chosen by hand (tests, benchmarks, an oracle's candidates): each compute
// node, by name, on one of `tiers` (chain order, the device first), and `transfers` as the plan
// file records them (tensor, link, direction, codec); no predictions. seam deploy and the client
// read it like any plan.
nlohmann::json HandPlacedPlan(const std::string& model_path, const std::string& model_sha256,
                              const std::vector<std::string>& tiers,
                              const std::vector<std::pair<std::string, std::string>>& node_tiers,
                              const nlohmann::json& transfers = nlohmann::json::array());

// INVALID_ARGUMENT naming the file for anything that is not a seam.plan/v1 plan.
Result<ExecutablePlan> ReadExecutablePlan(const std::string& path);

// A plan's id (ExecutablePlan::id) from its JSON: the model, the placement and the codecs.
// Throws nlohmann::json::exception on a malformed plan.
std::string PlanId(const nlohmann::json& plan);
// Whether two plan files place every node on the same tier and move every tensor with the same
// codec (their predictions, links and model path may differ). Throws like PlanId.
bool SamePlacementAndCodecs(const nlohmann::json& a, const nlohmann::json& b);

// Where a plan was deployed (seam deploy), as recorded in its file.
struct DeployedStage {
  std::string tier;
  std::string directory;  // where its stage.json and segment are
  std::string model;      // on a server tier: the model name and version it is served as
  int64_t version = 0;
  std::string address;  // on a server tier: HOST:PORT the tier below reaches it at
};
struct Deployment {
  std::string name;
  std::string device_stage;  // the device's stage.json
  std::vector<DeployedStage> tiers;
};

// Records `deployment` in the plan file (its "deployment" section, replaced), atomically.
Status RecordDeployment(ExecutablePlan& plan, const Deployment& deployment);

// The device stage's stage.json as recorded by RecordDeployment. FAILED_PRECONDITION when the plan
// was not deployed, or its deployment is of an earlier placement.
Result<std::string> DeviceStagePath(const ExecutablePlan& plan);

}  // namespace seam::plan
