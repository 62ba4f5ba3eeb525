#include "cascade/forwarder.h"

#include <algorithm>
#include <chrono>

#include "oip/idempotency.h"

namespace seam::cascade {

bool RetryableDeliveryError(StatusCode code) {
  // UNAUTHENTICATED too: a token to fix, not an item to give up on (the error is shown).
  return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded ||
         code == StatusCode::kResourceExhausted || code == StatusCode::kCancelled ||
         code == StatusCode::kAborted || code == StatusCode::kUnauthenticated;
}

Forwarder::Forwarder(Outbox& outbox, oip::HopClient& hop, ForwarderOptions options,
                     OnAnswer on_answer)
    : outbox_(outbox), hop_(hop), options_(options), on_answer_(std::move(on_answer)) {}

Forwarder::~Forwarder() { Stop(); }

void Forwarder::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Forwarder::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Forwarder::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cancel_.store(true);  // a send in flight stops waiting (the item stays queued)
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Forwarder::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Status Forwarder::DeliverOnce(bool* delivered) {
  *delivered = false;
  SEAM_ASSIGN_OR_RETURN(std::optional<OutboxItem> front, outbox_.Front());
  if (!front) return Status::Ok();
  const OutboxItem& item = *front;
  Status refused;
  inference::ModelInferRequest request;
  if (item.kind != kInferKind) {
    refused = InvalidArgument("an outbox item of kind '" + item.kind + "' (only '" + kInferKind +
                              "' items are delivered)");
  } else if (!request.ParseFromString(item.payload)) {
    refused = InvalidArgument("outbox item " + item.key + " is not a ModelInferRequest");
  }
  if (!refused.ok()) {  // never deliverable: set aside at once
    ++counters_.rejected;
    SEAM_RETURN_IF_ERROR(outbox_.Reject(item.seq, refused.message()));
    return refused;
  }
  oip::SetIdempotencyKey(item.key, &request);
  SEAM_RETURN_IF_ERROR(outbox_.CountAttempt(item.seq));
  ++counters_.attempts;
  const oip::Deadline deadline =
      std::chrono::steady_clock::now() +
      std::chrono::microseconds(static_cast<int64_t>(options_.call_timeout_ms * 1e3));
  auto answer = hop_.Infer(std::move(request), deadline, &cancel_);
  if (!answer.ok()) {
    ++counters_.failed_attempts;
    const Status error = answer.status();
    if (RetryableDeliveryError(error.code())) return error;
    // A refusal of the item itself: counted apart from the outage's failed attempts.
    if (refused_seq_ != item.seq) refused_seq_ = item.seq, refusals_ = 0;
    if (++refusals_ >= options_.max_refusals) {
      ++counters_.rejected;
      SEAM_RETURN_IF_ERROR(outbox_.Reject(item.seq, error.ToString()));
    }
    return error;
  }
  if (oip::WasReplayed(*answer)) ++counters_.replayed;
  if (on_answer_) on_answer_(item, *answer);
  SEAM_RETURN_IF_ERROR(outbox_.Ack(item.seq));
  ++counters_.delivered;
  *delivered = true;
  std::lock_guard lock(mu_);
  last_error_.clear();
  return Status::Ok();
}

void Forwarder::Loop() {
  double backoff_ms = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
    }
    bool delivered = false;
    const Status status = DeliverOnce(&delivered);
    double wait_ms = 0;
    if (!status.ok()) {
      backoff_ms = std::clamp(backoff_ms * 2, options_.min_backoff_ms, options_.max_backoff_ms);
      std::lock_guard lock(mu_);
      last_error_ = status.ToString();
      // Full jitter around the backoff: senders of many sites do not retry in step.
      wait_ms = std::uniform_real_distribution<double>(backoff_ms / 2, backoff_ms)(rng_);
    } else if (!delivered) {
      backoff_ms = 0;
      wait_ms = options_.max_backoff_ms;  // empty: until woken
    } else {
      backoff_ms = 0;
      continue;
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(wait_ms * 1e3)),
                   [&] { return stopping_ || (woken_ && status.ok()); });
    woken_ = false;
  }
}

}  // namespace seam::cascade
