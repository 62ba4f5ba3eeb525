// The profile of one model on one tier (schema "seam.profile/v1", docs/profile.md): what the
// planner knows about a tier. Data only: measuring lives in profiler.h (library seam::profile,
// which runs ONNX Runtime); the planner reads this (seam::profile_format) and never runs a model.
//
// Units: milliseconds for times, GB/s (1e9 bytes per second) for codec throughput, watts for
// power, the user's currency for prices.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::profile {

struct Timing {
  double median_ms = 0;
  double p90_ms = 0;
};

struct NodeTiming {
  std::string name;  // compute node name as in `seam analyze`
  std::string op_type;
  Timing time;
};

struct SegmentTiming {
  int first = 0;  // positions (inclusive) in the analysis order of compute nodes
  int last = 0;
  Timing time;
  // Bytes of the segment's inputs plus outputs (graph::SegmentBoundary) at the profiled shapes
  // (dynamic dimensions = 1). The latency model prices the layout conversions a deployed segment
  // pays at its edges by them. Absent in profiles written before the field existed, or when a
  // boundary tensor's size depends on data.
  std::optional<int64_t> boundary_bytes;
  // Why it was measured: "whole", "prefix", "tile", "pair" or "sample" (profiler.h); the latency
  // model takes its zones from prefixes and tiles. "" in profiles older than the field.
  std::string kind;
};

struct CodecThroughput {
  std::string codec;       // e.g. "fp16", "int8+zstd"
  double encode_gbps = 0;  // GB of FP32 input per second
  double decode_gbps = 0;
  double ratio = 1;  // serialized bytes / original bytes, over the model's own activations
};

struct Profile {
  static constexpr const char* kSchema = "seam.profile/v1";
  std::string tier;
  // The model profiled.
  std::string model_path;
  std::string model_sha256;
  int model_nodes = 0;  // compute nodes
  // The host.
  std::string cpu;
  int logical_cores = 0;
  int64_t memory_bytes = 0;
  // Settings.
  int threads = 1;
  double cpu_quota = 0;  // requested fraction of one core; 0 = none
  bool quota_applied = false;
  std::string quota_mechanism;  // "cgroup-v1", "cgroup-v2" or "none"
  std::string quota_note;       // why no quota was applied, when it was not
  int runs = 0;
  int warmup = 0;
  uint64_t seed = 1;        // of the random inputs and of the sampled segments
  double min_batch_ms = 0;  // a timed sample is the mean Run over a batch at least this long
  std::string runtime;      // e.g. "onnxruntime 1.29.0"
  // Measurements.
  Timing per_run_overhead;  // a session run that computes nothing
  Timing whole_model;       // the whole model, optimised as deployed
  std::vector<NodeTiming> nodes;
  std::vector<SegmentTiming> segments;
  std::vector<CodecThroughput> codecs;  // measured on this tier on the model's activations
  double profile_seconds = 0;           // wall time the measurement took (goal: <= 60 s)
  // Figures for the device-energy and cost objectives, supplied by the user (seam cannot measure
  // them); 0 when not given.
  double power_compute_w = 0;
  double power_transmit_w = 0;
  double power_idle_w = 0;
  double price_per_compute_second = 0;
  double price_per_gb_egress = 0;
};

nlohmann::json ProfileToJson(const Profile& profile);
Result<Profile> ProfileFromJson(const nlohmann::json& json, const std::string& where);
Result<Profile> ReadProfile(const std::string& path);
Status WriteProfile(const Profile& profile, const std::string& path);

}  // namespace seam::profile
