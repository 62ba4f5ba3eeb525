// The one place where seam's Status becomes an HTTP status code, as oip/grpc_status.h is for gRPC
// (style: errors change form once per boundary). The body is {"error": message}, written by the
// HTTP front end.
#pragma once

#include "common/status.h"

namespace seam::server {

// 200 for OK; 400 INVALID_ARGUMENT and FAILED_PRECONDITION; 401 UNAUTHENTICATED; 404 NOT_FOUND;
// 501 UNIMPLEMENTED; 503 UNAVAILABLE; 500 for INTERNAL, DATA_LOSS and anything else.
int ToHttpStatus(const Status& status);

}  // namespace seam::server
