// The device's per-request decision, when its plan sends part of the work up: send it (and how
// long to wait for the answer), or finish the request on the device (its fallback segment, the
// rest of the model) without sending. Pure: a snapshot of the estimates in, a decision out.
//
// The rule: finish locally when the device is predicted faster (by the hysteresis margin, to
// switch; within it, to stay). Otherwise send, when the predicted remote answer leaves time to
// fall back if it does not come (the fallback's predicted time plus a margin stays in reserve;
// the remote call is given up when only that reserve is left); otherwise finish locally if that
// meets the deadline (degraded); if nothing is predicted to meet it, take the faster. A request
// sent with a known estimate is given up when it runs too slow (RouteConfig::too_slow). A tier
// whose circuit is open is not tried. A remote estimate that has gone stale is re-measured on a
// request that keeps the fallback in reserve, so that a link that recovered is noticed (otherwise
// "too slow" would never be retried).
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace seam::adapt {

struct RouteSnapshot {
  double ms_left = 0;                 // until the request's deadline (+inf: none)
  double device_ms = 0;               // the device's own segment, predicted
  std::optional<double> remote_ms;    // from sending to the answer, predicted; none: not known
  std::optional<double> fallback_ms;  // the fallback segment, predicted; none: no fallback
  bool next_allowed = true;           // the next hop's circuit breaker lets a call through
  bool was_local = false;  // the previous request was finished locally by choice (hysteresis)
};

struct RouteConfig {
  double fallback_margin = 0.25;  // the reserve is fallback_ms * (1 + margin) + slack_ms
  double slack_ms = 2;
  // Switch between sending and finishing locally only when the other is predicted faster by
  // this share, so that noise in the estimates does not make the choice flap.
  double hysteresis = 0.15;
  // A remote part this many times slower than predicted is given up (and the fallback answers)
  // once it has also taken as long as the device alone would: a link that just faded must not
  // hold a request for its whole deadline.
  double too_slow = 2;

  Status Validate() const;
};

struct Route {
  enum class Kind { kRemote, kLocal };
  Kind kind = Kind::kRemote;
  // kRemote: how long from now the remote answer may take before the device gives up on it and
  // falls back (+inf: no limit).
  double remote_budget_ms = 0;
  std::string reason;  // one line, for the trace
  // kLocal because the tiers above cannot answer in time (their circuit is open, or they are
  // predicted too slow for the deadline), not because the device is simply faster.
  bool degraded = false;
};

Route DecideRoute(const RouteSnapshot& snapshot, const RouteConfig& config = {});

}  // namespace seam::adapt
