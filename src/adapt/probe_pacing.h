// How often the device may send a background probe (a copy of a real request) over a link that
// its requests do not use: every `interval_ms`, but never so often that probes take more than
// `max_share` of the link's time. A probe that took T ms is followed by a pause of at least
// T * (1 - max_share) / max_share: on a fast link, or with a small input, the interval decides (a
// recovered link is seen within it: adapt_bench's 8 KB probe takes ~33 ms at 2 Mbit/s, under the
// 100 ms interval at a quarter); on a slow one a probe of a large input (BlazeFace's 786 KB takes
// 6 s at 1 Mbit/s) does not keep the uplink busy (and a metered link billed) for nothing.
#pragma once

namespace seam::adapt {

inline constexpr double kProbeShare = 0.25;

double ProbePauseMs(double interval_ms, double last_probe_ms, double max_share = kProbeShare);

}  // namespace seam::adapt
