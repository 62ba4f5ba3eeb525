// HttpConnectionPool: the threads that serve the HTTP port's connections (cpp-httplib runs one
// connection -- all its keep-alive requests -- per task). `base` threads wait for connections for
// the server's lifetime; when all of them are busy, a connection gets a thread of its own, up to
// `max_connections` threads in all, which ends once no connection waits. Past that, connections
// queue for a thread.
//
// Why: cpp-httplib's fixed pool lets a few slow clients (sockets that trickle their headers, each
// holding a thread until its read times out) starve everyone, the health probes included: with
// 20 such sockets and 16 threads, /v2/health/live went unanswered for 12-20 s, and an
// orchestrator would have restarted a healthy server. A thread blocked on a slow socket costs
// little (its stack is reserved, not touched), so the bound is on connections, not on threads
// kept idle.
//
// Thread safety: enqueue from cpp-httplib's accept thread; shutdown once, from any thread.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seam::server {

class HttpConnectionPool : public httplib::TaskQueue {
 public:
  HttpConnectionPool(size_t base, size_t max_connections);
  ~HttpConnectionPool() override;

  void enqueue(std::function<void()> fn) override;
  // Lets the queued connections be served, then waits for every thread to end.
  void shutdown() override;

  // For tests and metrics: threads now, and the most there have been.
  size_t threads() const;
  size_t peak_threads() const;

 private:
  void Work(bool extra, std::function<void()> first);

  const size_t base_, max_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // a job arrived, or shutdown
  std::condition_variable state_cv_;  // a thread became idle or ended
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;     // threads waiting for a job
  size_t threads_ = 0;  // threads alive (base and extra)
  size_t peak_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> base_threads_;
};

}  // namespace seam::server
