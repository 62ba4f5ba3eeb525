// The one place where seam's Status becomes a gRPC status (style: errors change form once per
// boundary). The message passes through unchanged.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace seam::server {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace seam::server
