// Deployment: a plan (seam.plan/v1) turned into one stage per tier and written where each tier
// loads it. `seam deploy` is a thin shell over Deploy().
//
//   plan placement --PartitionFromAssignment--> segments (graph/segment_builder.h)
//                  --tensors' tiers and the plan's codecs--> StageSpec per tier
//   server tiers:  REPO/NAME-TIER/VERSION/{stage.json, model.onnx} + REPO/NAME-TIER/config.json
//                  (platform seam_stage, the three newest versions served, sha256 of stage.json)
//   the device:    DEVICE_DIR/PLAN_ID/{stage.json, model.onnx, fallback.onnx}; the plan file
//                  gains a "deployment" section that `seam run` reads. fallback.onnx holds every
//                  node placed above the device, so that the device can finish a request itself
//                  when the tiers above cannot answer in time (none when the plan says the
//                  device cannot hold the whole model: its device_fallback section).
//
// Stages are written from the top tier down, each new version beside the previous one, so a
// redeploy never pulls a stage from under a request in flight: requests name the version they
// were planned for, and the previous version stays loaded until the next deployment.
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/model_seal.h"
#include "common/status.h"
#include "graph/model_loader.h"
#include "pipeline/stage_signature.h"
#include "pipeline/stage_spec.h"
#include "plan/plan_file.h"

namespace seam::pipeline {

// One tier's part: its stage (next hop's address, model and version not yet filled in) and its
// segment, if it runs one.
struct TierStage {
  StageSpec spec;
  std::optional<onnx::ModelProto> segment;
  // The device's only: every node above it, for its fallback (stage_spec.h, FallbackSegment).
  std::optional<onnx::ModelProto> fallback;
};

// The stages of every tier from the device up to the highest one that runs a node (tiers above
// it take no part). `optimize` false disables ORT's graph optimisations on every tier, making
// results bitwise equal to the whole model's run without them. Errors: a plan for another model
// (sha256), a node the plan does not place or a placement the model does not have, data flowing
// down the chain.
Result<std::vector<TierStage>> PlanStages(const graph::LoadedModel& model,
                                          const plan::ExecutablePlan& plan, bool optimize);

struct DeployOptions {
  std::string name;                                 // stage models are NAME-TIER
  std::map<std::string, std::string> repositories;  // server tier -> its model repository
  std::map<std::string, std::string> addresses;     // server tier -> HOST:PORT, as seen below it
  // Server tier -> HOST:PORT at which this process can reach it: Deploy then waits until the
  // tier serves its new stage before writing the tier below (so no request meets a missing hop).
  std::map<std::string, std::string> control;
  // Server tier -> how the tier below dials it: TLS and the bearer token (oip/hop_security.h),
  // as sources on the dialling tier's machine, written into the stage of the tier below.
  std::map<std::string, oip::HopSecurity> security;
  // Server tier -> the credentials of this process's own control calls to it (`control`);
  // a tier not named here is dialled with `security`'s entry.
  std::map<std::string, oip::HopSecurity> control_security;
  std::string device_directory;  // the device stage goes to DEVICE_DIR/PLAN_ID/
  // Signs every stage written (stage.json.sig beside it; pipeline/stage_signature.h); null: none.
  std::shared_ptr<const StageSigner> signer;
  // Tier (the device's included) -> the key its segments are sealed with at rest (AES-256-GCM,
  // common/model_seal.h); the tier opens them with the same key (seam serve / seam run
  // --model-key). stage.json stays readable: it holds no weights, and its signature covers it.
  std::map<std::string, ModelKey> encrypt;
  bool optimize = true;
  int intra_op_threads = 1;
  double ready_timeout_ms = 30000;
  // Segments already deployed, by sha256 -> file (filled in as stages are written): an identical
  // segment is hard-linked instead of written again. Deploying the plans of a set shares one map.
  std::map<std::string, std::string>* stored_segments = nullptr;
};

struct DeployedTier {
  std::string tier;
  std::string directory;  // where its stage.json is
  std::string model;      // "" for the device
  int64_t version = 0;
  std::string address;
};

// Writes every stage and records the deployment in the plan file (plan::RecordDeployment).
Result<std::vector<DeployedTier>> Deploy(const graph::LoadedModel& model,
                                         plan::ExecutablePlan& plan, const DeployOptions& options);

// Deploys every plan of a set (plan/plan_set_file.h): plan i's server stages are models
// NAME-mI-TIER, its device stage in DEVICE_DIR/PLAN_ID/, identical segments stored once (hard
// links); each plan file records its own deployment. A lone plan deploys as Deploy does.
// INVALID_ARGUMENT for a set of another model than `model`.
Result<std::vector<std::vector<DeployedTier>>> DeploySet(const graph::LoadedModel& model,
                                                         const std::string& set_path,
                                                         const DeployOptions& options);

}  // namespace seam::pipeline
