// StageRunner: executes one tier's stage (stage_spec.h) for one request at a time per caller:
//
//   inputs from below --> [segment on ONNX Runtime] --> encode what goes up --> next tier
//   outputs to below  <-------------------------- decode what comes down <------'
//
// The same runner serves the device (inside the client library) and every server tier (a model
// of platform "seam_stage" in a repository, pipeline/stage_backend.h), so a request goes through
// identical code on each.
//
// Pass-through: a tensor this tier only forwards, in the codec it arrived in, is not decoded and
// encoded again: it arrives coded (KeepsCodedInput, the server leaves it in the request's codec)
// and its bytes go into the next request untouched; likewise an output from above that the tier
// below wants in the codec it came down in.
//
// Thread safety: Run may be called from any number of threads at once.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/tensor.h"
#include "oip/hop_client.h"
#include "oip/infer_codec.h"
#include "pipeline/stage_spec.h"
#include "pipeline/trace.h"
#include "runtime/session.h"

namespace seam::pipeline {

struct StageOptions {
  oip::HopOptions hop;
  // Forward tensors in the codec they arrived in without decoding them (see above). Off only to
  // measure what pass-through saves (bench/relay_bench).
  bool pass_through = true;
};

// The tensors of one request that stay coded through this tier.
struct CodedTensors {
  oip::CodedMap inputs;  // from below, kept coded (KeepsCodedInput); consumed by Run
  // The codecs the tier below asked its outputs in (non-identity), by name.
  std::map<std::string, std::string> output_codecs;
  oip::CodedMap outputs;  // filled by Run: outputs from above passed down as they came
};

class StageRunner {
 public:
  // Opens the segment (DIRECTORY/spec.segment_file, checked against its sha256) and prepares the
  // next hop (connected lazily). Errors name the file.
  static Result<std::unique_ptr<StageRunner>> Open(const StageSpec& spec,
                                                   const std::string& directory,
                                                   const StageOptions& options = {});

  // `inputs` holds every tensor of spec().inputs, decoded, except those in coded->inputs.
  // Returns every tensor of spec().outputs, except those in coded->outputs. `coded` may be null
  // (nothing stays coded). `trace` (may be null) receives this tier's entry first, then the link
  // to the next tier and that tier's trace. `decode_ms` is what the caller spent decoding.
  Result<TensorMap> Run(const TensorMap& inputs, RequestTrace* trace, double decode_ms = 0,
                        CodedTensors* coded = nullptr) const;

  // Whether input `name`, arriving in `codec`, may stay coded: this tier's segment does not read
  // it, it is not returned below, and it goes up in that same codec.
  bool KeepsCodedInput(const std::string& name, const std::string& codec) const;

  const StageSpec& spec() const { return spec_; }
  oip::HopClient* hop() const { return hop_.get(); }
  const runtime::Session* session() const { return session_.get(); }

 private:
  StageRunner() = default;
  // Sends what the next tier needs, and puts what it answers into `made` (or coded->outputs).
  Status CallNext(const TensorMap& inputs, TensorMap& made, CodedTensors* coded, TierTrace& mine,
                  LinkTrace& link, RequestTrace& above) const;

  StageSpec spec_;
  bool pass_through_ = true;
  std::unique_ptr<runtime::Session> session_;  // null when the tier only relays
  std::unique_ptr<oip::HopClient> hop_;        // null on the last tier
};

}  // namespace seam::pipeline
