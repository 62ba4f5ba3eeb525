// StreamInferReactor: one ModelStreamInfer call (Triton's bidirectional streaming extension).
// Each request read from the stream goes through the InferHandler like a unary ModelInfer; each
// gets exactly one ModelStreamInferResponse, in completion order (clients match them by id). A
// failed request answers with error_message set (and infer_response carrying the request's id and
// model) and the stream stays open.
//
// Flow control: at most kMaxInFlight requests of one stream run at once; beyond that the reactor
// stops reading, so a fast client is slowed by gRPC's flow control instead of growing a queue.
// The call finishes OK once the client has half-closed and every response has been written.
//
// Lifetime: created by the service per call, deletes itself in OnDone. Thread safety: gRPC
// reactions and job completions run on arbitrary threads; state is guarded by mu_, and no gRPC
// Start* / Finish call is made while holding it.
#pragma once

#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>

#include "server/drain_gate.h"
#include "server/infer_handler.h"

namespace seam::server {

class StreamInferReactor final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  static constexpr int kMaxInFlight = 64;

  // Call only after `gate` admitted the call (TryEnter); the reactor leaves it at once and enters
  // it again for each request it runs, until the stream is idle. Requests read once the gate is
  // closed (shutdown) are answered UNAVAILABLE without running.
  StreamInferReactor(InferHandler& handler, DrainGate& gate);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  // The client cancelled the stream (or it broke): requests of it still waiting are dropped.
  void OnCancel() override { cancelled_->store(true, std::memory_order_relaxed); }

 private:
  // What to do once mu_ is released.
  struct Actions {
    bool read = false;
    const inference::ModelStreamInferResponse* write = nullptr;
    bool finish = false;
    bool leave_gate = false;
  };
  void OnInferDone(std::unique_ptr<inference::ModelStreamInferResponse> response);
  // Decides the next write or the finish. Caller holds mu_.
  void NextLocked(Actions& actions);
  void Act(const Actions& actions);

  InferHandler& handler_;
  DrainGate& gate_;
  inference::ModelInferRequest request_;  // the read buffer; reused for every read
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);

  std::mutex mu_;
  int in_flight_ = 0;          // requests submitted, not yet answered
  bool reading_ = true;        // a read is outstanding
  bool reads_done_ = false;    // the client half-closed (or the call broke)
  bool writing_ = false;       // a write is outstanding
  bool write_failed_ = false;  // the client is gone: drop further responses
  bool finished_ = false;
  // Whether this stream counts in the drain gate: only while it has requests to answer, so that
  // shutdown waits for those and not for idle streams (a tier above forwarding on a stream it
  // keeps open), which gRPC's shutdown then cancels.
  bool holding_gate_ = false;
  std::deque<std::unique_ptr<inference::ModelStreamInferResponse>> to_write_;
  std::unique_ptr<inference::ModelStreamInferResponse> being_written_;
};

// A ModelStreamInfer call refused at once: during shutdown (UNAVAILABLE), or without credentials.
class RefusedStreamReactor final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  explicit RefusedStreamReactor(const grpc::Status& status = grpc::Status(
                                    grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  void OnDone() override { delete this; }
};

}  // namespace seam::server
