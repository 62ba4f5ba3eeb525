// Status and Result<T>: how errors cross seam's module boundaries.
//
// A Status is either OK (no allocation, one null pointer) or a code plus a message that a user can
// act on: it names what was wrong and where, e.g. "input 'x': expected shape [1,3,224,224], got
// [1,3,224]". Exceptions from ONNX, protobuf, ONNX Runtime and the filesystem are caught at the
// adapter that calls them and turned into a Status; none escapes a module.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>

namespace seam {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller gave something malformed or inconsistent
  kNotFound,            // a file, tensor, node or model that does not exist
  kFailedPrecondition,  // valid input that this operation cannot handle
  kUnimplemented,       // valid input that seam does not support yet
  kDataLoss,            // a file that is truncated or corrupt
  kUnavailable,         // a resource or peer that is not reachable now
  kInternal,            // a bug in seam or in a library it calls
  kUnauthenticated,     // a request without valid credentials (a bearer token)
  kDeadlineExceeded,    // a request whose deadline passed before it could be answered
  kCancelled,           // a request its caller gave up on
  kResourceExhausted,   // a bound was reached (a queue, a file, memory): try later or smaller
  kAborted,             // the same work is under way elsewhere (a repeat of a keyed request): retry
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code; empty when OK.
  const std::string& message() const;
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(const std::string& context) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // shared: copying a Status is cheap
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status FailedPrecondition(std::string message);
Status Unimplemented(std::string message);
Status DataLoss(std::string message);
Status Unavailable(std::string message);
Status Internal(std::string message);
Status Unauthenticated(std::string message);
Status DeadlineExceeded(std::string message);
Status Cancelled(std::string message);
Status ResourceExhausted(std::string message);
Status Aborted(std::string message);

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(value_).ok()) {
      value_ = Status(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace seam

#define SEAM_CONCAT_INNER_(a, b) a##b
#define SEAM_CONCAT_(a, b) SEAM_CONCAT_INNER_(a, b)

#define SEAM_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::seam::Status seam_status_ = (expr);        \
    if (!seam_status_.ok()) return seam_status_; \
  } while (0)

#define SEAM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define SEAM_ASSIGN_OR_RETURN(lhs, expr) \
  SEAM_ASSIGN_OR_RETURN_IMPL_(SEAM_CONCAT_(seam_result_, __LINE__), lhs, expr)
