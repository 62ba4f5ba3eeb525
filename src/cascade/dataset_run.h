// Running a cascade over a labelled image set: every example through the cascade as it would
// answer (RunOnDataset), or through both models for calibration (RecordBoth). Both report
// progress to nothing and stop at the first error (one that is not the big model's: a hand-off
// that fails is a degraded answer, counted).
#pragma once

#include <functional>
#include <vector>

#include "cascade/calibration.h"
#include "cascade/cascade_runner.h"
#include "cascade/field_policy.h"
#include "cascade/idx_dataset.h"

namespace seam::cascade {

struct RunSummary {
  int64_t examples = 0, correct = 0;
  int64_t small_answered = 0, handed_off = 0, degraded = 0;
  int64_t queued = 0;  // degraded answers whose example waits in the outbox for the big model
  double p50_ms = 0, p99_ms = 0, mean_ms = 0;
  double bytes_up_per_input = 0;
  FieldCounters field;  // what the field policy let through and skipped (all processed without)
  double accuracy() const { return examples ? static_cast<double>(correct) / examples : 0; }
  // The share of inputs sent up (as in calibration), whether or not the big model answered.
  double cloud_fraction() const {
    return examples ? static_cast<double>(handed_off) / examples : 0;
  }
};

// Every example through the cascade, as it answers in service; with a `policy`, the set is a
// stream of frames in order and only those the policy admits are run (`local_minute` gives the
// site's local time of day for each frame). Accuracy and latency are over the frames run.
// Example i's key (its idempotency key in a hand-off and the outbox) is `key_prefix` followed by
// `first_index + i`: the same example keeps its key across runs, so a re-run after a crash does
// not deliver it twice; "" makes keys up.
Result<RunSummary> RunOnDataset(const CascadeRunner& runner, const LabelledImages& set,
                                FieldPolicy* policy = nullptr,
                                const std::function<int()>& local_minute = {},
                                const std::string& key_prefix = {}, size_t first_index = 0);

// Both models on every example, for calibration.
Result<std::vector<ExampleRecord>> RecordBoth(const CascadeRunner& runner,
                                              const LabelledImages& set);

// The model input the images feed (the small model's only input). INVALID_ARGUMENT when the
// small model does not take one FP32 [1, 1, rows, cols] image.
Result<std::string> ImageInputName(const CascadeRunner& runner, const LabelledImages& set);

}  // namespace seam::cascade
