// DynamicBatcher: the threads around DecideBatch for one model version. Requests queue here;
// `instances` worker threads (one per model instance) repeatedly take a snapshot of the queue,
// ask DecideBatch what to do, and either sleep until its deadline or merge the chosen requests,
// run them through the Executor as one batch, split the outputs and complete each request.
//
// Contract:
// - Every request that Submit accepts completes exactly once, errors included: an executor error
//   (or an exception it throws, or outputs that do not carry the batch) completes every request
//   of that batch with that error. A rejected request is never completed (Submit said why).
// - Shutdown() (and the destructor) stops admitting (UNAVAILABLE), runs everything already queued
//   without waiting for batching delays, and joins the workers.
// - Thread safety: Submit, counters and Shutdown may be called from any thread at once.
//   Callbacks, the executor and the on_batch observer run on worker threads without the queue
//   lock held; they must not block on the batcher's own completions or call Shutdown.
// - Units: times are microseconds from the injected Clock; batch sizes count rows of dim 0.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "server/batching/batch_policy.h"

namespace seam::batching {

// Microseconds on a monotonic timeline. Injected so that tests can drive time.
using Clock = std::function<int64_t()>;
// std::chrono::steady_clock in microseconds: the clock servers use.
int64_t SteadyNowUs();

// Runs one merged batch (or one request, when batching is disabled) and returns every output.
// Called concurrently from up to `instances` threads; `merged` is valid only during the call.
using Executor = std::function<Result<TensorMap>(const TensorMap& merged)>;

// What one request went through, for logs and per-request metrics.
struct RequestStats {
  int64_t queue_us = 0;        // admitted -> taken from the queue by a worker
  int64_t compute_us = 0;      // taken -> outputs split: merge + executor + split of its batch
  int64_t batch_rows = 0;      // rows of its batch; counts 1 per request when disabled
  int64_t batch_requests = 0;  // requests in that batch
};

// Called exactly once per accepted request, on a worker thread. Owns `outputs`.
using Callback = std::function<void(Result<TensorMap> outputs, const RequestStats& stats)>;

// One executed batch, for metrics (histogram of batch sizes, queue and compute times). Reported
// before the batch's requests are completed, so a client that has its answer sees it counted.
struct BatchRecord {
  int64_t rows = 0;                   // sum of the batch sizes (1 each when disabled)
  std::span<const int64_t> queue_us;  // per request, valid only during the call
  int64_t compute_us = 0;             // merge + executor + split, once for the whole batch
  bool ok = true;                     // false: every request of the batch got an error
};

struct BatcherConfig {
  BatchConfig batching;
  int instances = 1;  // worker threads, each running at most one batch at a time
  std::function<void(const BatchRecord&)> on_batch;  // optional; must be thread-safe
};

// Cumulative, monotonic counts since Create (queued is the current depth).
struct BatcherCounters {
  uint64_t accepted = 0;
  uint64_t rejected = 0;   // not admitted: full queue, bad batch size, shutting down
  uint64_t completed = 0;  // callbacks made, successful or not
  uint64_t failed = 0;     // of which with an error
  uint64_t batches = 0;    // executor runs
  uint64_t queued = 0;
};

class DynamicBatcher {
 public:
  // Validates the config (normalising preferred sizes) and starts the workers.
  static Result<std::unique_ptr<DynamicBatcher>> Create(BatcherConfig config, Executor executor,
                                                        Clock clock = SteadyNowUs);
  ~DynamicBatcher();  // Shutdown()
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues a request; takes ownership of `inputs`. OK: `done` will be called exactly once.
  // Otherwise `done` is never called: INVALID_ARGUMENT for inputs without a common batch dim or a
  // batch size outside [1, max_batch_size], UNAVAILABLE for a full queue or a shutdown.
  // `deadline_us` (on the batcher's clock; 0: none): a request still queued then is completed
  // DEADLINE_EXCEEDED and never merged into a batch.
  Status Submit(TensorMap inputs, Callback done, int64_t deadline_us = 0);
  // The same, with both a rejection and the completion delivered through the future.
  std::future<Result<TensorMap>> Submit(TensorMap inputs);

  // Idempotent; returns once every accepted request has completed and the workers have exited.
  void Shutdown();

  BatcherCounters counters() const;
  const BatcherConfig& config() const { return config_; }

 private:
  struct Queued {
    TensorMap inputs;
    Callback done;
    int64_t deadline_us = 0;
  };
  struct Taken;

  DynamicBatcher(BatcherConfig config, Executor executor, Clock clock);
  void WorkerLoop();
  void RunBatch(Taken& batch);
  // Removes the queued requests for which take(index) is true (called once per index, in queue
  // order), keeping the others' order; moves them to *taken when given. Caller holds mu_.
  template <typename Take>
  void RemoveWhere(Take take, std::vector<Queued>* taken = nullptr);
  // Removes the queued requests whose deadline is <= now (caller holds mu_), and the earliest
  // deadline left (0: none) in *next_deadline_us.
  std::vector<Queued> TakeExpired(int64_t now, int64_t* next_deadline_us);
  Result<std::vector<TensorMap>> Execute(Taken& batch);

  const BatcherConfig config_;
  const Executor executor_;
  const Clock clock_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  // The queue as two parallel vectors: `pending_` is exactly what DecideBatch reads (no copy per
  // decision), `queued_` holds the payloads. Both in admission order.
  std::vector<PendingRequest> pending_;
  std::vector<Queued> queued_;
  size_t with_deadline_ = 0;  // queued requests that have a deadline: none, nothing to sweep
  bool stopping_ = false;
  // Run times and arrival gaps, for the decision (guarded by mu_).
  BatchEstimates estimates_;

  std::mutex join_mu_;
  std::vector<std::thread> workers_;

  std::atomic<uint64_t> accepted_{0}, rejected_{0}, completed_{0}, failed_{0}, batches_{0};
};

}  // namespace seam::batching
