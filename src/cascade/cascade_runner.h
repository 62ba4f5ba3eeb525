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
  std::atomic<int64_t> inferences{0}, handoffs{0}, degraded{0};
};

class CascadeRunner {
 public:
  // Opens the small model, asks the big model's server for its metadata (waiting up to
  // `connect_timeout_ms`) and checks that the two fit: the rule's output exists, what is sent
  // matches the big model's input, and both models answer the same number of classes.
  static Result<std::unique_ptr<CascadeRunner>> Open(const CascadeFile& cascade,
                                                     double connect_timeout_ms = 5000);

  Result<CascadeAnswer> Run(const TensorMap& inputs) const;
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
  // Sends what the cascade sends up; returns the big model's outputs.
  Result<TensorMap> HandOff(const TensorMap& inputs, const TensorMap& small_outputs,
                            uint64_t* bytes_up) const;
  int64_t BigClass(const TensorMap& big_outputs) const;

  CascadeFile cascade_;
  std::unique_ptr<runtime::Session> small_;
  std::unique_ptr<oip::HopClient> hop_;
  oip::ModelMetadata big_;
  std::string big_class_output_;  // the big model's output its class is read from
  mutable CascadeCounters counters_;
};

// Argmax over a float tensor's elements (-1 for an empty or non-float tensor).
int64_t TopClass(const Tensor& t);

}  // namespace seam::cascade
