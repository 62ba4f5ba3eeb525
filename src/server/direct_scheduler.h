// DirectScheduler: the InferenceScheduler without batching. Jobs wait in one FIFO queue of at
// most `max_queue` jobs (a full queue answers UNAVAILABLE at once, so memory stays bounded under
// overload) and `threads` workers each run one job at a time on its model version's least busy
// instance. Concurrent executions are therefore at most `threads`, whatever the models'
// instance_count.
//
// Each job and each execution is reported to the optional ServerObserver (server_observer.h).
//
// Thread safety: every method is thread-safe. The destructor drains.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "server/scheduler.h"
#include "server/server_observer.h"

namespace seam::server {

class DirectScheduler final : public InferenceScheduler {
 public:
  // `observer` (may be null) must outlive the scheduler.
  DirectScheduler(int threads, size_t max_queue, ServerObserver* observer = nullptr);
  ~DirectScheduler() override;
  DirectScheduler(const DirectScheduler&) = delete;
  DirectScheduler& operator=(const DirectScheduler&) = delete;

  void Submit(InferJob job) override;
  void Drain() override;

 private:
  void Work();

  const size_t max_queue_;
  ServerObserver* const observer_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<InferJob> queue_;  // guarded by mu_
  bool draining_ = false;       // guarded by mu_
  std::vector<std::thread> workers_;
  std::once_flag join_once_;
};

}  // namespace seam::server
