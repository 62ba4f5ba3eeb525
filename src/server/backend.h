// Backend: how the server runs one platform's models (Triton's backend idea). The server decodes
// and validates requests, schedules and batches them, encodes answers; a backend only runs a
// loaded version on tensors. Two are built in or registered today:
//   - "onnxruntime_onnx" (server/ort_backend.h): ONNX Runtime sessions over model.onnx;
//   - "seam_stage" (pipeline/stage_backend.h, registered by whoever links the pipeline, e.g. the
//     seam executable): a tier's stage of a deployed plan, which runs its segment and forwards the
//     rest of the request to the next tier.
// The dependency runs one way: backends include this header; the server includes no backend but
// its own ONNX Runtime one.
//
// Thread safety: a Backend's const methods may be called from any number of threads at once.
// The registry is process-wide and thread-safe; registering twice replaces the factory.
#pragma once

#include <inference.pb.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "oip/deadline.h"
#include "oip/infer_codec.h"
#include "repository/model_config.h"

namespace seam::server {

// What the server and the backend know about one request besides its tensors. Created when the
// request is accepted, it lives until its answer is written.
struct RequestContext {
  std::string request_id;  // the client's, or one the server made up
  std::chrono::steady_clock::time_point accepted;
  // When the caller stops waiting: the request's timeout parameter or the call's gRPC deadline,
  // whichever is earlier (oip/deadline.h). A backend that calls further servers gives them only
  // what is left.
  oip::Deadline deadline;
  // Set when the caller cancelled the call (or its stream) while the request was in the server.
  std::shared_ptr<const std::atomic<bool>> cancelled;
  double decode_ms = 0;  // time the server spent decoding the inputs
  // Codecs the caller asked for outputs (non-identity only), by output name.
  std::map<std::string, std::string> output_codecs;
  // Inputs left in the codec they arrived in (Backend::KeepsCoded), and outputs a backend passes
  // back coded; the server writes the latter's bytes into the answer untouched when the caller
  // asked for that codec (oip/infer_codec.h).
  oip::CodedMap coded_inputs;
  oip::CodedMap coded_outputs;

  // Set by a backend that has more to say once the answer is encoded (a stage's trace): called
  // with the time spent encoding and the time since acceptance, it may add response parameters.
  std::function<void(double encode_ms, double total_ms, inference::ModelInferResponse* response)>
      finish;

  // OK while the caller still wants the answer at `now`; otherwise DEADLINE_EXCEEDED or CANCELLED
  // saying how long the request had been in the server. Schedulers ask this before running.
  Status StillWanted(std::chrono::steady_clock::time_point now) const;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The model's own signature; the config refines it (server/model_metadata.h).
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;

  // Runs once on `inputs` (validated against the metadata; for a batcher, a merged batch, and
  // then `context` is null). Returns every output not in context->coded_outputs. Blocks the
  // calling thread.
  virtual Result<TensorMap> Run(const TensorMap& inputs, RequestContext* context) const = 0;

  // Whether the server may leave input `name`, arriving in `codec` (not identity), coded: the
  // backend then finds it in RequestContext::coded_inputs. Only for tensors it forwards unread.
  virtual bool KeepsCoded(const std::string& /*name*/, const std::string& /*codec*/) const {
    return false;
  }

  // True for a backend whose runs mostly wait on other servers (a stage): its requests get a
  // worker pool of their own so that a slow peer never holds up the models this server computes.
  virtual bool WaitsOnPeers() const { return false; }

  // Whether the loaded version can serve now: OK, or why not (a stage whose next tier is known to
  // be unreachable). Readiness (ModelReady, /v2/models/NAME/ready) reports it.
  virtual Status Health() const { return Status::Ok(); }

  // Files besides the version's own that the backend read, each with the sha256 it checked it
  // against (a stage's segment): an explicit load verifies them again (ModelVersion::Verify).
  struct CheckedFile {
    std::string path;
    std::string sha256;
  };
  virtual std::vector<CheckedFile> CheckedFiles() const { return {}; }

  // Sessions the backend runs on (repository::ModelConfig::instance_count for ONNX Runtime).
  virtual int instance_count() const { return 1; }
};

// One version's file as the server read it, which is what a backend opens: never the file read
// again (it may have changed since it was checked).
struct VersionFile {
  std::string path;  // REPO/MODEL/VERSION/<repository::VersionFileName(platform)>, for messages
  // Its bytes: checked against the config's sha256 when it gives one, decrypted when the file was
  // sealed (common/model_seal.h). The server wipes them once the backend is open.
  std::string contents;
};

// Opens a backend for one version. Errors name the file.
using BackendFactory = std::function<Result<std::unique_ptr<Backend>>(
    const VersionFile& file, const repository::ModelConfig&)>;

// Makes `factory` serve `platform` (one of model_config.h's platforms) in this process.
void RegisterBackend(const std::string& platform, BackendFactory factory);

// FAILED_PRECONDITION naming the platform when no backend serves it in this process.
Result<std::unique_ptr<Backend>> OpenBackend(const VersionFile& file,
                                             const repository::ModelConfig& config);

}  // namespace seam::server
