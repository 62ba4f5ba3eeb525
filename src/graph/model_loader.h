// Loading an ONNX model from disk into memory, with every error a user can hit named precisely:
// a missing file, bytes that are not ONNX, a truncated protobuf, broken external data, an opset
// this build of ONNX does not know, a graph that fails the ONNX checker.
//
// External data is resolved at load time: each initializer stored in an external file is read
// into the TensorProto (bounds-checked, and never outside the model's directory), so the rest of
// seam sees self-contained tensors. `had_external_data` remembers the user's choice so segments
// can be written the same way.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "common/status.h"

namespace seam::graph {

struct LoadedModel {
  onnx::ModelProto proto;
  std::string path;       // as given by the user; "<memory>" for bytes
  std::string directory;  // where external data files are looked up
  bool had_external_data = false;
  std::string sha256;  // of the model file's bytes (not of external data)
};

Result<LoadedModel> LoadModel(const std::string& path);
// `name` is used in messages; `directory` resolves external data ("" = none allowed).
Result<LoadedModel> LoadModelFromBytes(const std::string& bytes, const std::string& name,
                                       const std::string& directory);

// Highest opset of the default ONNX domain that this build's ONNX library knows.
int MaxSupportedOpset();

}  // namespace seam::graph
