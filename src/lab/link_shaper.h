// One direction of an emulated network link: a token bucket that serialises bytes at the link's
// rate, then a fixed propagation delay. The relay asks it, for each chunk it reads, when the chunk
// has finished crossing the wire (`sent`: the reader waits until then before it reads more, which
// pushes back on the sender as a slow link does) and when it comes out of the far end (`due`).
// Delay is pipelined: many chunks are in flight at once, so the delay does not lower throughput.
//
// All connections through one relay direction share one LinkShaper, as flows share a real link.
// Thread-safe. Times are std::chrono::steady_clock, passed in (no clock is read inside), so tests
// can drive it with made-up times.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "common/status.h"

namespace seam::lab {

struct LinkShape {
  double rate_bps = 0;  // bits per second; 0 = unlimited
  double delay_ms = 0;  // one way, milliseconds
};

// INVALID_ARGUMENT naming `what` (e.g. "up link") when a field is negative or not finite.
Status ValidateLinkShape(const LinkShape& shape, const char* what);

class LinkShaper {
 public:
  using Clock = std::chrono::steady_clock;

  // The burst the bucket allows: two full-size packets or 1 ms at the rate, whichever is larger.
  // Just enough to absorb the relay's own timer slack at full load. Unused link time is otherwise
  // lost, as in a Mahimahi trace (a delivery opportunity with nothing queued passes unused) and on
  // a link that serialises every byte: a larger bucket (this was 16 KiB) let an 8 KB request
  // after idle cross a 2 Mbit/s link at full speed, which made the device's probes believe a slow
  // link fast and flip its route back and forth. The namespace lab's tbf (32 KiB) is the
  // bursty case.
  static constexpr size_t kMinBurstBytes = 3000;

  struct Admission {
    Clock::time_point sent;  // the last bit has left: serialisation is over
    Clock::time_point due;   // sent + delay: the chunk may be delivered
  };

  explicit LinkShaper(const LinkShape& shape = {}) : shape_(shape) {}
  LinkShaper(const LinkShaper&) = delete;
  LinkShaper& operator=(const LinkShaper&) = delete;

  // Takes effect for the next chunk admitted. A new rate starts with an empty bucket.
  void Set(const LinkShape& shape, Clock::time_point now);
  LinkShape Get() const;

  // Puts `bytes` on the link at `now` (0 bytes: the end of stream, which queues behind data).
  Admission Admit(size_t bytes, Clock::time_point now);

  // How many bytes the relay should read at a time: about 1 ms at the rate, at least a packet
  // (1500 bytes), at most 64 KiB (also when unlimited). Small chunks keep store-and-forward delay
  // per chunk close to a real link's per-packet delay.
  size_t ChunkBytes() const;

  // Bytes admitted so far (what crossed the link, or is crossing it), for tests and benchmarks
  // that count what a client put on the link.
  uint64_t bytes() const;

 private:
  mutable std::mutex mutex_;
  LinkShape shape_;
  // The token bucket as a virtual clock: the time at which the bytes admitted so far have been
  // serialised. It never lags `now` by more than the burst; `sent` is max(now, virtual_time_).
  Clock::time_point virtual_time_{};
  bool started_ = false;
  uint64_t bytes_ = 0;
};

}  // namespace seam::lab
