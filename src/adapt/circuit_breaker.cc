#include "adapt/circuit_breaker.h"

#include <algorithm>
#include <string>

namespace seam::adapt {

Status BreakerConfig::Validate() const {
  if (failures_to_open < 1) return InvalidArgument("breaker failures_to_open must be >= 1");
  if (!(open_ms > 0) || !(max_open_ms >= open_ms)) {
    return InvalidArgument("breaker cool-downs must satisfy 0 < open_ms <= max_open_ms, got " +
                           std::to_string(open_ms) + " and " + std::to_string(max_open_ms));
  }
  if (!(jitter >= 0 && jitter < 1)) return InvalidArgument("breaker jitter must be in [0, 1)");
  return Status::Ok();
}

CircuitBreaker::CircuitBreaker(BreakerConfig config, uint64_t seed)
    : config_(config), rng_(seed), cool_down_ms_(config.open_ms) {}

CircuitBreaker::State CircuitBreaker::state(int64_t now_us) const {
  if (state_ == State::kOpen && now_us >= open_until_us_) return State::kHalfOpen;
  return state_;
}

bool CircuitBreaker::Allow(int64_t now_us) {
  if (state_ == State::kClosed) return true;
  if (state_ == State::kOpen) {
    if (now_us < open_until_us_) return false;
    state_ = State::kHalfOpen;
    probe_in_flight_ = false;
  }
  if (probe_in_flight_) return false;
  probe_in_flight_ = true;
  return true;
}

void CircuitBreaker::OnSuccess() {
  state_ = State::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
  cool_down_ms_ = config_.open_ms;
}

void CircuitBreaker::OnFailure(int64_t now_us) {
  if (state_ == State::kHalfOpen) {
    cool_down_ms_ = std::min(cool_down_ms_ * 2, config_.max_open_ms);
    Open(now_us);
    return;
  }
  if (state_ == State::kOpen) return;  // a call let through before it opened
  if (++failures_ >= config_.failures_to_open) Open(now_us);
}

void CircuitBreaker::Trip(int64_t now_us) {
  if (state_ != State::kOpen) Open(now_us);
}

void CircuitBreaker::Open(int64_t now_us) {
  std::uniform_real_distribution<double> stretch(1 - config_.jitter, 1 + config_.jitter);
  state_ = State::kOpen;
  probe_in_flight_ = false;
  failures_ = 0;
  open_until_us_ = now_us + static_cast<int64_t>(cool_down_ms_ * stretch(rng_) * 1e3);
  ++opened_;
}

const char* BreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace seam::adapt
