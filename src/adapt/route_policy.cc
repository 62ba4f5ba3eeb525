#include "adapt/route_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace seam::adapt {
namespace {

std::string Ms(double ms) {
  if (std::isinf(ms)) return "no deadline";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f ms", ms);
  return buffer;
}

Route Remote(double budget_ms, std::string reason) {
  return Route{Route::Kind::kRemote, budget_ms, std::move(reason)};
}
// Local because the tiers above cannot be relied on in time: a degraded answer.
Route Local(std::string reason) {
  return Route{Route::Kind::kLocal, 0, std::move(reason), /*degraded=*/true};
}

}  // namespace

Status RouteConfig::Validate() const {
  if (!(fallback_margin >= 0) || !(slack_ms >= 0)) {
    return InvalidArgument("fallback margin and slack must not be negative");
  }
  if (!(too_slow >= 1)) {
    return InvalidArgument("too_slow must be >= 1, got " + std::to_string(too_slow));
  }
  if (!(hysteresis >= 0 && hysteresis < 1)) {
    return InvalidArgument("hysteresis must be in [0, 1), got " + std::to_string(hysteresis));
  }
  return Status::Ok();
}

Route DecideRoute(const RouteSnapshot& s, const RouteConfig& config) {
  if (!s.fallback_ms) return Remote(s.ms_left, "sent: this device has no fallback");
  if (!s.next_allowed) return Local("local: the next tier's circuit is open (it failed lately)");
  const double reserve = *s.fallback_ms * (1 + config.fallback_margin) + config.slack_ms;
  const double local_total = s.device_ms + *s.fallback_ms;
  const double budget = s.ms_left - reserve;
  if (!s.remote_ms) {
    if (budget > s.device_ms) return Remote(budget, "sent: no estimate of the remote part yet");
    if (local_total <= s.ms_left) {
      return Local("local: " + Ms(s.ms_left) + " left is too little to try the tiers above");
    }
    return Remote(s.ms_left, "sent: nothing is predicted to meet the deadline");
  }
  const double remote_total = s.device_ms + *s.remote_ms;
  const bool device_faster = s.was_local ? local_total <= remote_total * (1 + config.hysteresis)
                                         : local_total < remote_total * (1 - config.hysteresis);
  if (device_faster && local_total <= s.ms_left) {
    return Route{Route::Kind::kLocal, 0,
                 "local: the device is predicted faster (" + Ms(local_total) + " vs " +
                     Ms(remote_total) + " sent)",
                 /*degraded=*/false};
  }
  if (remote_total <= budget) {
    const double give_up = std::max(config.too_slow * remote_total, local_total);
    return Remote(std::min(budget, give_up),
                  "sent: predicted " + Ms(remote_total) + ", fallback in reserve");
  }
  if (local_total <= s.ms_left) {
    return Local("local: predicted remote " + Ms(remote_total) +
                 " leaves no time to fall back in " + Ms(s.ms_left) + "; the device takes " +
                 Ms(local_total));
  }
  if (remote_total < local_total) {
    return Remote(s.ms_left, "sent: nothing meets " + Ms(s.ms_left) + "; remote is faster");
  }
  return Local("local: nothing meets " + Ms(s.ms_left) + "; the device is faster");
}

}  // namespace seam::adapt
