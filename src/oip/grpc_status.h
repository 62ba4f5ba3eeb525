// The one place where seam's Status and gRPC's status meet, both directions (style: errors change
// form once per boundary). Codes travel as codes, never re-parsed from message text:
//   - a unary RPC carries a grpc::Status;
//   - a ModelStreamInfer answer has only a free-text error_message in the protocol: seam writes
//     "CODE: message" there for people and plain OIP clients, and the code itself as the answer's
//     parameter "seam_status_code" (the gRPC code's number), which is what seam reads back. An
//     error from another OIP server, without it, is taken as INTERNAL with its text.
// Messages pass through unchanged (with a context prefix on the way in).
#pragma once

#include <grpcpp/support/status.h>
#include <inference.pb.h>

#include <string>

#include "common/status.h"

namespace seam::oip {

inline constexpr char kStatusCodeParameter[] = "seam_status_code";

grpc::Status ToGrpcStatus(const Status& status);

// `context` (e.g. "cloud at 10.0.0.2:8001") prefixes the message: "context: message".
// UNAVAILABLE is a transport failure: the peer could not answer, which a caller may retry
// elsewhere. RESOURCE_EXHAUSTED (a bound reached: a message too large, a queue full) keeps its
// code; HopClient does not re-dial for it. DEADLINE_EXCEEDED and CANCELLED keep their codes: the
// request ran out of time (or its caller gave up), which no retry within it can mend.
Status FromGrpcStatus(const grpc::Status& status, const std::string& context);

// Writes `status` (not OK) into a stream answer: error_message "CODE: message" and the code
// parameter; the answer holds nothing else but `id`, `model_name` and `model_version`.
void SetStreamError(const Status& status, const std::string& id, const std::string& model_name,
                    const std::string& model_version, inference::ModelStreamInferResponse* out);

// OK when `response` carries no error; otherwise the error with its code, "context: message".
Status StreamError(const inference::ModelStreamInferResponse& response, const std::string& context);

}  // namespace seam::oip
