// StageRunner: executes one tier's stage (stage_spec.h) for one request at a time per caller:
//
//   inputs from below --> [segment on ONNX Runtime] --> encode what goes up --> next tier
//   outputs to below  <-------------------------- decode what comes down <------'
//
// The same runner serves the device (inside the client library) and every server tier (a model
// of platform "seam_stage" in a repository), so a request goes through identical code on each.
//
// Thread safety: Run may be called from any number of threads at once.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "common/tensor.h"
#include "pipeline/hop_client.h"
#include "pipeline/stage_spec.h"
#include "pipeline/trace.h"
#include "runtime/session.h"

namespace seam::pipeline {

class StageRunner {
 public:
  // Opens the segment (DIRECTORY/spec.segment_file, checked against its sha256) and prepares the
  // next hop (connected lazily). Errors name the file.
  static Result<std::unique_ptr<StageRunner>> Open(const StageSpec& spec,
                                                   const std::string& directory,
                                                   const HopOptions& hop_options = {});

  // `inputs` holds every tensor of spec().inputs, decoded. Returns every tensor of
  // spec().outputs. `trace` (may be null) receives this tier's entry first, then the link to the
  // next tier and that tier's trace. `decode_ms` is what the caller spent decoding `inputs`.
  Result<TensorMap> Run(const TensorMap& inputs, RequestTrace* trace, double decode_ms = 0) const;

  const StageSpec& spec() const { return spec_; }
  HopClient* hop() const { return hop_.get(); }
  const runtime::Session* session() const { return session_.get(); }

 private:
  StageRunner() = default;
  StageSpec spec_;
  std::unique_ptr<runtime::Session> session_;  // null when the tier only relays
  std::unique_ptr<HopClient> hop_;             // null on the last tier
};

}  // namespace seam::pipeline
