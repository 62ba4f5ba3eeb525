// rest_request_fuzzer: arbitrary bytes as the JSON body of POST /v2/models/MODEL/infer (what a
// REST client may send), through the server's path: ParseInferRequestJson, then, when it is
// accepted, oip::DecodeInferRequest against a fixed signature (infer_request_models.h; the first
// byte picks it), and the decoded inputs written back as a JSON answer (InferResponseJson), which
// must parse as JSON. Beyond "never crashes" (ASan, UBSan): an accepted body gives, for each input
// of a known datatype (an unknown one is left for the decoder to name), one typed contents list
// whose length is its shape's element count, and a decoded request holds exactly the bytes its
// shapes need. A broken promise aborts, so libFuzzer saves the input.
#include <inference.pb.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz/infer_request_models.h"
#include "oip/infer_codec.h"
#include "server/http_codec.h"

namespace {

[[noreturn]] void Broken(const char* promise) {
  std::fprintf(stderr, "rest_request_fuzzer: broken promise: %s\n", promise);
  std::abort();
}

// Elements of a typed contents list (the one whose datatype is set), or -1 if none or several.
int64_t TypedCount(const inference::InferTensorContents& c) {
  const int64_t sizes[] = {c.bool_contents_size(),   c.int_contents_size(),
                           c.int64_contents_size(),  c.uint_contents_size(),
                           c.uint64_contents_size(), c.fp32_contents_size(),
                           c.fp64_contents_size(),   c.bytes_contents_size()};
  int64_t found = -1;
  for (int64_t n : sizes) {
    if (n == 0) continue;
    if (found >= 0) return -1;
    found = n;
  }
  return found < 0 ? 0 : found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kModels[] = {"cnn", "typed", "raw", "unbatched"};
  const std::string model = kModels[data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto request = seam::server::ParseInferRequestJson(body, model, "");
  if (!request.ok()) {
    if (request.status().message().empty()) Broken("a refusal says why");
    return 0;
  }
  for (const auto& input : request->inputs()) {
    int64_t elements = 1;
    for (int64_t d : input.shape()) {
      if (d < 0 || (d > 0 && elements > INT64_MAX / d)) Broken("an accepted shape is countable");
      elements *= d;
    }
    if (seam::DTypeFromName(input.datatype()) && TypedCount(input.contents()) != elements) {
      Broken("an accepted input has one contents list of its shape's element count");
    }
  }
  auto decoded = seam::oip::DecodeInferRequest(*request, seam::fuzz::MetadataFor(model));
  if (!decoded.ok()) return 0;
  inference::ModelInferResponse response;
  response.set_model_name(model);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : decoded->inputs) {
    int64_t elements = 1;
    for (int64_t d : tensor.shape) elements *= d;
    if (tensor.byte_size() != static_cast<size_t>(elements) * seam::DTypeSize(tensor.dtype)) {
      Broken("a decoded input holds exactly the bytes of its shape");
    }
    names.push_back(name);
  }
  if (!seam::oip::EncodeInferOutputs(decoded->inputs, names, &response).ok()) {
    Broken("decoded tensors encode as outputs");
  }
  auto json = seam::server::InferResponseJson(response);
  if (!json.ok()) Broken("an answer of decoded tensors writes as JSON");
  if (nlohmann::json::parse(*json, nullptr, /*allow_exceptions=*/false).is_discarded()) {
    Broken("the JSON answer parses");
  }
  return 0;
}
