// The inference request and response as tensors: a ModelInferRequest checked against a model's
// metadata and turned into a TensorMap, and a TensorMap written back as a ModelInferResponse.
// Pure functions over messages: no I/O, no threads, no ONNX Runtime.
//
// Every rule that a request can break gives INVALID_ARGUMENT with a message naming the tensor
// and the mismatch, e.g. "input 'image': expected shape [-1,3,32,32], got [1,3,32]":
//   - inputs: each model input exactly once, no unknown names;
//   - datatype: equal to the model's (no conversion);
//   - shape: the model's rank, fixed dimensions equal, dynamic ones >= 1; with max_batch_size > 0
//     the first dimension is the batch: in [1, max_batch_size] and the same for every input;
//   - contents: either raw_input_contents (one entry per input, byte length = elements x dtype
//     size) or typed contents of the field that matches the datatype (element count = shape's,
//     values in the datatype's range), never both, and never both for the same input;
//   - requested outputs: known names, each at most once.
// A tensor may travel coded: its parameter "seam_codec" (transport/payload.h) names the codec of
// its raw bytes, for an input as sent, for a requested output as wanted back.
#pragma once

#include <inference.pb.h>

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "server/model_metadata.h"

namespace seam::server {

struct DecodedRequest {
  TensorMap inputs;                  // every model input
  std::vector<std::string> outputs;  // to return, in this order (all of them if none requested)
  std::map<std::string, std::string> output_codecs;  // non-identity codecs asked for outputs
};

Result<DecodedRequest> DecodeInferRequest(const inference::ModelInferRequest& request,
                                          const ModelMetadata& metadata);

// Appends `names` from `outputs` to `response` as outputs with raw_output_contents. INTERNAL if
// the model did not produce one of them (a bug: names come from DecodeInferRequest).
// Outputs named in `codecs` are encoded with it and carry their "seam_codec" parameter.
Status EncodeInferOutputs(const TensorMap& outputs, const std::vector<std::string>& names,
                          inference::ModelInferResponse* response,
                          const std::map<std::string, std::string>& codecs = {});

}  // namespace seam::server
