// The server backend of platform "seam_stage" (server/backend.h): a tier's stage of a deployed
// plan, REPO/MODEL/VERSION/stage.json and the segment beside it, run by a StageRunner. Its runs
// mostly wait for the next tier, so the server gives them their own worker pool; tensors the
// tier only forwards stay coded (StageRunner's pass-through); the request's trace goes back in
// the answer's "seam_trace" parameter, this tier's entry counting the server's decode and encode.
#pragma once

#include "pipeline/stage_runner.h"

namespace seam::pipeline {

// Makes every seam server in this process serve platform "seam_stage". Call before the server
// loads its repository (the seam executable does, in `seam serve`).
void RegisterStageBackend(const StageOptions& options = {});

}  // namespace seam::pipeline
