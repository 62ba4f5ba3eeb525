#include "adapt/tracked_value.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace seam::adapt {

Status TrackerConfig::Validate() const {
  if (!(alpha > 0 && alpha <= 1)) {
    return InvalidArgument("tracker alpha must be in (0, 1], got " + std::to_string(alpha));
  }
  if (!(band > 1)) return InvalidArgument("tracker band must be > 1, got " + std::to_string(band));
  if (confirm < 1) {
    return InvalidArgument("tracker confirm must be >= 1, got " + std::to_string(confirm));
  }
  return Status::Ok();
}

TrackedValue::TrackedValue(TrackerConfig config) : config_(config) {}

double TrackedValue::value() const { return samples_ > 0 ? std::exp(log_value_) : 0.0; }

void TrackedValue::Prime(double value) {
  if (!(value > 0) || !std::isfinite(value)) return;
  log_value_ = std::log(value);
  samples_ = std::max<int64_t>(samples_, 1);
  run_side_ = run_length_ = 0;
  run_log_sum_ = 0;
}

bool TrackedValue::Observe(double sample) {
  if (!(sample > 0) || !std::isfinite(sample)) return false;
  const double x = std::log(sample);
  if (samples_ == 0) {
    log_value_ = x;
    samples_ = 1;
    return false;
  }
  ++samples_;
  const double band = std::log(config_.band);
  const double deviation = x - log_value_;
  const int side = deviation > band ? 1 : deviation < -band ? -1 : 0;
  if (side != 0 && side == run_side_) {
    ++run_length_;
    run_log_sum_ += x;
  } else {
    run_side_ = side;
    run_length_ = side != 0 ? 1 : 0;
    run_log_sum_ = side != 0 ? x : 0;
  }
  if (side != 0 && run_length_ >= config_.confirm) {
    // A real change: jump to where the run of outliers says the value now is.
    log_value_ = run_log_sum_ / run_length_;
    ++changes_;
    run_side_ = run_length_ = 0;
    run_log_sum_ = 0;
    return true;
  }
  log_value_ += config_.alpha * std::clamp(deviation, -band, band);
  return false;
}

}  // namespace seam::adapt
