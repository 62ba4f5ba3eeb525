#include "oip/grpc_status.h"

namespace seam::oip {
namespace {

grpc::StatusCode GrpcCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
    case StatusCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kAborted:
      return grpc::StatusCode::ABORTED;
  }
  return grpc::StatusCode::UNKNOWN;
}

StatusCode SeamCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return StatusCode::kOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return StatusCode::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND:
      return StatusCode::kNotFound;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
      return StatusCode::kFailedPrecondition;
    case grpc::StatusCode::UNIMPLEMENTED:
      return StatusCode::kUnimplemented;
    case grpc::StatusCode::DATA_LOSS:
      return StatusCode::kDataLoss;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return StatusCode::kUnauthenticated;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return StatusCode::kDeadlineExceeded;
    case grpc::StatusCode::CANCELLED:
      return StatusCode::kCancelled;
    case grpc::StatusCode::UNAVAILABLE:
      return StatusCode::kUnavailable;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return StatusCode::kResourceExhausted;
    case grpc::StatusCode::ABORTED:
      return StatusCode::kAborted;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(GrpcCode(status.code()), status.message());
}

Status FromGrpcStatus(const grpc::Status& status, const std::string& context) {
  if (status.ok()) return Status::Ok();
  return Status(SeamCode(status.error_code()), context + ": " + status.error_message());
}

void SetStreamError(const Status& status, const std::string& id, const std::string& model_name,
                    const std::string& model_version, inference::ModelStreamInferResponse* out) {
  out->Clear();
  out->set_error_message(status.ToString());
  auto* answer = out->mutable_infer_response();
  answer->set_id(id);
  answer->set_model_name(model_name);
  answer->set_model_version(model_version);
  (*answer->mutable_parameters())[kStatusCodeParameter].set_int64_param(
      static_cast<int64_t>(GrpcCode(status.code())));
}

Status StreamError(const inference::ModelStreamInferResponse& response,
                   const std::string& context) {
  if (response.error_message().empty()) return Status::Ok();
  StatusCode code = StatusCode::kInternal;
  const auto& params = response.infer_response().parameters();
  if (auto it = params.find(kStatusCodeParameter);
      it != params.end() &&
      it->second.parameter_choice_case() == inference::InferParameter::kInt64Param) {
    const int64_t number = it->second.int64_param();
    if (number > 0 && number <= grpc::StatusCode::UNAUTHENTICATED) {
      code = SeamCode(static_cast<grpc::StatusCode>(number));
    }
  }
  if (code == StatusCode::kOk) code = StatusCode::kInternal;
  // The text repeats the code for people ("CODE: message"); the code came from the parameter.
  std::string message = response.error_message();
  const std::string prefix = std::string(StatusCodeName(code)) + ": ";
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  return Status(code, context + ": " + message);
}

}  // namespace seam::oip
