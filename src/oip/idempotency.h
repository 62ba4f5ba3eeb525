// Idempotency keys: a request that may be delivered more than once (store-and-forward retries, a
// sender killed after sending and before its acknowledgement) carries a key, unique to the item,
// as the string parameter kIdempotencyKeyParameter. A seam server runs a keyed request once and
// answers a repeat with the stored answer, marked with the bool parameter kReplayedParameter.
#pragma once

#include <inference.pb.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace seam::oip {

inline constexpr char kIdempotencyKeyParameter[] = "seam_idempotency_key";
inline constexpr char kReplayedParameter[] = "seam_replayed";
inline constexpr size_t kMaxIdempotencyKeyBytes = 256;

void SetIdempotencyKey(std::string_view key, inference::ModelInferRequest* request);
// The request's key, "" when it has none. INVALID_ARGUMENT for a key that is not a non-empty
// string of at most kMaxIdempotencyKeyBytes.
Result<std::string> ReadIdempotencyKey(const inference::ModelInferRequest& request);
// Whether an answer is a stored one (the request had been run before under its key).
bool WasReplayed(const inference::ModelInferResponse& response);

}  // namespace seam::oip
