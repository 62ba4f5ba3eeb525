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

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "common/model_seal.h"
#include "common/status.h"
#include "common/tensor.h"
#include "oip/hop_client.h"
#include "oip/infer_codec.h"
#include "pipeline/stage_signature.h"
#include "pipeline/stage_spec.h"
#include "pipeline/trace.h"
#include "runtime/session.h"

namespace seam::pipeline {

struct StageOptions {
  // The next hop's options; its security's fields that are set take the place of the stage's
  // (NextHop::security), the others are the stage's.
  oip::HopOptions hop;
  // Forward tensors in the codec they arrived in without decoding them (see above). Off only to
  // measure what pass-through saves (bench/relay_bench).
  bool pass_through = true;
  // Emulates a slower, dedicated CPU for this tier (the device, in benchmarks and tests): each
  // run of the segment is stretched to `compute_stretch` times its measured time by waiting after
  // it. Steady, unlike a cgroup CPU quota on shared cores (101-240 ms for one plan in one run).
  double compute_stretch = 1;
  // When set, a stage is loaded only if one of these keys signed it (pipeline/stage_signature.h):
  // checked by whoever reads the stage file (the stage backend, the device's client).
  std::shared_ptr<const TrustedKeys> trusted_keys;
  // Keys that open sealed (encrypted) segments (common/model_seal.h); null: none.
  std::shared_ptr<const ModelKeys> model_keys;
};

// The emulation behind compute_stretch, for one workload (one session's runs): after a run that
// took `ms`, waits until it appears to have taken `factor` times the fastest this workload has
// been seen to run, and returns that time. The fastest, not this run's own time, because a
// dedicated CPU does not feel the host's load (stretching each measured time would multiply the
// host's noise by the factor). Thread-safe.
class ComputeStretch {
 public:
  explicit ComputeStretch(double factor = 1) : factor_(factor) {}
  double Apply(double ms);
  double factor() const { return factor_; }

 private:
  const double factor_;
  std::atomic<double> fastest_ms_{0};  // 0: no run yet
};

// The tensors of one request that stay coded through this tier.
struct CodedTensors {
  oip::CodedMap inputs;  // from below, kept coded (KeepsCodedInput); consumed by Run
  // The codecs the tier below asked its outputs in (non-identity), by name.
  std::map<std::string, std::string> output_codecs;
  oip::CodedMap outputs;  // filled by Run: outputs from above passed down as they came
};

// What one Run is given besides its inputs, and what it leaves behind when the tiers above fail.
struct RunContext {
  double decode_ms = 0;           // what the caller spent decoding the inputs
  CodedTensors* coded = nullptr;  // null: nothing stays coded
  // The caller's deadline: the segment does not start after it, and the next tier is given only
  // what is left of it (oip/deadline.h).
  oip::Deadline deadline;
  // When set and the call to the next tier fails, receives the tensors this tier computed (its
  // segment's outputs), so that the caller can finish the request another way (the device's
  // fallback), and `next_failed` becomes true.
  TensorMap* computed = nullptr;
  bool* next_failed = nullptr;
  // Set when this tier's caller cancelled (may be null): the segment does not start, and the call
  // to the next tier stops waiting (CANCELLED).
  const std::atomic<bool>* cancelled = nullptr;
};

// Opens one of a stage's segment files (its segment, the device's fallback): read once, checked
// against `sha256` (DATA_LOSS naming the stage), decrypted with `keys` when sealed, and the session
// made from those bytes with the stage's ORT settings.
Result<std::unique_ptr<runtime::Session>> OpenSegment(const std::string& directory,
                                                      const std::string& file,
                                                      const std::string& sha256,
                                                      const StageSpec& spec, const ModelKeys* keys);

class StageRunner {
 public:
  // Opens the segment (DIRECTORY/spec.segment_file, checked against its sha256) and prepares the
  // next hop (connected lazily). Errors name the file.
  static Result<std::unique_ptr<StageRunner>> Open(const StageSpec& spec,
                                                   const std::string& directory,
                                                   const StageOptions& options = {});

  // `inputs` holds every tensor of spec().inputs, decoded, except those in context.coded->inputs.
  // Returns every tensor of spec().outputs, except those in context.coded->outputs. `trace` (may
  // be null) receives this tier's entry first, then the link to the next tier and that tier's
  // trace. DEADLINE_EXCEEDED when the deadline passes before the segment or the next tier is done.
  Result<TensorMap> Run(const TensorMap& inputs, RequestTrace* trace,
                        const RunContext& context = {}) const;

  // Whether input `name`, arriving in `codec`, may stay coded: this tier's segment does not read
  // it, it is not returned below, and it goes up in that same codec.
  bool KeepsCodedInput(const std::string& name, const std::string& codec) const;

  const StageSpec& spec() const { return spec_; }
  oip::HopClient* hop() const { return hop_.get(); }
  const runtime::Session* session() const { return session_.get(); }

 private:
  StageRunner() = default;
  // Sends what the next tier needs, and puts what it answers into `made` (or coded->outputs).
  Status CallNext(const TensorMap& inputs, TensorMap& made, CodedTensors* coded,
                  const oip::Deadline& deadline, const std::atomic<bool>* cancelled,
                  TierTrace& mine, LinkTrace& link, RequestTrace& above) const;

  StageSpec spec_;
  bool pass_through_ = true;
  std::unique_ptr<ComputeStretch> stretch_;
  std::unique_ptr<runtime::Session> session_;  // null when the tier only relays
  std::unique_ptr<oip::HopClient> hop_;        // null on the last tier
};

}  // namespace seam::pipeline
