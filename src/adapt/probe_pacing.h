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

// How long a background probe may run before it is abandoned: the remote part cannot make the
// tiers above the better route once it takes longer than the device's own finish would (with
// the route's hysteresis, RouteConfig::hysteresis), so waiting beyond that teaches the estimate
// nothing it acts on. The cap leaves half as much again so that a probe just above the switch
// point still yields a sample, and is never below `floor_ms`. `device_ms` is the device's own
// segment, which a probe runs too: it is allowed twice its estimate, as it runs beside the
// requests the device is busy with (a segment slowed past a tight cap cut every probe even on a
// fast link, and the estimate never came down). `local_ms` is the device's whole run.
// Abandoning a doomed probe early keeps the probe cadence short on a slow link (a 2 Mbit/s probe
// that took 50 ms is cut at ~30 ms and the next one starts sooner), which is when a recovery
// is waiting to be noticed.
inline constexpr double kProbeCapFloorMs = 20;
double ProbeCapMs(double device_ms, double local_ms, double hysteresis,
                  double floor_ms = kProbeCapFloorMs);

}  // namespace seam::adapt
