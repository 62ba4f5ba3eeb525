#include "oip/idempotency.h"

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

bool WasReplayed(const inference::ModelInferResponse& response) {
  auto it = response.parameters().find(kReplayedParameter);
  return it != response.parameters().end() &&
         it->second.parameter_choice_case() == inference::InferParameter::kBoolParam &&
         it->second.bool_param();
}

}  // namespace seam::oip
