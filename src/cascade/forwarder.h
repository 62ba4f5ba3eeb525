// Forwarder: delivers an Outbox (cascade/outbox.h) to an OIP server when the uplink allows, in
// order and exactly once (with the server's idempotency store, docs/server.md): one item at a
// time, oldest first, each sent with its key (oip/idempotency.h); an item leaves the outbox only
// once its answer arrived (a replayed answer too: the server had run it before a restart here
// lost the acknowledgement). While the server is unreachable or busy it waits and sends the same
// item again (backoff from min to max with jitter), so nothing behind it overtakes it. An item
// the server refuses (a malformed request, a model it does not serve, a key reused for another
// request) is tried `max_refusals` times in a row, then set aside (Outbox::Reject) so that the
// rest is not held up.
//
// Items are requests for one model (kind kInferKind): the payload is a serialised
// ModelInferRequest. Their answers go to `on_answer` (late answers of a cascade's big model).
//
// Threads: Start() runs the delivery loop in a background thread until Stop() or destruction;
// Wake() after an Enqueue cuts the wait short. DeliverOnce() is the loop's step, for tests.
#pragma once

#include <inference.pb.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "cascade/outbox.h"
#include "oip/hop_client.h"

namespace seam::cascade {

inline constexpr char kInferKind[] = "infer";

struct ForwarderOptions {
  double call_timeout_ms = 30000;
  double min_backoff_ms = 100;
  double max_backoff_ms = 5000;
  int max_refusals = 3;
};

struct ForwarderCounters {
  std::atomic<int64_t> delivered{0}, replayed{0}, attempts{0}, failed_attempts{0}, rejected{0};
};

class Forwarder {
 public:
  using OnAnswer = std::function<void(const OutboxItem&, const inference::ModelInferResponse&)>;
  // `outbox` and `hop` must outlive the forwarder.
  Forwarder(Outbox& outbox, oip::HopClient& hop, ForwarderOptions options = {},
            OnAnswer on_answer = {});
  ~Forwarder();  // Stop()
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void Start();
  void Wake();
  void Stop();

  // One step: sends the front item once (not while Start()ed: one sender at a time keeps order). OK
  // with *delivered = false when the outbox is empty; the send's error (the item stays, or was
  // rejected after max_refusals) otherwise.
  Status DeliverOnce(bool* delivered);

  const ForwarderCounters& counters() const { return counters_; }
  std::string last_error() const;

 private:
  void Loop();

  Outbox& outbox_;
  oip::HopClient& hop_;
  const ForwarderOptions options_;
  const OnAnswer on_answer_;
  ForwarderCounters counters_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false, stopping_ = false;
  std::string last_error_;
  std::atomic<bool> cancel_{false};  // Stop(): the send in flight stops waiting
  // Refusals of the front item (DeliverOnce runs on one thread at a time).
  int64_t refused_seq_ = -1;
  int refusals_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
};

// Whether a delivery failure is worth another try of the same item (the link, the server's load
// or a restart) rather than a refusal of the item itself.
bool RetryableDeliveryError(StatusCode code);

}  // namespace seam::cascade
