// BatchingScheduler: the server's InferenceScheduler. A job of a model version whose config has
// `dynamic_batching` goes to that version's DynamicBatcher (src/server/batching/), which merges
// queued jobs of equal shapes (except the batch dimension) into one ModelVersion::Run and splits
// the outputs back; every other job goes to a DirectScheduler (one job per run).
//
// A version's batcher: created on the version's first job, with the config's knobs
// (max_batch_size, preferred_batch_size, max_queue_delay_us, max_queue_size) and instance_count
// workers, each running at most one batch at a time on the version's least busy instance. A
// max_queue_size of 0 takes the server's `max_queue`, so that memory stays bounded under overload
// on every path; a full queue answers UNAVAILABLE at once.
//
// Lifetimes: Retire(version), called once the repository stops routing to the version, drains
// its batcher (the jobs queued there run at once, without waiting for batching delays) and
// destroys it. A job for a retired version that still arrives (its request found the version
// just before the switch) runs on the direct path. Neither the batchers nor their workers keep a
// version alive: each queued job holds its own version.
//
// Every job given to Submit gets exactly one done call, and one ServerObserver::OnRequest before
// it (server_observer.h); every execution one OnBatch. Batches are also logged at debug level:
// `event=batch model=cnn version=1 rows=8 requests=8 compute_us=912 ok=true`.
//
// Thread safety: every method is thread-safe. Submit never blocks on model execution; Retire and
// Drain block until the jobs they drain are answered. The destructor drains.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "server/batching/dynamic_batcher.h"
#include "server/direct_scheduler.h"
#include "server/scheduler.h"
#include "server/server_observer.h"

namespace seam::server {

struct BatchingSchedulerOptions {
  int threads = 1;          // direct-path workers (--infer-threads)
  size_t max_queue = 1024;  // direct-path queue bound; a batcher's when max_queue_size is 0
  // Workers for backends that mostly wait on other servers (Backend::WaitsOnPeers: stages of
  // deployed plans), so that a slow next tier never holds up the workers of the models this
  // server computes.
  int stage_threads = 32;
  ServerObserver* observer = nullptr;  // optional; must outlive the scheduler
};

class BatchingScheduler final : public InferenceScheduler {
 public:
  explicit BatchingScheduler(const BatchingSchedulerOptions& options);
  ~BatchingScheduler() override;
  BatchingScheduler(const BatchingScheduler&) = delete;
  BatchingScheduler& operator=(const BatchingScheduler&) = delete;

  void Submit(InferJob job) override;
  // Stops accepting (UNAVAILABLE), drains every batcher and the direct path.
  void Drain() override;

  // The repository no longer routes to `version` (ModelRepository's RetiredCallback): drains and
  // destroys its batcher, if it has one. Later jobs for it take the direct path.
  void Retire(const std::shared_ptr<const ModelVersion>& version);

  // Batchers alive now (one per batching version that received a job and is not retired).
  size_t batcher_count() const;

 private:
  using VersionKey = std::weak_ptr<const ModelVersion>;
  // nullptr: the version is retired (or its batcher could not be made): the direct path.
  using BatcherMap =
      std::map<VersionKey, std::unique_ptr<batching::DynamicBatcher>, std::owner_less<>>;

  enum class Route { kQueued, kRefused, kDirect, kNoBatcher };
  // Where `job` goes, queueing it when its batcher exists. kRefused: *refused says why, and the
  // caller answers the job (without the lock). Caller holds mu_ (shared is enough).
  Route Place(InferJob& job, Status* refused);
  // Queues `job` on `batcher`; on refusal the job keeps its done and the caller answers it.
  Status Enqueue(batching::DynamicBatcher& batcher, InferJob& job);
  std::unique_ptr<batching::DynamicBatcher> MakeBatcher(
      const std::shared_ptr<const ModelVersion>& version) const;
  void Refuse(InferJob& job, const Status& status) const;
  // Takes the batchers of versions nobody holds any more out of the map. Caller holds mu_.
  std::vector<std::unique_ptr<batching::DynamicBatcher>> TakeExpired();

  const BatchingSchedulerOptions options_;
  DirectScheduler direct_;
  DirectScheduler stages_;

  mutable std::shared_mutex mu_;  // exclusive: map changes; shared: submitting to a batcher
  BatcherMap batchers_;           // guarded by mu_
  bool draining_ = false;         // guarded by mu_
  std::mutex drain_mu_;           // one Drain at a time, so that each returns drained
};

}  // namespace seam::server
