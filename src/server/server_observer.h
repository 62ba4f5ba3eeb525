// ServerObserver: what the schedulers report about the inferences they run, for metrics
// (Prometheus counters and histograms per model and version) and tests. The schedulers call it;
// an implementation only records.
//
// Contract:
// - OnRequest is called exactly once per job a scheduler was given (InferJob), just before the
//   job's done callback, so a client that has its answer finds it counted. Jobs the scheduler
//   refused (full queue, shutting down) are reported with ok = false and zero times. Requests
//   refused before they reach a scheduler (unknown model, INVALID_ARGUMENT from validation) are
//   not reported here: the front end sees those.
// - OnBatch is called once per model execution, before the OnRequest calls of the jobs it served:
//   a merged batch of the dynamic batcher, or one job on the direct path.
// - Both are called from many threads at once (gRPC threads, scheduler workers), without any
//   scheduler lock held. They must be thread-safe, must not block, and must not throw (a throw is
//   swallowed, so metrics never cost a request its answer).
// - Units: microseconds on the steady clock; rows count dim 0 of a batching model's inputs (1 per
//   request for a model with max_batch_size 0).
#pragma once

#include <cstdint>
#include <string>

namespace seam::server {

class ServerObserver {
 public:
  virtual ~ServerObserver() = default;

  // One job answered. queue_us: from acceptance (InferJob::accepted, before decoding) to the start
  // of the execution that served it. compute_us: that execution, merge and split included (for a
  // batch, the whole batch's time, shared by its requests).
  virtual void OnRequest(const std::string& model, int64_t version, bool ok, int64_t queue_us,
                         int64_t compute_us) = 0;

  // One execution of `rows` rows on behalf of `requests` jobs (1 on the direct path).
  virtual void OnBatch(const std::string& model, int64_t version, int64_t rows,
                       int64_t requests) = 0;

  // A job dropped unrun because its deadline passed (or, `cancelled`, its caller gave up) while
  // it waited; reported just before that job's OnRequest (ok = false).
  virtual void OnDropped(const std::string& /*model*/, int64_t /*version*/, bool /*cancelled*/) {}
};

// For the schedulers: call `observer` (may be null), swallowing what it throws.
template <typename Call>
void Notify(ServerObserver* observer, Call&& call) noexcept {
  if (observer == nullptr) return;
  try {
    call(*observer);
  } catch (...) {
    // Metrics must not cost a request its answer.
  }
}

}  // namespace seam::server
