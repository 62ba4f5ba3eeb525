#include "server/grpc_status.h"

namespace seam::server {

grpc::Status ToGrpcStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return grpc::Status::OK;
    case StatusCode::kInvalidArgument:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, status.message());
    case StatusCode::kNotFound:
      return grpc::Status(grpc::StatusCode::NOT_FOUND, status.message());
    case StatusCode::kFailedPrecondition:
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, status.message());
    case StatusCode::kUnimplemented:
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, status.message());
    case StatusCode::kDataLoss:
      return grpc::Status(grpc::StatusCode::DATA_LOSS, status.message());
    case StatusCode::kUnavailable:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, status.message());
    case StatusCode::kInternal:
      return grpc::Status(grpc::StatusCode::INTERNAL, status.message());
    case StatusCode::kUnauthenticated:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, status.message());
  }
  return grpc::Status(grpc::StatusCode::UNKNOWN, status.message());
}

}  // namespace seam::server
