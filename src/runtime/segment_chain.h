// SegmentChain: the segments of a split (a manifest and its files) run one after the other in
// ONNX Runtime, tensors passed by name as the manifest routes them. This is the single-process
// reference for what the tiers do over the network, and what `seam verify` compares to the whole.
//
// Opening checks every segment file against the sha256 in the manifest.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "graph/manifest.h"
#include "runtime/session.h"

namespace seam::runtime {

class SegmentChain {
 public:
  static Result<SegmentChain> Open(const std::string& manifest_path, const SessionOptions& options);

  const graph::Manifest& manifest() const { return manifest_; }
  int num_segments() const { return static_cast<int>(sessions_.size()); }
  const Session& segment(int k) const { return *sessions_[k]; }

  // Runs every segment; returns the model outputs by name.
  Result<TensorMap> Run(const TensorMap& model_inputs) const;

 private:
  graph::Manifest manifest_;
  std::vector<std::unique_ptr<Session>> sessions_;
};

// Deterministic pseudo-random values for an input: floats uniform in [-1, 1), integers in [0, 8),
// booleans 0/1. Dynamic dimensions take `dynamic_dim`.
Tensor RandomTensor(const IoSpec& spec, uint64_t seed, int64_t dynamic_dim = 1);

}  // namespace seam::runtime
