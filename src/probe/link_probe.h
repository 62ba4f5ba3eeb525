// Measuring a link: round-trip time and bandwidth between this host and a running seam server,
// with ordinary OIP calls, so any OIP server can be probed (nothing seam-specific is needed).
//
//  - round trip: the median time of ServerLive calls (tiny messages), which is the link's RTT
//    plus both ends' per-message costs; the plan's link model takes it as its RTT;
//  - bandwidth: ModelInfer requests carrying a large and a small raw payload for a model that does
//    not exist; the server reads the whole message before it answers NOT_FOUND, so the difference
//    in time between the two sizes is the time to move the extra bytes up the link.
// Median over several repetitions; the channel is opened (and warmed) once.
#pragma once

#include <string>

#include "common/status.h"
#include "oip/hop_security.h"

namespace seam::probe {

struct ProbeOptions {
  int repetitions = 7;
  size_t small_bytes = 64 << 10;
  size_t large_bytes = 4 << 20;
  double timeout_s = 10;
  // TLS and a bearer token for a server that wants them (oip/hop_security.h).
  oip::HopSecurity security;
};

struct LinkEstimate {
  double rtt_ms = 0;         // median round trip of a tiny call
  double bandwidth_bps = 0;  // bits per second, client to server
  // "20.5mbit,3.1ms": what `seam plan --link A-B=...` takes.
  std::string ToLinkSpec() const;
};

// UNAVAILABLE with the address when nothing answers.
Result<LinkEstimate> ProbeLink(const std::string& address, const ProbeOptions& options);

}  // namespace seam::probe
