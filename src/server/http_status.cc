#include "server/http_status.h"

namespace seam::server {

int ToHttpStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kDeadlineExceeded:
      return 504;  // as a gateway whose upstream did not answer in time
    case StatusCode::kResourceExhausted:
      return 429;  // too many requests (or too large): try later or smaller
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kAborted:
      return 409;  // conflict: the same keyed request is being run  // client closed request
                   // (nginx's convention; no one reads it)
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace seam::server
