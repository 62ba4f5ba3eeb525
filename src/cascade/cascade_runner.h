// CascadeRunner: one cascade in this process. The small model runs here (ONNX Runtime); the
// hand-off rule reads its answer; a hard example goes up to the big model's OIP server (one
// streaming hop, src/oip) and its answer is returned instead. Every answer says which model
// gave it and why (the score against the threshold). When the hand-off fails or misses the
// cascade's deadline, the small model's answer is returned, flagged degraded, with the error.
//
// One request is one example: the small model's batch dimension must be 1, and the rule reads
// the whole of its output (a row of class scores, or the box scores).
//
// Thread safety: Run and RunBoth may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cascade/cascade_file.h"
#include "cascade/forwarder.h"
#include "cascade/outbox.h"
#include "common/status.h"
#include "common/tensor.h"
#include "oip/hop_client.h"
#include "oip/model_metadata.h"
#include "runtime/session.h"

namespace seam::cascade {

struct CascadeAnswer {
  TensorMap outputs;  // the answering model's outputs
  std::string tier;   // "small" or "big"
  Decision decision;  // the rule on the small model's answer
  double threshold = 0;
  std::string reason;      // one line: the score against the threshold, or what failed
  bool degraded = false;   // a hard example the big model did not answer
  bool queued = false;     // ...which waits in the outbox for the big model (store-and-forward)
  int64_t top_class = -1;  // classifiers: the answering model's class
  double small_ms = 0;     // the small model
  double big_ms = 0;       // the hand-off, from sending to the answer (0: none)
  uint64_t bytes_up = 0;   // what the hand-off sent
};

// Both models' answers for one example, whatever the rule says (calibration).
struct BothAnswers {
  Decision decision;
  int64_t big_class = -1;
  double small_ms = 0, big_ms = 0;
  uint64_t bytes_up = 0;
};

struct CascadeCounters {
  std::atomic<int64_t> inferences{0}, handoffs{0}, degraded{0}, queued{0};
};

class CascadeRunner {
 public:
  // Opens the small model, asks the big model's server for its metadata (waiting up to
  // `connect_timeout_ms`) and checks that the two fit: the rule's output exists, what is sent
  // matches the big model's input, and both models answer the same number of classes.
  //
  // With `store_and_forward.outbox` set, store-and-forward is on (docs/cascade.md): from the
  // start, a hard example the big model does not answer -- and every hard example while older
  // ones wait -- is queued in that outbox file (cascade/outbox.h) and its small answer returned,
  // flagged degraded and queued; a Forwarder delivers the queue to the big model's server in
  // order when it answers again. The outbox keeps the big model's metadata each time it is read,
  // so that a site can start while its uplink is down (started_offline()).
  struct StoreAndForward {
    std::string outbox;  // "": off
    OutboxLimits limits;
    ForwarderOptions forwarder;
  };
  static Result<std::unique_ptr<CascadeRunner>> Open(const CascadeFile& cascade,
                                                     double connect_timeout_ms = 5000,
                                                     const StoreAndForward& store_and_forward = {});
  // The big model's server was unreachable at Open: its metadata came from the outbox.
  bool started_offline() const { return started_offline_; }

  // `key` names the example (e.g. "fashion:test:123"): sent with a hand-off as its idempotency
  // key (oip/idempotency.h) and used for it in the outbox; "" makes one up.
  Result<CascadeAnswer> Run(const TensorMap& inputs, std::string_view key = {}) const;

  // Waits up to `timeout_ms` for the outbox to empty; returns how many items are left.
  int64_t DrainOutbox(double timeout_ms) const;
  Outbox* outbox() const { return outbox_.get(); }
  const Forwarder* forwarder() const { return forwarder_.get(); }
  Result<BothAnswers> RunBoth(const TensorMap& inputs) const;

  const CascadeFile& cascade() const { return cascade_; }
  const runtime::Session& small() const { return *small_; }
  const oip::ModelMetadata& big_metadata() const { return big_; }
  const CascadeCounters& counters() const { return counters_; }

 private:
  CascadeRunner() = default;
  Status CheckModels();
  // The rule's decision from the small model's outputs.
  Result<Decision> Judge(const TensorMap& small_outputs) const;
  // The request for the big model with what the cascade sends up.
  Result<inference::ModelInferRequest> HandOffRequest(const TensorMap& inputs,
                                                      const TensorMap& small_outputs,
                                                      uint64_t* bytes_up) const;
  // Sends it; returns the big model's outputs.
  Result<TensorMap> Send(inference::ModelInferRequest request) const;
  // Queues it in the outbox under `key`: the reason's tail ("queued for the big model: ...").
  std::string Queue(const inference::ModelInferRequest& request, const std::string& key) const;
  int64_t BigClass(const TensorMap& big_outputs) const;

  CascadeFile cascade_;
  std::unique_ptr<runtime::Session> small_;
  std::unique_ptr<oip::HopClient> hop_;
  oip::ModelMetadata big_;
  std::string big_class_output_;  // the big model's output its class is read from
  mutable CascadeCounters counters_;
  std::string key_prefix_;  // made-up keys: the cascade's name and this run's random id
  mutable std::atomic<uint64_t> next_key_{1};
  // Store-and-forward; the forwarder is stopped before the hop and the outbox go.
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Forwarder> forwarder_;
  bool started_offline_ = false;
};

// Argmax over a float tensor's elements (-1 for an empty or non-float tensor).
int64_t TopClass(const Tensor& t);

}  // namespace seam::cascade
