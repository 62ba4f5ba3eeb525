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
// What a keyed request is, to tell a repeat from another request reusing its key: the model
// version it ran on and a 64-bit FNV-1a hash of its inputs (their descriptions and bytes), as
// "v3:0123456789abcdef". Request-level parameters (deadline, attempt) are left out: they differ
// between repeats.
std::string RequestFingerprint(const inference::ModelInferRequest& request, int64_t version);
// Whether an answer is a stored one (the request had been run before under its key).
bool WasReplayed(const inference::ModelInferResponse& response);

}  // namespace seam::oip
