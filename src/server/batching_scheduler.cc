#include "server/batching_scheduler.h"

#include <chrono>
#include <utility>

#include "server/log.h"

namespace seam::server {
namespace {

using batching::DynamicBatcher;

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// What a queued job keeps for its answer. Shared between the batcher's callback and Submit, which
// answers the job itself when the batcher refuses it.
struct QueuedJob {
  std::shared_ptr<const ModelVersion> model;
  std::function<void(Result<TensorMap>)> done;
  int64_t before_queue_us = 0;  // accepted -> handed to the batcher (decoding, validation)
};

}  // namespace

BatchingScheduler::BatchingScheduler(const BatchingSchedulerOptions& options)
    : options_(options),
      direct_(options.threads, options.max_queue, options.observer),
      stages_(options.stage_threads, options.max_queue, options.observer) {}

BatchingScheduler::~BatchingScheduler() { Drain(); }

void BatchingScheduler::Refuse(InferJob& job, const Status& status) const {
  Notify(options_.observer, [&](ServerObserver& o) {
    o.OnRequest(job.model->model_name(), job.model->version(), false, 0, 0);
  });
  job.done(status);
}

Status BatchingScheduler::Enqueue(DynamicBatcher& batcher, InferJob& job) {
  auto queued = std::make_shared<QueuedJob>();
  queued->model = job.model;
  queued->done = std::move(job.done);
  queued->before_queue_us = MicrosSince(job.accepted);
  // The batcher's clock is batching::SteadyNowUs: microseconds of the steady clock.
  int64_t deadline_us = 0;
  if (job.context && job.context->deadline) {
    deadline_us = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::microseconds>(
                                           job.context->deadline->time_since_epoch())
                                           .count());
  }
  Status accepted = batcher.Submit(
      std::move(job.inputs),
      [queued, observer = options_.observer](Result<TensorMap> outputs,
                                             const batching::RequestStats& stats) {
        // Dropped unrun by the batcher (it never joined a batch): its deadline passed.
        const bool dropped = !outputs.ok() &&
                             outputs.status().code() == StatusCode::kDeadlineExceeded &&
                             stats.batch_requests == 0;
        Notify(observer, [&](ServerObserver& o) {
          if (dropped) o.OnDropped(queued->model->model_name(), queued->model->version(), false);
          o.OnRequest(queued->model->model_name(), queued->model->version(), outputs.ok(),
                      queued->before_queue_us + stats.queue_us, stats.compute_us);
        });
        queued->done(std::move(outputs));
      },
      deadline_us);
  // Refused: the batcher dropped its callback; the job's answer is still ours to give.
  if (!accepted.ok()) job.done = std::move(queued->done);
  return accepted;
}

BatchingScheduler::Route BatchingScheduler::Place(InferJob& job, Status* refused) {
  if (draining_) {
    *refused = Unavailable("the server is shutting down");
    return Route::kRefused;
  }
  auto it = batchers_.find(job.model);
  if (it == batchers_.end()) return Route::kNoBatcher;
  if (!it->second) return Route::kDirect;
  *refused = Enqueue(*it->second, job);
  return refused->ok() ? Route::kQueued : Route::kRefused;
}

void BatchingScheduler::Submit(InferJob job) {
  if (job.model->backend().WaitsOnPeers()) return stages_.Submit(std::move(job));
  if (!job.model->config().dynamic_batching) return direct_.Submit(std::move(job));
  Status refused;
  Route route;
  {
    // The common case: the version's batcher exists. Submitting under the shared lock keeps
    // Retire and Drain from destroying it meanwhile; DynamicBatcher::Submit never blocks.
    std::shared_lock lock(mu_);
    route = Place(job, &refused);
  }
  if (route == Route::kNoBatcher) {
    // The version's first job (once per loaded version): make its batcher.
    std::unique_lock lock(mu_);
    if (!draining_ && !batchers_.contains(job.model)) {
      batchers_.emplace(job.model, MakeBatcher(job.model));
    }
    route = Place(job, &refused);
  }
  // Answers go out without the lock.
  if (route == Route::kDirect) return direct_.Submit(std::move(job));
  if (route == Route::kRefused) Refuse(job, refused);
}

std::unique_ptr<DynamicBatcher> BatchingScheduler::MakeBatcher(
    const std::shared_ptr<const ModelVersion>& version) const {
  const repository::ModelConfig& config = version->config();
  const repository::DynamicBatchingConfig& knobs = *config.dynamic_batching;
  batching::BatcherConfig batcher;
  batcher.batching.model = version->model_name();
  batcher.batching.max_batch_size = config.max_batch_size;
  batcher.batching.preferred_batch_sizes.assign(knobs.preferred_batch_size.begin(),
                                                knobs.preferred_batch_size.end());
  batcher.batching.max_queue_delay_us = knobs.max_queue_delay_us;
  batcher.batching.max_queue_size =
      knobs.max_queue_size > 0 ? knobs.max_queue_size : static_cast<int64_t>(options_.max_queue);
  batcher.instances = version->instance_count();
  batcher.on_batch = [observer = options_.observer, name = version->model_name(),
                      number = version->version()](const batching::BatchRecord& batch) {
    const auto requests = static_cast<int64_t>(batch.queue_us.size());
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("event=batch model={} version={} rows={} requests={} compute_us={} ok={}",
                    LogValue(name), number, batch.rows, requests, batch.compute_us, batch.ok);
    }
    Notify(observer, [&](ServerObserver& o) { o.OnBatch(name, number, batch.rows, requests); });
  };
  // The workers must not keep the version alive; while a batch runs, its jobs do.
  auto executor = [weak = std::weak_ptr<const ModelVersion>(version)](
                      const TensorMap& merged) -> Result<TensorMap> {
    std::shared_ptr<const ModelVersion> model = weak.lock();
    if (!model) return Internal("the model version was unloaded before its batch ran");
    return model->Run(merged);
  };
  auto made = DynamicBatcher::Create(std::move(batcher), std::move(executor));
  if (!made.ok()) {
    // The config was validated when loaded, so this is a bug; serving unbatched beats failing.
    spdlog::error("event=batcher_failed model={} version={} error={}",
                  LogValue(version->model_name()), version->version(),
                  LogValue(made.status().ToString()));
    return nullptr;
  }
  spdlog::info("event=batcher_started model={} version={} max_batch_size={} instances={}",
               LogValue(version->model_name()), version->version(), config.max_batch_size,
               version->instance_count());
  return std::move(made).value();
}

std::vector<std::unique_ptr<DynamicBatcher>> BatchingScheduler::TakeExpired() {
  std::vector<std::unique_ptr<DynamicBatcher>> expired;
  for (auto it = batchers_.begin(); it != batchers_.end();) {
    if (!it->first.expired()) {
      ++it;
      continue;
    }
    if (it->second) expired.push_back(std::move(it->second));
    it = batchers_.erase(it);
  }
  return expired;
}

void BatchingScheduler::Retire(const std::shared_ptr<const ModelVersion>& version) {
  if (!version || !version->config().dynamic_batching) return;
  std::unique_ptr<DynamicBatcher> batcher;
  std::vector<std::unique_ptr<DynamicBatcher>> expired;
  {
    std::unique_lock lock(mu_);
    // Versions gone for good cannot get jobs any more: their entries (and idle batchers) go.
    expired = TakeExpired();
    // The entry stays, empty, while the version lives: late jobs for it then take the direct
    // path instead of starting a new batcher.
    batcher = std::move(batchers_[version]);
  }
  if (batcher) {
    const auto start = std::chrono::steady_clock::now();
    batcher->Shutdown();  // runs what is queued now, without batching delays
    const batching::BatcherCounters counters = batcher->counters();
    spdlog::info("event=batcher_drained model={} version={} requests={} batches={} drain_us={}",
                 LogValue(version->model_name()), version->version(), counters.completed,
                 counters.batches, MicrosSince(start));
  }
  for (auto& idle : expired) idle->Shutdown();
}

void BatchingScheduler::Drain() {
  std::lock_guard drain(drain_mu_);
  BatcherMap batchers;
  {
    std::unique_lock lock(mu_);
    draining_ = true;
    batchers.swap(batchers_);
  }
  // Each Shutdown flushes its own queue; the others keep running theirs meanwhile.
  for (auto& [version, batcher] : batchers) {
    if (batcher) batcher->Shutdown();
  }
  direct_.Drain();
  stages_.Drain();
}

size_t BatchingScheduler::batcher_count() const {
  std::shared_lock lock(mu_);
  size_t count = 0;
  for (const auto& [version, batcher] : batchers_) count += batcher != nullptr;
  return count;
}

}  // namespace seam::server
