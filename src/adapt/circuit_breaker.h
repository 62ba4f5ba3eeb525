// CircuitBreaker: per next hop, so that a dead tier costs nothing per request until it returns.
// Pure state machine over an injected clock (microseconds); the caller serialises access.
//
//   closed --(failures_to_open failures in a row)--> open --(cool-down)--> half-open
//   half-open: one call (a probe) goes through; success -> closed, failure -> open again with the
//   cool-down doubled (up to max_open_ms), each cool-down stretched by a random jitter so that
//   many clients of one tier do not all probe it at the same instant.
#pragma once

#include <cstdint>
#include <random>

#include "common/status.h"

namespace seam::adapt {

struct BreakerConfig {
  int failures_to_open = 3;
  double open_ms = 250;       // first cool-down
  double max_open_ms = 2000;  // cool-downs double up to this: a returning tier is found soon
  double jitter = 0.2;        // each cool-down is multiplied by a uniform factor in [1-j, 1+j]

  Status Validate() const;
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(BreakerConfig config = {}, uint64_t seed = 1);

  // Whether a call may go now. In half-open, true once (the probe) until that call is reported.
  bool Allow(int64_t now_us);
  void OnSuccess();
  void OnFailure(int64_t now_us);
  // Opens at once (a tier found unreachable before any call, e.g. at start).
  void Trip(int64_t now_us);

  State state(int64_t now_us) const;
  // When the current cool-down ends (meaningful while open).
  int64_t open_until_us() const { return open_until_us_; }
  int64_t opened() const { return opened_; }  // times it opened, for metrics and tests

 private:
  void Open(int64_t now_us);

  BreakerConfig config_;
  std::mt19937_64 rng_;
  State state_ = State::kClosed;
  int failures_ = 0;
  double cool_down_ms_;
  int64_t open_until_us_ = 0;
  bool probe_in_flight_ = false;
  int64_t opened_ = 0;
};

const char* BreakerStateName(CircuitBreaker::State state);

}  // namespace seam::adapt
