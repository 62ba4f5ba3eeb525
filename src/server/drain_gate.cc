#include "server/drain_gate.h"

namespace seam::server {

bool DrainGate::TryEnter() {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  ++in_flight_;
  return true;
}

void DrainGate::Leave() {
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void DrainGate::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

bool DrainGate::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool DrainGate::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_.wait_until(lock, deadline, [this] { return in_flight_ == 0; });
}

int DrainGate::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

}  // namespace seam::server
