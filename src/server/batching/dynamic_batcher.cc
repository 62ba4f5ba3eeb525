#include "server/batching/dynamic_batcher.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "server/batching/tensor_batch.h"

namespace seam::batching {
namespace {

// A sleep longer than this is cut short and the decision re-taken: it keeps wait_for's
// conversion to a time point far from overflow when max_queue_delay_us is huge.
constexpr int64_t kMaxSleepUs = int64_t{3600} * 1000 * 1000;

std::string ModelName(const BatchConfig& config) {
  return config.model.empty() ? std::string("model") : "model '" + config.model + "'";
}

}  // namespace

// Requests taken off the queue for one run, with what the policy knew about them.
struct DynamicBatcher::Taken {
  std::vector<Queued> requests;
  std::vector<int64_t> rows;      // per request
  std::vector<int64_t> queue_us;  // per request
};

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<DynamicBatcher>> DynamicBatcher::Create(BatcherConfig config,
                                                               Executor executor, Clock clock) {
  NormalizeBatchConfig(&config.batching);
  SEAM_RETURN_IF_ERROR(ValidateBatchConfig(config.batching));
  const std::string where = ModelName(config.batching) + ": ";
  if (config.instances < 1) {
    return InvalidArgument(where + "instances must be >= 1, got " +
                           std::to_string(config.instances));
  }
  if (!executor) return InvalidArgument(where + "no executor");
  if (!clock) return InvalidArgument(where + "no clock");
  std::unique_ptr<DynamicBatcher> batcher(
      new DynamicBatcher(std::move(config), std::move(executor), std::move(clock)));
  for (int i = 0; i < batcher->config_.instances; ++i) {
    batcher->workers_.emplace_back([b = batcher.get()] { b->WorkerLoop(); });
  }
  return batcher;
}

DynamicBatcher::DynamicBatcher(BatcherConfig config, Executor executor, Clock clock)
    : config_(std::move(config)),
      executor_(std::move(executor)),
      clock_(std::move(clock)),
      estimates_(config_.batching.max_batch_size) {}

DynamicBatcher::~DynamicBatcher() { Shutdown(); }

Status DynamicBatcher::Submit(TensorMap inputs, Callback done, int64_t deadline_us) {
  PendingRequest request;
  if (config_.batching.max_batch_size > 0) {
    Result<int64_t> rows = BatchSizeOf(inputs);
    if (!rows.ok()) {
      ++rejected_;
      return rows.status().WithContext(ModelName(config_.batching));
    }
    request.batch_size = *rows;
    request.shape_key = ShapeKey(inputs);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ++rejected_;
      return Unavailable(ModelName(config_.batching) + " is shutting down");
    }
    // Stamped under the lock, so admission order is arrival order.
    request.arrival_us = clock_();
    Status admitted =
        Admit(config_.batching, QueueSnapshot{.requests = pending_, .now_us = request.arrival_us},
              request);
    if (!admitted.ok()) {
      ++rejected_;
      return admitted;
    }
    estimates_.ObserveArrival(request.arrival_us);
    pending_.push_back(std::move(request));
    queued_.push_back(Queued{std::move(inputs), std::move(done), deadline_us});
    if (deadline_us > 0) ++with_deadline_;
    ++accepted_;
  }
  wake_.notify_one();
  return Status::Ok();
}

std::future<Result<TensorMap>> DynamicBatcher::Submit(TensorMap inputs) {
  auto promise = std::make_shared<std::promise<Result<TensorMap>>>();
  std::future<Result<TensorMap>> future = promise->get_future();
  Status accepted =
      Submit(std::move(inputs), [promise](Result<TensorMap> outputs, const RequestStats&) {
        promise->set_value(std::move(outputs));
      });
  if (!accepted.ok()) promise->set_value(Result<TensorMap>(std::move(accepted)));
  return future;
}

void DynamicBatcher::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  std::lock_guard<std::mutex> join_lock(join_mu_);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

BatcherCounters DynamicBatcher::counters() const {
  BatcherCounters c;
  c.accepted = accepted_.load();
  c.rejected = rejected_.load();
  c.completed = completed_.load();
  c.failed = failed_.load();
  c.batches = batches_.load();
  std::lock_guard<std::mutex> lock(mu_);
  c.queued = pending_.size();
  return c;
}

template <typename Take>
void DynamicBatcher::RemoveWhere(Take take, std::vector<Queued>* taken) {
  size_t kept = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (take(i)) {
      if (queued_[i].deadline_us > 0) --with_deadline_;
      if (taken) taken->push_back(std::move(queued_[i]));
      continue;
    }
    if (kept != i) {
      pending_[kept] = std::move(pending_[i]);
      queued_[kept] = std::move(queued_[i]);
    }
    ++kept;
  }
  pending_.resize(kept);
  queued_.resize(kept);
}

std::vector<DynamicBatcher::Queued> DynamicBatcher::TakeExpired(int64_t now,
                                                                int64_t* next_deadline_us) {
  std::vector<Queued> expired;
  *next_deadline_us = 0;
  if (with_deadline_ == 0) return expired;  // the common case: no request carries a deadline
  RemoveWhere(
      [&](size_t i) {
        const int64_t deadline = queued_[i].deadline_us;
        if (deadline > 0 && deadline <= now) return true;
        if (deadline > 0 && (*next_deadline_us == 0 || deadline < *next_deadline_us)) {
          *next_deadline_us = deadline;
        }
        return false;
      },
      &expired);
  return expired;
}

void DynamicBatcher::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const int64_t now = clock_();
    int64_t next_deadline_us = 0;
    if (std::vector<Queued> expired = TakeExpired(now, &next_deadline_us); !expired.empty()) {
      lock.unlock();
      for (Queued& q : expired) {
        ++completed_;
        ++failed_;
        try {
          q.done(DeadlineExceeded(ModelName(config_.batching) +
                                  ": the request's deadline passed while it was queued; dropped "
                                  "unrun"),
                 RequestStats{});
        } catch (...) {
          // As in RunBatch: a throwing callback must not take the worker down.
        }
      }
      lock.lock();
      continue;
    }
    BatchAction action = DecideBatch(
        config_.batching, QueueSnapshot{.requests = pending_,
                                        .now_us = now,
                                        .flush = stopping_,
                                        .cost = estimates_.cost(),
                                        .interarrival_us = estimates_.interarrival_us(now)});
    if (action.kind == BatchAction::Kind::kIdle) {
      if (stopping_) return;  // drained
      wake_.wait(lock);
      continue;
    }
    if (action.kind == BatchAction::Kind::kWait) {
      // Wake for the next deadline too, so that an expired request is answered when it expires.
      const int64_t wake_at =
          next_deadline_us > 0 ? std::min(action.wake_at_us, next_deadline_us) : action.wake_at_us;
      const int64_t sleep_us = std::clamp<int64_t>(wake_at - now, 0, kMaxSleepUs);
      wake_.wait_for(lock, std::chrono::microseconds(sleep_us));
      continue;
    }

    // kRun: move the chosen requests out and close the gaps, keeping admission order.
    Taken batch;
    batch.requests.reserve(action.run.size());
    for (size_t index : action.run) {
      batch.rows.push_back(pending_[index].batch_size);
      batch.queue_us.push_back(now - pending_[index].arrival_us);
    }
    size_t next = 0;  // action.run is in queue order, as RemoveWhere takes them
    RemoveWhere(
        [&](size_t i) {
          const bool taken = next < action.run.size() && action.run[next] == i;
          next += taken;
          return taken;
        },
        &batch.requests);
    // Another batch may be ready already; a sleeping worker should look.
    if (!pending_.empty()) wake_.notify_one();

    lock.unlock();
    RunBatch(batch);
    lock.lock();
  }
}

Result<std::vector<TensorMap>> DynamicBatcher::Execute(Taken& batch) {
  const bool batching = config_.batching.max_batch_size > 0;
  try {
    if (batch.requests.size() == 1) {
      // Alone: no merge or split copies, but the same output check as in a merged run, so that
      // a model that does not batch fails the same way at low and high load.
      SEAM_ASSIGN_OR_RETURN(TensorMap outputs, executor_(batch.requests[0].inputs));
      if (batching) {
        SEAM_RETURN_IF_ERROR(
            CheckBatchedOutputs(outputs, batch.rows[0]).WithContext(ModelName(config_.batching)));
      }
      std::vector<TensorMap> parts;
      parts.push_back(std::move(outputs));
      return parts;
    }
    std::vector<const TensorMap*> inputs;
    inputs.reserve(batch.requests.size());
    for (const Queued& q : batch.requests) inputs.push_back(&q.inputs);
    SEAM_ASSIGN_OR_RETURN(const TensorMap merged, MergeBatch(inputs));
    SEAM_ASSIGN_OR_RETURN(const TensorMap outputs, executor_(merged));
    Result<std::vector<TensorMap>> parts = SplitBatch(outputs, batch.rows);
    if (!parts.ok()) return parts.status().WithContext(ModelName(config_.batching));
    return parts;
  } catch (const std::exception& e) {
    return Internal(ModelName(config_.batching) + ": batch execution threw: " + e.what());
  } catch (...) {
    return Internal(ModelName(config_.batching) + ": batch execution threw a non-exception");
  }
}

void DynamicBatcher::RunBatch(Taken& batch) {
  const int64_t start_us = clock_();
  Result<std::vector<TensorMap>> parts = Execute(batch);
  const int64_t compute_us = clock_() - start_us;

  int64_t rows = 0;
  for (int64_t r : batch.rows) rows += r;
  ++batches_;
  if (parts.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    estimates_.ObserveRun(rows, compute_us);
  }
  if (config_.on_batch) {
    const BatchRecord record{
        .rows = rows, .queue_us = batch.queue_us, .compute_us = compute_us, .ok = parts.ok()};
    try {
      config_.on_batch(record);
    } catch (...) {
      // Metrics must not cost a request its answer.
    }
  }

  const int64_t n = static_cast<int64_t>(batch.requests.size());
  for (int64_t i = 0; i < n; ++i) {
    const RequestStats stats{.queue_us = batch.queue_us[i],
                             .compute_us = compute_us,
                             .batch_rows = rows,
                             .batch_requests = n};
    Result<TensorMap> outputs =
        parts.ok() ? Result<TensorMap>(std::move((*parts)[i])) : Result<TensorMap>(parts.status());
    if (!outputs.ok()) ++failed_;
    ++completed_;
    try {
      batch.requests[i].done(std::move(outputs), stats);
    } catch (...) {
      // A throwing callback must not take the worker (and every later request) down with it.
    }
  }
}

}  // namespace seam::batching
