#include "tests/support/tier_plans.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "graph/test_models.h"

namespace seam::testing {

int ComputeNodeCount(const std::string& model) {
  auto loaded = graph::LoadModel(model);
  if (!loaded.ok()) return 0;
  auto view = graph::GraphView::Build(loaded->proto);
  return view.ok() ? static_cast<int>(view->order().size()) : 0;
}

std::string WritePlacementPlan(const std::string& model, const std::string& dir,
                               const std::string& name, int edge_from, int cloud_from,
                               const std::map<std::string, std::string>& codecs) {
  auto loaded = graph::LoadModel(model);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto view = graph::GraphView::Build(loaded->proto);
  EXPECT_TRUE(view.ok());
  const char* tiers[] = {"device", "edge", "cloud"};
  nlohmann::json placement = nlohmann::json::array(), transfers = nlohmann::json::array();
  for (size_t i = 0; i < view->order().size(); ++i) {
    const int p = static_cast<int>(i);
    const int tier = p < edge_from ? 0 : p < cloud_from ? 1 : 2;
    placement.push_back({{"node", view->node(view->order()[i]).name}, {"tier", tiers[tier]}});
  }
  for (const auto& [link, codec] : codecs) {
    for (const auto& t : view->tensors()) {
      if (t.is_constant) continue;
      transfers.push_back(
          {{"tensor", t.name}, {"link", link}, {"direction", "up"}, {"codec", codec}});
    }
  }
  const nlohmann::json plan = {
      {"schema", "seam.plan/v1"},
      {"model", {{"path", model}, {"sha256", loaded->sha256}}},
      {"tiers", {{{"name", "device"}}, {{"name", "edge"}}, {{"name", "cloud"}}}},
      {"placement", placement},
      {"transfers", transfers}};
  const std::string path = dir + "/" + name + ".json";
  EXPECT_TRUE(WriteFileAtomic(path, plan.dump(1)).ok());
  return path;
}

std::unique_ptr<LoopbackTiers> LoopbackTiers::Start(std::string* error,
                                                    const std::vector<std::string>& edge_args,
                                                    const std::vector<std::string>& cloud_args) {
  std::unique_ptr<LoopbackTiers> tiers(new LoopbackTiers());
  auto args = [](const std::string& repo, const std::vector<std::string>& extra) {
    std::vector<std::string> out = {"--repo", repo, "--http-port", "-1", "--log-level", "warn"};
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  };
  tiers->cloud_ = ServerProcess::Start(args(tiers->cloud_repo_.root(), cloud_args), error);
  if (!tiers->cloud_) return nullptr;
  tiers->edge_ = ServerProcess::Start(args(tiers->edge_repo_.root(), edge_args), error);
  if (!tiers->edge_) return nullptr;
  return tiers;
}

std::string LoopbackTiers::DeployFlags() {
  return " --repository edge=" + edge_repo_.root() + " --repository cloud=" + cloud_repo_.root() +
         " --address edge=" + edge_->address() + " --address cloud=" + cloud_->address() +
         " --control edge=" + edge_->address() + " --control cloud=" + cloud_->address();
}

std::string WriteThirdsPlan(const std::string& dir, const std::string& name) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const int n = ComputeNodeCount(model);
  return WritePlacementPlan(model, dir, name, n / 3, 2 * n / 3);
}

Result<std::vector<pipeline::DeployedTier>> LoopbackTiers::Deploy(const std::string& plan_path,
                                                                  bool optimize) {
  SEAM_ASSIGN_OR_RETURN(auto plan, plan::ReadExecutablePlan(plan_path));
  SEAM_ASSIGN_OR_RETURN(auto model, graph::LoadModel(plan.model_path));
  pipeline::DeployOptions options;
  options.name = "m";
  options.repositories = {{"edge", edge_repo_.root()}, {"cloud", cloud_repo_.root()}};
  options.addresses = {{"edge", edge_->address()}, {"cloud", cloud_->address()}};
  options.control = options.addresses;
  options.device_directory = scratch_.root() + "/device";
  options.optimize = optimize;
  return pipeline::Deploy(model, plan, options);
}

}  // namespace seam::testing
