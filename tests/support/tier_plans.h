// Test support for executing plans: plan files with a chosen placement (as `seam plan` writes
// them), and three tiers on loopback (edge and cloud `seam serve` children) to deploy them on.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/deployment.h"
#include "tests/server_process.h"

namespace seam::testing {

// A plan for `model` over device, edge and cloud: the compute nodes at positions [0, edge_from)
// of the topological order on the device, [edge_from, cloud_from) on the edge, the rest in the
// cloud. `codecs` maps a link ("device-edge", "edge-cloud") to the codec of everything crossing
// it upwards. Returns the plan file's path (in `dir`).
std::string WritePlacementPlan(const std::string& model, const std::string& dir,
                               const std::string& name, int edge_from, int cloud_from,
                               const std::map<std::string, std::string>& codecs = {});

// Compute nodes of `model`.
int ComputeNodeCount(const std::string& model);

// A plan for dag_blocks.onnx with its compute nodes in thirds over device, edge and cloud, written
// as NAME.json in `dir`.
std::string WriteThirdsPlan(const std::string& dir, const std::string& name);

// Edge and cloud servers on 127.0.0.1 with their own repositories.
class LoopbackTiers {
 public:
  // nullptr (and *error) if a server did not start. `edge_args` and `cloud_args` are added to
  // each server's command line (TLS, tokens).
  static std::unique_ptr<LoopbackTiers> Start(std::string* error,
                                              const std::vector<std::string>& edge_args = {},
                                              const std::vector<std::string>& cloud_args = {});
  TestRepository& edge_repository() { return edge_repo_; }
  TestRepository& cloud_repository() { return cloud_repo_; }
  ServerProcess& edge() { return *edge_; }
  ServerProcess& cloud() { return *cloud_; }
  const std::string& scratch() const { return scratch_.root(); }
  // The flags of `seam deploy` that put a plan on these tiers: each tier's --repository,
  // --address and --control (a leading space, to append after the plan).
  std::string DeployFlags();

  // Deploys `plan_path` onto these tiers (waiting until each serves its stage); the device's
  // stage goes under scratch().
  Result<std::vector<pipeline::DeployedTier>> Deploy(const std::string& plan_path,
                                                     bool optimize = false);

 private:
  TestRepository edge_repo_, cloud_repo_, scratch_;
  std::unique_ptr<ServerProcess> edge_, cloud_;
};

}  // namespace seam::testing
