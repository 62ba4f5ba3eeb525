// The Open Inference Protocol's inference messages as seam tensors, both directions, for both
// sides: the one module that builds or parses ModelInferRequest / ModelInferResponse.
//   server side: a request checked against a model's metadata and decoded (DecodeInferRequest),
//                outputs written into the answer (EncodeInferOutputs);
//   client side: inputs and requested outputs added to a request (AddInput, AddRequestedOutput),
//                an answer decoded (DecodeInferResponse).
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
//
// Pass-through: a tier that forwards a tensor in the codec it arrived in keeps it coded
// (CodedTensor) instead of decoding and encoding it again; its dtype and shape are checked as
// for any input, its bytes are checked by whoever finally decodes them.
#pragma once

#include <inference.pb.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "oip/model_metadata.h"

namespace seam::oip {

// A tensor as it travelled: its declared dtype and shape, its codec (never identity) and the
// payload bytes (transport/payload.h), not decoded.
struct CodedTensor {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::string codec;
  std::string bytes;
};
using CodedMap = std::map<std::string, CodedTensor>;

// Which coded tensors (name, codec) to keep coded rather than decode.
using KeepCoded = std::function<bool(const std::string& name, const std::string& codec)>;

struct DecodedRequest {
  TensorMap inputs;                  // every model input that was not kept coded
  CodedMap coded;                    // inputs kept coded (by `keep`)
  std::vector<std::string> outputs;  // to return, in this order (all of them if none requested)
  std::map<std::string, std::string> output_codecs;  // non-identity codecs asked for outputs
};

// `keep` (may be empty) is asked for every input that arrives in a non-identity codec.
Result<DecodedRequest> DecodeInferRequest(const inference::ModelInferRequest& request,
                                          const ModelMetadata& metadata,
                                          const KeepCoded& keep = {});

// Appends `names` to `response` as outputs with raw_output_contents, from `outputs` or, for a
// tensor kept coded, from `coded` (whose bytes are moved out when its codec is the one asked
// for; otherwise it is decoded and encoded again). INTERNAL if neither holds a name (a bug:
// names come from DecodeInferRequest). Outputs named in `codecs` are encoded with it and carry
// their "seam_codec" parameter.
Status EncodeInferOutputs(const TensorMap& outputs, const std::vector<std::string>& names,
                          inference::ModelInferResponse* response,
                          const std::map<std::string, std::string>& codecs = {},
                          CodedMap* coded = nullptr);

// Client side. Appends input `name` coded with `codec` ("" or "identity": the tensor's bytes).
// Returns the payload's size in bytes. INVALID_ARGUMENT if the codec cannot take the tensor.
Result<uint64_t> AddInput(const std::string& name, const Tensor& tensor, std::string_view codec,
                          inference::ModelInferRequest* request);
// Appends an input that is already coded; its bytes are moved into the request.
uint64_t AddCodedInput(const std::string& name, CodedTensor&& tensor,
                       inference::ModelInferRequest* request);
// Asks for output `name`, coded with `codec` ("" or "identity": plain).
void AddRequestedOutput(const std::string& name, std::string_view codec,
                        inference::ModelInferRequest* request);

struct DecodedResponse {
  TensorMap outputs;
  CodedMap coded;              // outputs kept coded (by `keep`)
  uint64_t payload_bytes = 0;  // raw_output_contents bytes, as they travelled
};
// Decodes every output of an answer. `where` names the peer ("cloud"); malformed answers are
// DATA_LOSS (the peer's fault, not the caller's input). `keep` as for DecodeInferRequest.
Result<DecodedResponse> DecodeInferResponse(const inference::ModelInferResponse& response,
                                            const std::string& where, const KeepCoded& keep = {});

}  // namespace seam::oip
