#include "server/direct_scheduler.h"

#include <algorithm>
#include <exception>

namespace seam::server {

DirectScheduler::DirectScheduler(int threads, size_t max_queue) : max_queue_(max_queue) {
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
    Result<TensorMap> outputs = Internal("no result");
    try {
      outputs = job.model->Run(job.inputs);
    } catch (const std::exception& e) {
      // ORT's exceptions are caught in Session; this is e.g. bad_alloc on a huge output.
      outputs = Internal(job.model->model_name() + ": inference failed: " + e.what());
    }
    job.done(std::move(outputs));
  }
}

}  // namespace seam::server
