// infer_request_fuzzer: arbitrary bytes as an inference::ModelInferRequest (what a gRPC client
// may send), decoded and validated by oip::DecodeInferRequest against a fixed model signature
// (infer_request_models.h, chosen by model_name), and when accepted, encoded back through
// EncodeInferOutputs. Beyond "never crashes", an accepted request must satisfy what the decoder
// promises the scheduler: every model input exactly once, with the model's dtype, a shape that
// fits the model's (and one batch size within max_batch_size), and exactly the bytes that shape
// needs. The same bytes are also read as a ModelInferResponse, the answer of a peer tier
// (oip::DecodeInferResponse): decoded, or refused as DATA_LOSS. A broken promise aborts, so
// libFuzzer saves the input.
#include <google/protobuf/stubs/logging.h>
#include <inference.pb.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "infer_request_models.h"
#include "oip/infer_codec.h"

namespace {

using seam::oip::ModelMetadata;

[[noreturn]] void Broken(const char* promise, const std::string& tensor) {
  std::fprintf(stderr, "infer_request_fuzzer: accepted request breaks '%s' (tensor '%s')\n",
               promise, tensor.c_str());
  std::abort();
}

void CheckAccepted(const seam::oip::DecodedRequest& decoded, const ModelMetadata& metadata) {
  if (decoded.inputs.size() != metadata.inputs.size()) Broken("every input once", "");
  int64_t batch = -1;
  for (const auto& spec : metadata.inputs) {
    auto it = decoded.inputs.find(spec.name);
    if (it == decoded.inputs.end()) Broken("every input once", spec.name);
    const seam::Tensor& t = it->second;
    if (t.dtype != spec.dtype) Broken("the model's dtype", spec.name);
    if (t.shape.size() != spec.shape.size()) Broken("the model's rank", spec.name);
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape[i] < 1 || (spec.shape[i] >= 0 && t.shape[i] != spec.shape[i])) {
        Broken("the model's dimensions", spec.name);
      }
    }
    if (metadata.max_batch_size > 0) {
      if (t.shape[0] > metadata.max_batch_size) Broken("batch <= max_batch_size", spec.name);
      if (batch >= 0 && t.shape[0] != batch) Broken("one batch size", spec.name);
      batch = t.shape[0];
    }
    const auto count = seam::CheckedElementCount(t.shape);
    if (!count || t.data.size() != static_cast<size_t>(*count) * seam::DTypeSize(t.dtype)) {
      Broken("bytes = elements x dtype size", spec.name);
    }
  }
  for (const auto& name : decoded.outputs) {
    if (!metadata.FindOutput(name)) Broken("known outputs", name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Parse failures (e.g. invalid UTF-8 in a string field) are logged by protobuf; gRPC refuses
  // such messages before seam sees them, and the log would drown libFuzzer's.
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

// The same bytes as the answer of a peer tier (what a stage decodes from the tier above): any
// answer is decoded or refused as DATA_LOSS with a message, never a crash.
void CheckAnswer(const uint8_t* data, size_t size) {
  inference::ModelInferResponse answer;
  if (!answer.ParseFromArray(data, static_cast<int>(size))) return;
  auto decoded = seam::oip::DecodeInferResponse(answer, "peer");
  if (!decoded.ok() && (decoded.status().code() != seam::StatusCode::kDataLoss ||
                        decoded.status().message().empty())) {
    Broken("bad answers are DATA_LOSS with a message", "");
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 30)) return 0;  // gRPC refuses messages over --max-message-mb long before
  CheckAnswer(data, size);
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const ModelMetadata& metadata = seam::fuzz::MetadataFor(request.model_name());
  auto decoded = seam::oip::DecodeInferRequest(request, metadata);
  if (!decoded.ok()) {
    // Every refusal is INVALID_ARGUMENT with a message (it goes back to the client as is).
    if (decoded.status().code() != seam::StatusCode::kInvalidArgument ||
        decoded.status().message().empty()) {
      Broken("refusals are INVALID_ARGUMENT with a message", "");
    }
    return 0;
  }
  CheckAccepted(*decoded, metadata);
  // The encoder must take any validated tensor: echo the inputs back as outputs.
  std::vector<std::string> names;
  for (const auto& [name, tensor] : decoded->inputs) names.push_back(name);
  inference::ModelInferResponse response;
  if (!seam::oip::EncodeInferOutputs(decoded->inputs, names, &response).ok()) {
    Broken("encodable", "");
  }
  return 0;
}
