// Golden planner cases as text (src/plan/testdata/*.plan): a model as a small dataflow graph,
// tiers with per-node times, links, constraints, and the expected placement and figures.
//
//   input NAME BYTES
//   node NAME reads T1[,T2...] writes T:BYTES[:output][,T2:BYTES...] [params BYTES]
//   tier NAME [overhead MS] [memory BYTES] [boundary MS_PER_BYTE] [power COMPUTE,TRANSMIT,IDLE]
//        [price SECOND,GB] times NODE=MS ...
//   link A-B BANDWIDTH,RTT[,OVERHEAD]          (as seam plan --link)
//   objective latency|device-energy|cost
//   slo MS | keep-input-on-device
//   expect placement NODE=TIER ...
//   expect latency MS | expect objective VALUE | expect error SUBSTRING
// '#' starts a comment. Used by the golden test; the format is not a user-facing file.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "plan/planner.h"

namespace seam::plan {

struct PlanFixture {
  PlanRequest request;
  std::map<std::string, std::string> expected_placement;  // node -> tier
  double expected_latency_ms = -1;
  double expected_objective = -1;
  std::string expected_error;
};

Result<PlanFixture> ParsePlanFixture(const std::string& text);

}  // namespace seam::plan
