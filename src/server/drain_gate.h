// DrainGate: counts the calls in flight and, once closed, admits no new ones, so that shutdown can
// wait for exactly the calls it has to answer.
//
// Why not only grpc::Server::Shutdown(deadline): gRPC core completes a shutdown only once every
// client connection is gone, so one idle client keeps it waiting for the whole deadline. Instead,
// the server closes this gate (new calls are answered UNAVAILABLE, which clients retry elsewhere),
// waits until the calls in flight are answered, and only then shuts gRPC down with no grace.
//
// Thread safety: every method is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace seam::server {

class DrainGate {
 public:
  // Admits a call (true) unless the gate is closed. Each admitted call must Leave once.
  bool TryEnter();
  void Leave();
  // No call is admitted after this. Idempotent.
  void Close();
  bool closed() const;
  // After Close: waits until every admitted call has left, or until `deadline`. True if idle.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  int in_flight() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;    // guarded by mu_
  bool closed_ = false;  // guarded by mu_
};

}  // namespace seam::server
