// DirectScheduler: the InferenceScheduler without batching. Jobs wait in one FIFO queue of at
// most `max_queue` jobs (a full queue answers UNAVAILABLE at once, so memory stays bounded under
// overload) and `threads` workers each run one job at a time on its model version's least busy
// instance. Concurrent executions are therefore at most `threads`, whatever the models'
// instance_count.
//
// Thread safety: every method is thread-safe. The destructor drains.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "server/scheduler.h"

namespace seam::server {

class DirectScheduler final : public InferenceScheduler {
 public:
  DirectScheduler(int threads, size_t max_queue);
  ~DirectScheduler() override;
  DirectScheduler(const DirectScheduler&) = delete;
  DirectScheduler& operator=(const DirectScheduler&) = delete;

  void Submit(InferJob job) override;
  void Drain() override;

 private:
  void Work();

  const size_t max_queue_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<InferJob> queue_;  // guarded by mu_
  bool draining_ = false;       // guarded by mu_
  std::vector<std::thread> workers_;
  std::once_flag join_once_;
};

}  // namespace seam::server
