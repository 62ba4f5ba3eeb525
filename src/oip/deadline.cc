#include "oip/deadline.h"

#include <cmath>
#include <limits>

namespace seam::oip {

void SetTimeout(const Deadline& deadline, SteadyClock::time_point now,
                inference::ModelInferRequest* request) {
  if (!deadline) {
    request->mutable_parameters()->erase(kTimeoutParameter);
    return;
  }
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(*deadline - now);
  (*request->mutable_parameters())[kTimeoutParameter].set_int64_param(
      std::max<int64_t>(0, left.count()));
}

Result<Deadline> ReadDeadline(const inference::ModelInferRequest& request,
                              SteadyClock::time_point received) {
  auto it = request.parameters().find(kTimeoutParameter);
  if (it == request.parameters().end()) return Deadline{};
  const auto& p = it->second;
  if (p.parameter_choice_case() != inference::InferParameter::kInt64Param || p.int64_param() < 0) {
    return InvalidArgument(std::string("parameter '") + kTimeoutParameter +
                           "' must be a non-negative int64 (microseconds left)");
  }
  // Clamp absurd values (centuries) so that the time_point arithmetic cannot overflow.
  const int64_t us = std::min<int64_t>(p.int64_param(), int64_t{1} << 52);
  return Deadline{received + std::chrono::microseconds(us)};
}

Deadline FromSystemDeadline(std::chrono::system_clock::time_point deadline,
                            SteadyClock::time_point now) {
  if (deadline == std::chrono::system_clock::time_point::max()) return {};
  const auto left = deadline - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24 * 365)) return {};
  return now + std::chrono::duration_cast<SteadyClock::duration>(left);
}

Deadline Earliest(const Deadline& a, const Deadline& b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

double MsLeft(const Deadline& deadline, SteadyClock::time_point now) {
  if (!deadline) return std::numeric_limits<double>::infinity();
  return std::chrono::duration<double, std::milli>(*deadline - now).count();
}

}  // namespace seam::oip
