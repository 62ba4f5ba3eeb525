// A network link between two consecutive tiers, and how users write one.
#pragma once

#include <string>

#include "common/status.h"

namespace seam::plan {

struct Link {
  double bandwidth_bps = 0;  // bits per second, each direction
  double rtt_ms = 0;         // round-trip time
  double overhead_ms = 0;    // per message (serialisation, RPC), each direction

  // Milliseconds to move `bytes` one way, excluding the round trip.
  double TransferMs(double bytes) const { return bytes * 8.0 / bandwidth_bps * 1e3; }
};

// Parses "BW,RTT[,OVERHEAD]": BW with a unit (bit, kbit, mbit, gbit; e.g. "10mbit", "1.5gbit")
// or a plain number of bit/s; RTT and OVERHEAD in ms ("20ms" or "20"). Errors name the field.
Result<Link> ParseLink(const std::string& text);

// Parses a bandwidth as ParseLink's BW field: "10mbit", "1.5gbit", "800kbit", "2000000" (bit/s).
// Returns bit/s; zero is allowed (callers say what it means), negative values are an error.
Result<double> ParseBandwidth(const std::string& text);

}  // namespace seam::plan
