#include "oip/idempotency.h"

#include <cstdio>

namespace seam::oip {

void SetIdempotencyKey(std::string_view key, inference::ModelInferRequest* request) {
  (*request->mutable_parameters())[kIdempotencyKeyParameter].set_string_param(std::string(key));
}

Result<std::string> ReadIdempotencyKey(const inference::ModelInferRequest& request) {
  auto it = request.parameters().find(kIdempotencyKeyParameter);
  if (it == request.parameters().end()) return std::string();
  const auto& p = it->second;
  if (p.parameter_choice_case() != inference::InferParameter::kStringParam ||
      p.string_param().empty() || p.string_param().size() > kMaxIdempotencyKeyBytes) {
    return InvalidArgument(std::string("parameter '") + kIdempotencyKeyParameter +
                           "' must be a non-empty string of at most " +
                           std::to_string(kMaxIdempotencyKeyBytes) + " bytes");
  }
  return p.string_param();
}

std::string RequestFingerprint(const inference::ModelInferRequest& request, int64_t version) {
  uint64_t hash = 0xcbf29ce484222325ull;
  auto mix = [&hash](std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 0x100000001b3ull;
    }
    hash ^= bytes.size();  // so that splitting the same bytes differently differs
    hash *= 0x100000001b3ull;
  };
  for (const auto& input : request.inputs()) mix(input.SerializeAsString());
  for (const auto& raw : request.raw_input_contents()) mix(raw);
  char text[48];
  std::snprintf(text, sizeof(text), "v%lld:%016llx", static_cast<long long>(version),
                static_cast<unsigned long long>(hash));
  return text;
}

bool WasReplayed(const inference::ModelInferResponse& response) {
  auto it = response.parameters().find(kReplayedParameter);
  return it != response.parameters().end() &&
         it->second.parameter_choice_case() == inference::InferParameter::kBoolParam &&
         it->second.bool_param();
}

}  // namespace seam::oip
