// The trace of one request through the tiers: what each tier spent and what each link carried.
// A stage answers with the trace of itself and every tier above it (OIP response parameter
// "seam_trace", JSON); the tier below adds its own entry and the link between them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::pipeline {

struct TierTrace {
  std::string tier;
  double compute_ms = 0;  // its segment (0 when it only relays)
  double encode_ms = 0;   // tensors it sent, up and down
  double decode_ms = 0;   // tensors it received, from below and from above
  double total_ms = 0;    // from receiving the request to having its answer ready
  // Of total_ms, the time the request waited in the tier's server before its stage ran (behind
  // other requests; decoding excluded). The device learns the tier's load from it.
  double queue_ms = 0;
};

struct LinkTrace {
  std::string from, to;
  uint64_t up_bytes = 0;    // payload bytes sent up (coded)
  uint64_t down_bytes = 0;  // payload bytes returned
  // The call's wall time minus the time the tier above spent: transfer both ways, round trip,
  // protocol and queueing.
  double ms = 0;
  // Times the request was sent again on this link because the stream broke under it (the tier
  // above may have run it twice; ms then spans every attempt and is no measure of the link).
  int retries = 0;
};

struct RequestTrace {
  std::vector<TierTrace> tiers;  // from the device up
  std::vector<LinkTrace> links;  // links[k] joins tiers[k] and tiers[k + 1]
  // Set by the device: how it routed the request and why ("sent: ..." or "local: ..."), and
  // whether it finished the request itself instead of the tiers above (a fallback) and why.
  std::string route;
  // With a plan set: which of its plans ran the request ("m1 (device 12 | edge 88)") and why it
  // was chosen (the predictions compared).
  std::string plan;
  std::string plan_reason;
  bool degraded = false;
  std::string degraded_reason;

  double TotalMs() const { return tiers.empty() ? 0 : tiers.front().total_ms; }
};

nlohmann::json TraceToJson(const RequestTrace& trace);
Result<RequestTrace> TraceFromJson(const std::string& text);
// One line per tier and link, for people: "device  compute 1.20 ms  encode 0.10 ...".
std::string TraceToText(const RequestTrace& trace);

}  // namespace seam::pipeline
