// MemoryBudget: the bytes of requests a server holds at once -- accepted and not yet answered,
// queued or running -- bounded in bytes as well as the queue is in count. A request whose bytes
// would pass the limit is refused at once with RESOURCE_EXHAUSTED (HTTP 429), the server keeps
// serving what it holds, and the client may retry later.
//
// Why bytes: the queue admits --max-queue requests of up to the message limit (64 MiB) each, so a
// count alone let eight 59 MB requests take a server from 785 MB to 2.76 GB. The HTTP front end
// also reserves what parsing a JSON body takes (many times the body: see HttpService) before it
// parses it.
//
// Thread safety: Reserve and the leases' release may run on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seam::server {

class MemoryBudget {
 public:
  // `limit_bytes` 0: no limit (every reservation succeeds, and is still counted).
  explicit MemoryBudget(uint64_t limit_bytes) : limit_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Bytes held until destroyed (or moved from).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
      other.budget_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }
    void Release();
    uint64_t bytes() const { return bytes_; }

   private:
    friend class MemoryBudget;
    Lease(MemoryBudget* budget, uint64_t bytes) : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // A lease of `bytes` that is never refused: for memory already taken (a request's outputs), so
  // that requests arriving meanwhile see it.
  Lease Charge(uint64_t bytes);

  // A lease of `bytes`, or RESOURCE_EXHAUSTED saying what `what` (e.g. "request of model 'cnn'")
  // needs, what is held and the limit (retry later) -- or FAILED_PRECONDITION when it alone is
  // over the limit (it can never fit: retrying would not help).
  Result<Lease> Reserve(uint64_t bytes, std::string_view what);

  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace seam::server
