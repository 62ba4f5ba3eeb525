// The hand-off rule of a cascade: from the small model's answer for one example, a score, and
// whether the small model is trusted with it (answered near the data) or the example is hard and
// goes up to the big model. Pure: one output row in, a decision out.
//
// Classifiers (the rule's output is one row of class scores, logits or probabilities):
//   max_probability  the top class's probability; confident when >= threshold (0..1)
//   margin           top probability minus the runner-up's; confident when >= threshold (0..1)
//   entropy          Shannon entropy of the probabilities, in nats; confident when <= threshold
//                    (0..ln classes)
// Detectors (the rule's output is the box scores, 0..1; boxes at or above `box_threshold` count
// as detections), as KubeEdge Sedna's hard-example methods:
//   mean_box_score   mean score of the detections; confident when >= threshold (0..1); no
//                    detection at all is confident (nothing there to re-check)
//   low_score_share  the share of detections scoring below `low_score`; confident when
//                    <= threshold (0..1); no detection is confident
#pragma once

#include <span>
#include <string>

#include "common/status.h"

namespace seam::cascade {

enum class RuleKind { kMaxProbability, kMargin, kEntropy, kMeanBoxScore, kLowScoreShare };

struct HandoffRule {
  RuleKind kind = RuleKind::kMaxProbability;
  double threshold = 0.9;
  std::string output;          // the small model's output the rule reads
  bool softmax = true;         // classifiers: the output holds logits (softmax applied here)
  double box_threshold = 0.5;  // detectors: a box at or above this score is a detection
  double low_score = 0.7;      // low_score_share: a detection below this is a low-score one

  // INVALID_ARGUMENT naming the field when a value is out of its range; `classes` (0: unknown)
  // bounds an entropy threshold.
  Status Validate(int64_t classes = 0) const;
  // Higher score means more confident, except entropy and low_score_share (lower is better).
  bool HigherIsConfident() const;
};

// "max_probability", ... and back. INVALID_ARGUMENT listing the kinds for an unknown name.
std::string RuleKindName(RuleKind kind);
Result<RuleKind> ParseRuleKind(const std::string& name);
bool IsDetectorRule(RuleKind kind);

struct Decision {
  double score = 0;
  bool confident = false;  // answer with the small model
  int64_t top_class = -1;  // classifiers: the small model's predicted class
};

// The rule over one example's row of the rule's output (class scores, or box scores).
// INVALID_ARGUMENT for an empty row or a non-finite value.
Result<Decision> Decide(const HandoffRule& rule, std::span<const float> row);

// Whether `score` passes `threshold` for this rule's kind (what Decide does after scoring; the
// calibration sweeps thresholds over stored scores with it).
bool Passes(RuleKind kind, double score, double threshold);

}  // namespace seam::cascade
