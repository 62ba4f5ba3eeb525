#include "adapt/estimators.h"

#include <algorithm>

namespace seam::adapt {
namespace {

// Messages this small are all round trip.
constexpr uint64_t kSmallBytes = 2048;
// A transfer is "mostly bandwidth" when this share of its time is beyond the RTT.
constexpr double kTransferShare = 0.3;
constexpr double kQueueFloorMs = 0.05;

double SerializationMs(uint64_t bytes, double mbps) {
  return mbps > 0 ? static_cast<double>(bytes) * 8.0 / (mbps * 1e3) : 0.0;
}

}  // namespace

LinkEstimator::LinkEstimator(TrackerConfig config) : rtt_(config), bandwidth_(config) {}

void LinkEstimator::Prime(double rtt_ms, double mbps) {
  rtt_.Prime(std::max(rtt_ms, 1e-3));
  bandwidth_.Prime(mbps);
}

void LinkEstimator::Observe(uint64_t bytes, double ms) {
  if (!(ms > 0)) return;
  if (!rtt_.known()) {
    if (bytes <= kSmallBytes) {
      rtt_.Observe(ms);
    } else {
      bandwidth_.Observe(SerializationMs(bytes, 1.0) / ms);  // as if the RTT were nil
    }
    return;
  }
  const double transfer_ms = ms - rtt_.value();
  if (bytes > kSmallBytes && transfer_ms > kTransferShare * ms) {
    bandwidth_.Observe(SerializationMs(bytes, 1.0) / transfer_ms);
  } else {
    const double serial = bandwidth_.known() ? SerializationMs(bytes, bandwidth_.value()) : 0.0;
    rtt_.Observe(std::max(ms - serial, 1e-3));
  }
}

double LinkEstimator::PredictMs(uint64_t bytes) const {
  return rtt_.value() + (bandwidth_.known() ? SerializationMs(bytes, bandwidth_.value()) : 0.0);
}

TierEstimator::TierEstimator(TrackerConfig config) : factor_(config), queue_(config) {}

void TierEstimator::ObserveCompute(double measured_ms, double predicted_ms) {
  if (measured_ms > 0 && predicted_ms > 0) factor_.Observe(measured_ms / predicted_ms);
}

void TierEstimator::ObserveQueue(double queue_ms) {
  if (queue_ms >= 0) queue_.Observe(queue_ms + kQueueFloorMs);
}

double TierEstimator::queue_ms() const {
  return queue_.known() ? std::max(0.0, queue_.value() - kQueueFloorMs) : 0.0;
}

}  // namespace seam::adapt
