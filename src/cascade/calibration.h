// Calibrating a cascade's threshold on a labelled validation set. Every example is run once
// through the small model and once through the big one (what each answers, the small model's
// score, what each took, the bytes a hand-off sends); then every threshold is evaluated
// offline on those records: the cascade's accuracy, the share of inputs sent up, the bytes sent
// per input, and the mean latency (the small model's time, plus the big model's for those sent).
// Pure: records in, a curve and a choice out.
#pragma once

#include <optional>
#include <vector>

#include "cascade/handoff_rule.h"
#include "common/status.h"

namespace seam::cascade {

struct ExampleRecord {
  double score = 0;          // the rule's score of the small model's answer
  int64_t small_class = -1;  // what each model answered
  int64_t big_class = -1;
  int64_t label = -1;
  double small_ms = 0;  // the small model's time for this example
  double big_ms = 0;    // a hand-off's time: sending, the big model, the answer
  double bytes_up = 0;  // what a hand-off sends
};

struct CurvePoint {
  double threshold = 0;
  double accuracy = 0;
  double cloud_fraction = 0;   // share of inputs sent to the big model
  double bytes_per_input = 0;  // mean bytes sent up per input
  double mean_latency_ms = 0;
};

// The cascade at `threshold` over `records` (none: all zeros).
CurvePoint Evaluate(RuleKind kind, const std::vector<ExampleRecord>& records, double threshold);

// Every threshold that changes the outcome: each distinct score (the loosest sends nothing up)
// and one just beyond the strictest (everything up) when the rule's range holds it; ordered from
// the fewest hand-offs to the most. Every threshold is one a cascade file accepts.
std::vector<CurvePoint> Sweep(RuleKind kind, const std::vector<ExampleRecord>& records);

// At most `points` points of `curve`, evenly spread over the cloud fraction, ends kept (for a
// CSV or a plot a reader can take in).
std::vector<CurvePoint> Thin(const std::vector<CurvePoint>& curve, size_t points);

// What the chosen threshold must meet: an accuracy of at least `min_accuracy`, sending as few
// inputs up as possible; or sending at most `max_cloud_fraction`, as accurately as possible.
struct Target {
  std::optional<double> min_accuracy;
  std::optional<double> max_cloud_fraction;
};

// The point of `curve` that meets `target` best. NOT_FOUND, saying what the best reachable is,
// when no threshold meets it; INVALID_ARGUMENT when the target sets neither or both.
Result<CurvePoint> Choose(const std::vector<CurvePoint>& curve, const Target& target);

// Per-example latency percentile `p` (0..1) of the cascade at `threshold`; of the small model
// alone (`threshold` nullopt, small_only) or of the big model alone (every example sent, the
// small model not run).
enum class Strategy { kCascade, kSmallOnly, kBigOnly };
double LatencyPercentileMs(RuleKind kind, const std::vector<ExampleRecord>& records,
                           Strategy strategy, double threshold, double p);

// Accuracy of one model alone over `records`.
double SmallAccuracy(const std::vector<ExampleRecord>& records);
double BigAccuracy(const std::vector<ExampleRecord>& records);

}  // namespace seam::cascade
