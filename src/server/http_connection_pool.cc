#include "server/http_connection_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

namespace seam::server {

HttpConnectionPool::HttpConnectionPool(size_t base, size_t max_connections)
    : base_(std::max<size_t>(base, 1)), max_(std::max(max_connections, std::max<size_t>(base, 1))) {
  std::unique_lock lock(mu_);
  for (size_t i = 0; i < base_; ++i) {
    ++threads_;
    base_threads_.emplace_back([this] { Work(/*extra=*/false, nullptr); });
  }
  peak_ = threads_;
  // Ready when every kept thread waits: enqueue counts on them.
  state_cv_.wait(lock, [&] { return idle_ == base_; });
}

HttpConnectionPool::~HttpConnectionPool() { shutdown(); }

void HttpConnectionPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  // Idle threads not yet claimed by a queued connection take it; else a new thread, if allowed.
  if (idle_ > jobs_.size() || threads_ >= max_ || shutdown_) {
    jobs_.push_back(std::move(fn));
    lock.unlock();
    work_cv_.notify_one();
    return;
  }
  // Every thread is busy (slow clients, long inferences): this connection gets its own. Detached:
  // it counts itself out under mu_, and shutdown waits for the count.
  ++threads_;
  peak_ = std::max(peak_, threads_);
  lock.unlock();
  std::thread([this, first = std::move(fn)]() mutable {
    Work(/*extra=*/true, std::move(first));
  }).detach();
}

void HttpConnectionPool::Work(bool extra, std::function<void()> first) {
  if (first) {
    first();
    first = nullptr;  // its captures go now, not when this thread ends
  }
  std::unique_lock lock(mu_);
  while (true) {
    if (jobs_.empty()) {
      if (extra || shutdown_) break;
      ++idle_;
      state_cv_.notify_all();
      work_cv_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
      --idle_;
      continue;
    }
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
  --threads_;
  state_cv_.notify_all();
}

void HttpConnectionPool::shutdown() {
  std::vector<std::thread> base;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    base.swap(base_threads_);
  }
  work_cv_.notify_all();
  for (auto& t : base) t.join();
  std::unique_lock lock(mu_);
  state_cv_.wait(lock, [&] { return threads_ == 0; });
}

size_t HttpConnectionPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

size_t HttpConnectionPool::peak_threads() const {
  std::lock_guard lock(mu_);
  return peak_;
}

}  // namespace seam::server
