// The manifest of a split (DIR/manifest.json): which segment files there are, what each one reads
// and writes, and where every tensor comes from and goes. Schema "seam.split/v1", documented in
// docs/split.md; this is what the runtime (and, later, the tiers) read to run the segments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/status.h"

namespace seam::graph {

struct SegmentTensor {
  std::string name;
  std::string dtype;            // OIP name: "FP32", "INT64"...
  std::vector<int64_t> shape;   // -1 for a dynamic dimension
  std::string from;             // inputs: "model_input" or "segment_<k>"
  std::vector<std::string> to;  // outputs: "segment_<k>" and/or "model_output"
};

struct SegmentInfo {
  int index = 0;
  std::string file;                // relative to the manifest's directory
  std::string sha256;              // of the segment file
  std::string external_data_file;  // "" when weights are inside the file
  std::string external_data_sha256;
  int num_nodes = 0;
  std::string first_node;
  std::string last_node;
  std::vector<SegmentTensor> inputs;
  std::vector<SegmentTensor> outputs;
};

struct Manifest {
  static constexpr const char* kSchema = "seam.split/v1";
  std::string source_model;  // path as given when splitting
  std::string source_sha256;
  std::vector<std::vector<std::string>> boundaries;
  std::vector<std::string> model_inputs;
  std::vector<std::string> model_outputs;
  std::vector<SegmentInfo> segments;
};

nlohmann::json ManifestToJson(const Manifest& manifest);
Result<Manifest> ManifestFromJson(const nlohmann::json& json, const std::string& where);
Result<Manifest> ReadManifest(const std::string& path);

}  // namespace seam::graph
