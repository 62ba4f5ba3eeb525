// The JSON forms of the Open Inference Protocol's HTTP/REST API, as pure functions (no I/O, no
// threads). An inference request body becomes the same ModelInferRequest a gRPC client would send,
// with typed contents, so that both front ends share one validation and execution path
// (oip/infer_codec.h, InferHandler); responses are written back as JSON.
//
// Tensor data in JSON: "data" is a flat or nested array in row-major order (nesting is not checked
// against the shape, only the element count). Integers must be JSON integers within the datatype's
// range, BOOL takes true/false, FP32/FP64 any number within range. FP16, BF16 and BYTES are not
// accepted in JSON (Triton's binary tensor extension is not implemented); use gRPC.
// Output numbers are printed as the shortest text that reads back as the same value of the output's
// type (std::to_chars), so a client that parses them gets the server's bits; NaN and infinities,
// which JSON cannot carry, are written as null.
#pragma once

#include <inference.pb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "oip/model_metadata.h"

namespace seam::server {

using oip::ModelMetadata;

// The body of POST /v2/models/{model}[/versions/{version}]/infer; `model` and `version` come from
// the path. INVALID_ARGUMENT with a message naming the field: "request body: not JSON: ...",
// "'inputs': expected an array of tensors", "input 'x': data[3] = 1.5 is not an integer (INT64)",
// "input 'x': shape [2,3] has 6 elements, 'data' has 5".
Result<inference::ModelInferRequest> ParseInferRequestJson(std::string_view body,
                                                           const std::string& model,
                                                           const std::string& version);

// {"model_name", "model_version", "id", "outputs": [{"name", "datatype", "shape", "data"}]} from a
// response whose outputs are in raw_output_contents (as EncodeInferOutputs writes them).
// INTERNAL if an output's bytes do not match its datatype and shape.
Result<std::string> InferResponseJson(const inference::ModelInferResponse& response);

// {"name", "versions", "platform", "inputs", "outputs"}: `metadata` of one ready version, with
// the model's `ready_versions`; dynamic dimensions are -1.
std::string ModelMetadataJson(const std::string& name, const std::vector<int64_t>& ready_versions,
                              const std::string& platform, const ModelMetadata& metadata);

// {"name", "version", "extensions"}.
std::string ServerMetadataJson(const std::string& name, const std::string& version,
                               const std::vector<std::string>& extensions);

// {"error": message}: the body of every error answer.
std::string ErrorJson(std::string_view message);

}  // namespace seam::server
