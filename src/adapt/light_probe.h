// Light link probes. While the device keeps its requests to itself, only a background probe
// tells it that the link recovered, and a copy of a request is a dear probe when its input is
// large and the link slow (BlazeFace's 786 KB takes 6 s at 1 Mbit/s; paced to a quarter of the
// link's time, a recovery went unnoticed for 10-20 s). A light probe measures the link alone,
// as `seam probe` does: a tiny payload and one sized to the link, each sent to a model no server
// has (the tier reads the whole message and answers NOT_FOUND; nothing runs), the sized one first
// so that traffic already on the link slows it rather than the round trip. The link's
// estimate then re-predicts the remote part for the bytes a real request sends, and a copy of a
// request is sent only when that prediction says sending could win the route -- the copy still
// decides, as it measures the tiers too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace seam::adapt {

// Beyond a link shaper's burst of a few packets (the lab's relay: 3000 B), so that the probe
// measures the rate more than the bucket (an optimistic reading costs a copy, no more), and small
// enough that at 2 Mbit/s a probe every 0.3 s takes a tenth of the link.
inline constexpr uint64_t kLightProbeMinBytes = 8 << 10;
// The payload crosses the link in about this long at its estimated rate.
inline constexpr double kLightProbeTargetMs = 20;
// Light probes take at most this share of the link's time (copies: kProbeShare). They only need
// to notice a change.
inline constexpr double kLightProbeShare = 0.1;
// While light probes do not ask for a copy, one is still sent now and then: the tiers above may
// have sped up, which only a copy shows. At least kForcedCopyEveryMs apart, and never so often
// that such copies take more than kForcedCopyShare of the link's time, counted as the copy's
// whole time on the link (`copy_link_ms`): a copy cut early still drains what it wrote from the
// socket buffers (on a 2 Mbit/s uplink a 576 KB copy every 10 s kept it a quarter busy).
inline constexpr double kForcedCopyEveryMs = 10000;
inline constexpr double kForcedCopyShare = 0.05;
double ForcedCopyPauseMs(double copy_link_ms);

// The tiny call's payload: all round trip (adapt::LinkEstimator's small messages).
inline constexpr uint64_t kLightProbeTinyBytes = 64;

// The slower of two rates, either of which may be unknown (0): what a light probe is sized from,
// so that an estimate from before a change cannot make it large.
inline double SlowerKnownRate(double a, double b) {
  return a > 0 && b > 0 ? (a < b ? a : b) : (a > b ? a : b);
}

// The payload of a light probe on a link estimated at `mbps` (0: unknown) for requests that send
// `copy_bytes` over it: what crosses in kLightProbeTargetMs, at least kLightProbeMinBytes, at most
// a quarter of the copy (an estimate from before the link changed may be far too high; the probe
// then takes a quarter of a copy's time once, and sizes the next from what it measured). 0 when a
// quarter of the copy is under kLightProbeMinBytes: then the copy is the probe.
uint64_t LightProbeBytes(double mbps, uint64_t copy_bytes);

// The link time a light probe took, which paces the next one (kLightProbeShare): the sized call's
// transfer beyond the tiny call's round trip when both answered (`tiny_ms` 0: it did not; then
// the sized call's whole time); nothing when it was cut or failed. A cut probe mostly waited
// behind other traffic (what a request given up left in the buffers): pacing it by its cap gave
// 5 s pauses, while the next probe is sized down from the bound the cut sets anyway.
double LightProbeLinkMs(double tiny_ms, double sized_ms);

// The last few light probes of a link, read optimistically. A probe's times only grow with what
// else happens (a busy device CPU scheduling its calls late: 20-140 ms on a 2 ms link in the
// namespace lab, with the device's model running beside), and a small payload's transfer scaled
// up to a request's bytes magnifies that noise a hundredfold: one reading says little. The least
// round trip and the least time per byte over the window are what the link can do, so a recovered
// link shows within a few probes, while a slow one keeps every reading slow.
class LightProbeWindow {
 public:
  static constexpr size_t kSize = 4;
  void Add(double tiny_ms, uint64_t bytes, double sized_ms);
  bool empty() const { return count_ == 0; }
  // The request's time on the link (`copy_bytes`) at the best round trip and rate seen.
  double OptimisticLinkMs(uint64_t copy_bytes) const;
  // The same as a round trip and a rate (Mbit/s; +inf when a probe crossed within its round
  // trip), for predictions that take a link's terms.
  double BestRttMs() const;
  double BestMbps() const;
  void Clear() { count_ = next_ = 0; }

 private:
  double tiny_ms_[kSize] = {}, ms_per_byte_[kSize] = {};
  size_t next_ = 0, count_ = 0;
};

// The remote part of a request, re-predicted for a link that changed: what the tiers above
// added beyond the first link (`beyond_ms`, measured by earlier requests) plus the link's
// predicted time for the request's bytes (`link_ms`).
inline double RepredictRemoteMs(double beyond_ms, double link_ms) {
  return (beyond_ms > 0 ? beyond_ms : 0) + (link_ms > 0 ? link_ms : 0);
}

}  // namespace seam::adapt
