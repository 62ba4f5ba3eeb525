// StageSpec: what one tier does for one deployed plan (schema "seam.stage/v1", docs/run.md).
// A stage takes the tensors that arrive from the tier below (for the device: the model's inputs),
// runs its segment of the model if it has one, sends up what the tiers above need and asks them
// for what it must return, and returns its outputs to the tier below (for the device: the model's
// outputs). Every tensor names the codec it travels with on the link it crosses.
//
// A server loads a stage from REPO/MODEL/VERSION/stage.json (platform "seam_stage"); the device
// client from the directory `seam deploy` wrote for it. Each file is checked against the sha256
// its referrer records: config.json covers stage.json, stage.json covers the segment.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/status.h"
#include "oip/hop_security.h"

namespace seam::pipeline {

inline constexpr char kStageSchema[] = "seam.stage/v1";
inline constexpr char kStageFile[] = "stage.json";
inline constexpr char kSegmentFile[] = "model.onnx";
inline constexpr char kFallbackFile[] = "fallback.onnx";
// OIP request parameters: the plan a request belongs to, and the trace a stage answers with.
inline constexpr char kPlanParameter[] = "seam_plan";
inline constexpr char kTraceParameter[] = "seam_trace";

struct StageTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;  // -1 for a dynamic dimension
  std::string codec = "identity";

  bool operator==(const StageTensor&) const = default;
};

struct NextHop {
  std::string tier;
  std::string address;  // HOST:PORT as this tier reaches the next one
  std::string model;    // the next stage's model name and version on that server
  int64_t version = 0;
  std::vector<StageTensor> send;     // up, with the codec of this link
  std::vector<StageTensor> receive;  // down, with the codec of this link
  // TLS and the token this tier presents to the next one: where they are on this tier's
  // machine (files, environment variables), never the secrets themselves.
  oip::HopSecurity security;

  bool operator==(const NextHop&) const = default;
};

// On the device: every node the plan places above it, as one segment the device can run itself
// when the tiers above cannot answer in time (the client's fallback). It reads exactly what the
// device sends up (next.send, decoded) and makes the model outputs the tiers above return.
struct FallbackSegment {
  std::string file;
  std::string sha256;
  int nodes = 0;

  bool operator==(const FallbackSegment&) const = default;
};

struct StageSpec {
  std::string plan_id;
  std::string model_sha256;  // of the whole model the plan was made for
  std::string tier;
  int tier_index = 0;  // 0 = the device
  // The segment file in the stage's directory and its sha256; empty when the tier only relays.
  std::string segment_file;
  std::string segment_sha256;
  int segment_nodes = 0;
  bool optimize = true;  // false: no ORT graph optimisation, results bitwise equal to the model's
  int intra_op_threads = 1;
  std::vector<StageTensor> inputs;   // arriving from below, with the codec of the link below
  std::vector<StageTensor> outputs;  // returned below, with the codec of the link below
  std::optional<NextHop> next;
  std::optional<FallbackSegment> fallback;  // only on the device, only with a next hop

  bool operator==(const StageSpec&) const = default;
};

nlohmann::json StageToJson(const StageSpec& spec);
// `where` names the file in messages.
Result<StageSpec> StageFromJson(const nlohmann::json& json, const std::string& where);
Result<StageSpec> ReadStage(const std::string& path);
// The text of a stage file already read (`path` names it in messages): what a signature was
// checked on is what is parsed.
Result<StageSpec> ParseStage(const std::string& text, const std::string& path);

}  // namespace seam::pipeline
