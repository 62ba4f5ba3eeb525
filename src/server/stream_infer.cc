#include "server/stream_infer.h"

#include <atomic>
#include <exception>

#include "oip/grpc_status.h"
#include "server/log.h"

namespace seam::server {

StreamInferReactor::StreamInferReactor(InferHandler& handler, DrainGate& gate)
    : handler_(handler), gate_(gate) {
  // Admitted by the service; a stream holds the gate only while it has work (see the header).
  gate_.Leave();
  StartRead(&request_);
}

void StreamInferReactor::OnReadDone(bool ok) {
  Actions actions;
  if (!ok) {  // the client half-closed, or the call is broken
    {
      std::lock_guard lock(mu_);
      reading_ = false;
      reads_done_ = true;
      NextLocked(actions);
    }
    Act(actions);
    return;
  }
  bool admitted = false;
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
    if (!holding_gate_) holding_gate_ = gate_.TryEnter();
    admitted = holding_gate_;
  }
  // reading_ stays true until the end of this function: request_ is in use until Infer returns,
  // so a completion that runs meanwhile must not start the next read.
  auto* response = new inference::ModelStreamInferResponse();
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto done = [this, response, answered, id = request_.id(), model = request_.model_name(),
               version = request_.model_version()](const Status& status) {
    if (answered->exchange(true)) return;
    std::unique_ptr<inference::ModelStreamInferResponse> owned(response);
    if (!status.ok()) oip::SetStreamError(status, id, model, version, owned.get());
    OnInferDone(std::move(owned));
  };
  try {
    if (!admitted) {
      done(Unavailable("the server is shutting down"));
    } else {
      handler_.Infer(request_, response->mutable_infer_response(), done,
                     CallInfo{.cancelled = cancelled_});
    }
  } catch (const std::exception& e) {
    spdlog::error("event=rpc_exception rpc=ModelStreamInfer error={}", LogValue(e.what()));
    done(Internal(std::string("ModelStreamInfer: ") + e.what()));
  }
  {
    std::lock_guard lock(mu_);
    reading_ = in_flight_ < kMaxInFlight;
    actions.read = reading_;
  }
  Act(actions);
}

void StreamInferReactor::OnInferDone(
    std::unique_ptr<inference::ModelStreamInferResponse> response) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (!write_failed_) to_write_.push_back(std::move(response));
    if (!reading_ && !reads_done_ && in_flight_ < kMaxInFlight) {
      reading_ = true;  // resume after a pause for flow control
      actions.read = true;
    }
    NextLocked(actions);
  }
  Act(actions);
}

void StreamInferReactor::OnWriteDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    being_written_.reset();
    if (!ok) {  // the client is gone; its remaining responses have nowhere to go
      write_failed_ = true;
      to_write_.clear();
    }
    NextLocked(actions);
  }
  Act(actions);
}

void StreamInferReactor::NextLocked(Actions& actions) {
  if (!writing_ && !write_failed_ && !to_write_.empty()) {
    being_written_ = std::move(to_write_.front());
    to_write_.pop_front();
    writing_ = true;
    actions.write = being_written_.get();
    return;
  }
  const bool idle = in_flight_ == 0 && !writing_ && to_write_.empty();
  if (idle && holding_gate_) {  // nothing to answer: shutdown need not wait for this stream
    holding_gate_ = false;
    actions.leave_gate = true;
  }
  if (!finished_ && reads_done_ && idle) {
    finished_ = true;
    actions.finish = true;
  }
}

void StreamInferReactor::Act(const Actions& actions) {
  if (actions.leave_gate) gate_.Leave();
  if (actions.read) StartRead(&request_);
  if (actions.write) StartWrite(actions.write);
  // Last: once finished, OnDone may run (and delete this) on another thread at any moment.
  if (actions.finish) Finish(grpc::Status::OK);
}

void StreamInferReactor::OnDone() {
  bool holding = false;
  {
    std::lock_guard lock(mu_);
    holding = holding_gate_;
  }
  if (holding) gate_.Leave();
  delete this;
}

RefusedStreamReactor::RefusedStreamReactor(const grpc::Status& status) { Finish(status); }

}  // namespace seam::server
