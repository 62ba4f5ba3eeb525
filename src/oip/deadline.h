// Deadlines on the wire. Every seam request may carry the time it has left, as the request
// parameter "seam_timeout_us" (an int64 of microseconds). It is relative, as gRPC's own
// grpc-timeout header is, because the tiers' clocks are not synchronised: each receiver turns it
// into a deadline on its own steady clock when the request arrives, and gives the next hop only
// what is left when it sends. (The request's own time on the wire is not deducted, as in gRPC.)
// A unary ModelInfer's gRPC deadline counts too; the earlier of the two wins.
#pragma once

#include <inference.pb.h>

#include <chrono>
#include <optional>

#include "common/status.h"

namespace seam::oip {

inline constexpr char kTimeoutParameter[] = "seam_timeout_us";

using SteadyClock = std::chrono::steady_clock;
// No value: no deadline.
using Deadline = std::optional<SteadyClock::time_point>;

// Writes the time left until `deadline` (0 when already past) into `request`; without a deadline
// removes the parameter.
void SetTimeout(const Deadline& deadline, SteadyClock::time_point now,
                inference::ModelInferRequest* request);

// The deadline `request` carries, counted from `received`. INVALID_ARGUMENT (naming the
// parameter) for a timeout that is not a non-negative int64.
Result<Deadline> ReadDeadline(const inference::ModelInferRequest& request,
                              SteadyClock::time_point received);

// A gRPC (system clock) deadline on the steady clock; none for gRPC's "infinite".
Deadline FromSystemDeadline(std::chrono::system_clock::time_point deadline,
                            SteadyClock::time_point now);

Deadline Earliest(const Deadline& a, const Deadline& b);

// Milliseconds left until `deadline` (negative when past); +infinity without one.
double MsLeft(const Deadline& deadline, SteadyClock::time_point now);

}  // namespace seam::oip
