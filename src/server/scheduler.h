// InferenceScheduler: where validated inference requests go to be executed. This is the seam
// between the protocol side (gRPC now, HTTP later: decode, validate, encode) and the execution
// side (which request runs when, on which session, merged with which others).
//
//   InferHandler --Submit(InferJob)--> InferenceScheduler --> ModelVersion::Run
//        ^-------- job.done(Result<TensorMap>) --------------------'
//
// Implementations:
//   - DirectScheduler (direct_scheduler.h): a bounded queue and a worker pool; each job runs
//     alone on one of its model version's instances.
//   - BatchingScheduler (batching_scheduler.h), the server's: a dynamic batcher
//     (src/server/batching/) per model version with dynamic_batching, which merges queued jobs
//     whose inputs agree except in the batch dimension into one ModelVersion::Run, splits the
//     outputs back, and calls each job's done with its own slice; other jobs go to a
//     DirectScheduler.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/tensor.h"
#include "server/model_version.h"

namespace seam::server {

struct InferJob {
  // The version to run; holding it keeps its sessions open until the job is done.
  std::shared_ptr<const ModelVersion> model;
  // Every input of the model, validated against model->metadata(): names, dtypes, shapes (and,
  // when max_batch_size > 0, one batch size in [1, max_batch_size] shared by all inputs).
  TensorMap inputs;
  // For logs and traces: the request's id, or one the server made up.
  std::string request_id;
  // When the request was accepted (steady clock): queue time = start of execution - this.
  std::chrono::steady_clock::time_point accepted;
  // What the backend may need besides the inputs (server/backend.h): request id, codecs, coded
  // inputs and outputs, what to add to the answer. Null for jobs made without a request.
  std::shared_ptr<RequestContext> context;
  // Called exactly once, from any thread (possibly inside Submit, e.g. UNAVAILABLE when the queue
  // is full), with every output of the model for this job's inputs, or the error. It must not
  // block; callers must not hold locks that it takes when calling Submit.
  std::function<void(Result<TensorMap>)> done;
};

class InferenceScheduler {
 public:
  virtual ~InferenceScheduler() = default;

  // Takes the job; never blocks on model execution. Thread-safe.
  virtual void Submit(InferJob job) = 0;

  // Stops accepting (a later Submit is answered UNAVAILABLE), finishes every job already
  // accepted, and returns when their done callbacks have returned. Idempotent; thread-safe.
  virtual void Drain() = 0;
};

}  // namespace seam::server
