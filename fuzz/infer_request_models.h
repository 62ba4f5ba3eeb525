// The fixed model signatures that infer_request_fuzzer validates requests against, chosen by the
// request's model_name so that a mutation of one field can switch between them. Shared with
// infer_request_seeds, which writes a valid request (and a few near misses) for each.
#pragma once

#include <string>

#include "oip/model_metadata.h"

namespace seam::fuzz {

using IoSpec = TensorSpec;
using oip::ModelMetadata;

// models/cnn_chain.onnx as served with max_batch_size 8: image [N,3,32,32] -> probs [N,10].
inline ModelMetadata CnnChain() {
  ModelMetadata m;
  m.inputs = {IoSpec{"image", DType::kFloat32, {-1, 3, 32, 32}}};
  m.outputs = {IoSpec{"probs", DType::kFloat32, {-1, 10}}};
  m.max_batch_size = 8;
  return m;
}

// One input of every datatype that has typed contents, [N,2] with N the batch (max 4), so that
// every typed-contents field and its range checks are reachable.
inline ModelMetadata EveryTypedDType() {
  ModelMetadata m;
  const DType dtypes[] = {DType::kBool,   DType::kInt8,    DType::kInt16,  DType::kInt32,
                          DType::kInt64,  DType::kUInt8,   DType::kUInt16, DType::kUInt32,
                          DType::kUInt64, DType::kFloat32, DType::kFloat64};
  for (DType dtype : dtypes) {
    m.inputs.push_back(IoSpec{std::string("in_") + DTypeName(dtype), dtype, {-1, 2}});
  }
  m.outputs = {IoSpec{"out", DType::kFloat32, {-1, 1}}, IoSpec{"aux", DType::kInt64, {-1}}};
  m.max_batch_size = 4;
  return m;
}

// FP16 and BF16, which only travel as raw_input_contents, beside an FP32 input.
inline ModelMetadata RawOnly() {
  ModelMetadata m;
  m.inputs = {IoSpec{"half", DType::kFloat16, {-1, 3}}, IoSpec{"brain", DType::kBFloat16, {-1, 3}},
              IoSpec{"single", DType::kFloat32, {-1, 3}}};
  m.outputs = {IoSpec{"y", DType::kFloat32, {-1, 3}}};
  m.max_batch_size = 2;
  return m;
}

// No batching: a scalar, a fixed shape, and a fully dynamic one (its dimensions only >= 1).
inline ModelMetadata Unbatched() {
  ModelMetadata m;
  m.inputs = {IoSpec{"scalar", DType::kInt32, {}}, IoSpec{"fixed", DType::kUInt8, {2, 3}},
              IoSpec{"free", DType::kFloat32, {-1, -1, -1}}};
  m.outputs = {IoSpec{"y", DType::kFloat32, {-1}}};
  return m;
}

inline const ModelMetadata& MetadataFor(const std::string& model_name) {
  static const ModelMetadata cnn = CnnChain(), typed = EveryTypedDType(), raw = RawOnly(),
                             unbatched = Unbatched();
  if (model_name == "typed") return typed;
  if (model_name == "raw") return raw;
  if (model_name == "unbatched") return unbatched;
  return cnn;
}

}  // namespace seam::fuzz
