// Link traces in the Mahimahi format, the form in which published cellular traces are shared:
// one line per delivery opportunity of one 1500-byte packet, the line being the opportunity's
// time in milliseconds from the start (non-decreasing; a time repeated k times means k packets in
// that millisecond). The trace repeats when it ends, as Mahimahi replays it.
//
// seam replays a trace through a ShapedRelay as a rate per window (the opportunities in each
// window, times 1500 bytes), and can make synthetic LTE-like uplink traces for the test suite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::lab {

inline constexpr int kMahimahiPacketBytes = 1500;

struct LinkTrace {
  std::vector<int64_t> opportunities_ms;  // non-decreasing
  int64_t period_ms = 0;                  // the trace repeats after this (its last time, >= 1)

  // The rate (bits/s) of window [k * window_ms, (k + 1) * window_ms) of the repeated trace.
  double RateBps(int64_t k, int64_t window_ms) const;
  double MeanRateBps() const;
};

// INVALID_ARGUMENT naming `where` and the line for anything that is not a trace: a line that is
// not a non-negative integer, times that go backwards, no line at all.
Result<LinkTrace> ParseMahimahi(const std::string& text, const std::string& where);
Result<LinkTrace> ReadMahimahi(const std::string& path);
std::string ToMahimahi(const LinkTrace& trace);

// A synthetic LTE-like uplink: the rate follows a random walk in log space (a new step every
// `step_ms`, each multiplying the rate by exp(N(0, volatility))), clamped to [min, max] Mbit/s,
// with occasional deep fades (probability `fade_probability` per step, the rate divided by 10
// for that step); packets are placed at the rate, spread evenly within each millisecond.
// Defaults give ~2-30 Mbit/s over seconds, as published LTE uplink traces do. Deterministic for
// a seed.
struct SyntheticLteOptions {
  int64_t duration_ms = 60000;
  int64_t step_ms = 500;
  double start_mbps = 12;
  double min_mbps = 1;
  double max_mbps = 40;
  double volatility = 0.35;
  double fade_probability = 0.05;
  uint64_t seed = 1;

  Status Validate() const;
};
Result<LinkTrace> SyntheticLteTrace(const SyntheticLteOptions& options);

}  // namespace seam::lab
