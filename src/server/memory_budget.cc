#include "server/memory_budget.h"

#include <cstdio>

namespace seam::server {
namespace {

std::string Megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

}  // namespace

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    other.budget_ = nullptr;
  }
  return *this;
}

void MemoryBudget::Lease::Release() {
  if (budget_) budget_->used_.fetch_sub(bytes_, std::memory_order_relaxed);
  budget_ = nullptr;
}

MemoryBudget::Lease MemoryBudget::Charge(uint64_t bytes) {
  used_.fetch_add(bytes, std::memory_order_relaxed);
  return Lease(this, bytes);
}

Result<MemoryBudget::Lease> MemoryBudget::Reserve(uint64_t bytes, std::string_view what) {
  uint64_t used = used_.load(std::memory_order_relaxed);
  while (true) {
    if (limit_ > 0 && bytes > limit_) {
      // Not RESOURCE_EXHAUSTED: retrying would never help (a forwarder would retry for ever).
      return FailedPrecondition(std::string(what) + " needs " + Megabytes(bytes) +
                                ", more than the server holds for all requests at once (" +
                                Megabytes(limit_) + ", --max-request-memory-mb): send less");
    }
    if (limit_ > 0 && used + bytes > limit_) {
      return ResourceExhausted(std::string(what) + " needs " + Megabytes(bytes) +
                               " and the server " + "already holds " + Megabytes(used) +
                               " of requests, of at most " + Megabytes(limit_) +
                               " (--max-request-memory-mb); retry later");
    }
    if (used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed)) break;
  }
  return Lease(this, bytes);
}

}  // namespace seam::server
