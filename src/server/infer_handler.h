// InferHandler: one ModelInferRequest end to end, the same for every front end (unary ModelInfer,
// ModelStreamInfer, HTTP/REST): find the model version, decode and validate the request against
// its metadata, submit the job to the scheduler, encode the requested outputs, log the outcome.
// It also tells the metrics what the schedulers cannot see (requests in flight, requests refused
// by validation); the schedulers report the rest (server_observer.h).
//
// Thread safety: Infer may be called from any number of threads at once.
#pragma once

#include <inference.pb.h>

#include <atomic>
#include <functional>

#include "common/status.h"
#include "oip/deadline.h"
#include "server/idempotency_store.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/scheduler.h"

namespace seam::server {

// What the front end knows about the call that carried a request.
struct CallInfo {
  oip::Deadline deadline;  // the call's own (a unary gRPC deadline); none for streams and HTTP
  std::shared_ptr<const std::atomic<bool>> cancelled;  // set when the caller cancels; may be null
};

class InferHandler {
 public:
  // All must outlive the handler; `metrics`, `idempotency` and `budget` may be null (without a
  // store, idempotency keys are checked and ignored; without a budget, requests are bounded in
  // count only). A request holds its bytes (its message's size) in `budget` from acceptance until
  // it is answered, and is refused RESOURCE_EXHAUSTED when they do not fit.
  InferHandler(const ModelRepository& repository, InferenceScheduler& scheduler,
               ServerMetrics* metrics = nullptr, IdempotencyStore* idempotency = nullptr,
               MemoryBudget* budget = nullptr);

  // Reads `request` only during the call. Fills `response`, which must stay valid until `done`
  // is called; `done` is called exactly once, from any thread, possibly before Infer returns.
  // The request's deadline is the earlier of its timeout parameter (oip/deadline.h) and the
  // call's; one already past is answered DEADLINE_EXCEEDED without running (and counted dropped).
  // A request with an idempotency key (oip/idempotency.h) that was answered before gets that
  // answer again, marked replayed, without running (IdempotencyStore).
  void Infer(const inference::ModelInferRequest& request, inference::ModelInferResponse* response,
             std::function<void(const Status&)> done, const CallInfo& call = {});

 private:
  const ModelRepository& repository_;
  InferenceScheduler& scheduler_;
  ServerMetrics* const metrics_;
  IdempotencyStore* const idempotency_;
  MemoryBudget* const budget_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace seam::server
