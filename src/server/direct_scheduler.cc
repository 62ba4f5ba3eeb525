#include "server/direct_scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>

namespace seam::server {
namespace {

int64_t Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Rows of one job: its batch (dim 0) for a batching model, else 1.
int64_t Rows(const InferJob& job) {
  if (job.model->config().max_batch_size <= 0 || job.inputs.empty()) return 1;
  const Tensor& first = job.inputs.begin()->second;
  return first.shape.empty() ? 1 : first.shape[0];
}

}  // namespace

DirectScheduler::DirectScheduler(int threads, size_t max_queue, ServerObserver* observer)
    : max_queue_(max_queue), observer_(observer) {
  for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { Work(); });
}

DirectScheduler::~DirectScheduler() { Drain(); }

void DirectScheduler::Submit(InferJob job) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (draining_) {
      refused = Unavailable("the server is shutting down");
    } else if (queue_.size() >= max_queue_) {
      refused = Unavailable("the inference queue is full (" + std::to_string(max_queue_) +
                            " requests waiting); retry later");
    } else {
      queue_.push_back(std::move(job));
    }
  }
  if (!refused.ok()) {
    Notify(observer_, [&](ServerObserver& o) {
      o.OnRequest(job.model->model_name(), job.model->version(), false, 0, 0);
    });
    job.done(refused);
    return;
  }
  ready_.notify_one();
}

void DirectScheduler::Drain() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  ready_.notify_all();
  // Workers leave only once the queue is empty, so every accepted job has been answered.
  std::call_once(join_once_, [this] {
    for (auto& worker : workers_) worker.join();
  });
}

void DirectScheduler::Work() {
  for (;;) {
    InferJob job;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return draining_ || !queue_.empty(); });
      if (queue_.empty()) return;  // draining and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto start = std::chrono::steady_clock::now();
    if (job.context) {
      // A request whose caller stopped waiting is answered at once, not run for no one.
      if (Status wanted = job.context->StillWanted(start); !wanted.ok()) {
        const ModelVersion& m = *job.model;
        const bool cancelled = wanted.code() == StatusCode::kCancelled;
        Notify(observer_, [&](ServerObserver& o) {
          o.OnDropped(m.model_name(), m.version(), cancelled);
          o.OnRequest(m.model_name(), m.version(), false, 0, 0);
        });
        job.done(std::move(wanted));
        continue;
      }
    }
    Result<TensorMap> outputs = Internal("no result");
    try {
      outputs = job.model->Run(job.inputs, job.context.get());
    } catch (const std::exception& e) {
      // ORT's exceptions are caught in Session; this is e.g. bad_alloc on a huge output.
      outputs = Internal(job.model->model_name() + ": inference failed: " + e.what());
    }
    const int64_t compute_us = Micros(std::chrono::steady_clock::now() - start);
    const ModelVersion& m = *job.model;
    Notify(observer_,
           [&](ServerObserver& o) { o.OnBatch(m.model_name(), m.version(), Rows(job), 1); });
    Notify(observer_, [&](ServerObserver& o) {
      o.OnRequest(m.model_name(), m.version(), outputs.ok(), Micros(start - job.accepted),
                  compute_us);
    });
    job.done(std::move(outputs));
  }
}

}  // namespace seam::server
