// What seam learns from its own requests: per link, RTT and bandwidth from the bytes and times of
// real transfers; per tier, how its measured compute compares with the profile's prediction (a
// speed factor) and the queueing delay it reports. Every request's trace feeds them (the client
// does, after each answer); plans are re-predicted from them. Pure code over TrackedValue.
#pragma once

#include <cstdint>

#include "adapt/tracked_value.h"

namespace seam::adapt {

// A link's round trip and bandwidth, from (bytes, ms) of transfers: ms = rtt + bytes*8/bandwidth.
// One request size alone cannot tell the two apart; a transfer whose time is mostly beyond the
// RTT updates the bandwidth, one mostly within it (a small message, a probe) updates the RTT, so
// that the prediction for the sizes actually sent stays right and light probes when idle keep
// the RTT honest.
class LinkEstimator {
 public:
  explicit LinkEstimator(TrackerConfig config = {});
  // Starts from a measurement (seam probe, the profile): RTT in ms, bandwidth in Mbit/s.
  void Prime(double rtt_ms, double mbps);
  // One transfer of `bytes` (both directions) that took `ms` on the link.
  void Observe(uint64_t bytes, double ms);

  bool known() const { return rtt_.known() && bandwidth_.known(); }
  double rtt_ms() const { return rtt_.value(); }
  double mbps() const { return bandwidth_.value(); }
  // Predicted time for `bytes` (0 while unknown).
  double PredictMs(uint64_t bytes) const;
  int64_t changes() const { return rtt_.changes() + bandwidth_.changes(); }

 private:
  TrackedValue rtt_, bandwidth_;
};

// A tier's compute speed relative to its profile (measured / predicted: 2 means twice as slow)
// and the queueing delay it reports.
class TierEstimator {
 public:
  explicit TierEstimator(TrackerConfig config = {});
  void ObserveCompute(double measured_ms, double predicted_ms);
  void ObserveQueue(double queue_ms);

  // 1 while unknown.
  double speed_factor() const { return factor_.known() ? factor_.value() : 1.0; }
  double queue_ms() const;
  int64_t changes() const { return factor_.changes(); }

 private:
  TrackedValue factor_;
  TrackedValue queue_;  // of queue_ms + kQueueFloorMs, so that idle (0 ms) is a valid sample
};

}  // namespace seam::adapt
