// What the batcher learns from its own runs and arrivals, so that the batching decision can tell
// whether waiting for company pays (batch_policy.h). Pure: the driver feeds it observations with
// its own clock; nothing here reads a clock or locks.
//
// Cost: a merged run of r rows is modelled as fixed_us + per_row_us * r. The fixed part is what
// merging saves per run avoided (ONNX Runtime's per-run overhead, reading a Gemm's weights once
// for all rows); the per-row part is paid anyway. Fitted by least squares over the mean time of
// each batch size seen (each an exponentially weighted mean, so the model follows a tier that
// slows down or speeds up; the first, cold run of each size is not counted). With only one batch
// size seen, the whole mean is taken as fixed: the most that merging could save, so that the
// batcher still tries merging and learns.
//
// Arrivals: the typical gap between admitted requests, an exponentially weighted mean of their
// logarithms (a geometric mean): clients that send in bursts (a batch's answers go out together
// and its clients send again together) have many short gaps and a few long ones, and the next
// arrival is due after a short one while a burst lasts; an arithmetic mean would call the queue
// idle in the middle of a burst. The gap open since the last admission is a floor: once nothing
// has arrived for longer than the typical gap, the burst is over (or the queue idle), and waiting
// for company looks as costly as the time already waited.
//
// All times in microseconds. Not thread-safe: the driver holds its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace seam::batching {

struct BatchCost {
  double fixed_us = 0;    // per run, saved by each run that merging avoids
  double per_row_us = 0;  // per row, paid whether merged or not
  // Time per row of merged runs over that of runs of one row, at the largest merged size with
  // enough runs (kEvidenceRuns each); 0 until then. >= 1: merging saves nothing, or loses.
  double merged_per_row_ratio = 0;
};

class BatchEstimates {
 public:
  // `max_rows`: the largest batch size recorded (larger runs count as max_rows).
  explicit BatchEstimates(int64_t max_rows);

  void ObserveRun(int64_t rows, int64_t compute_us);
  void ObserveArrival(int64_t now_us);

  // nullopt until a run was observed (besides each size's first).
  std::optional<BatchCost> cost() const;
  // nullopt until two arrivals were observed. `now_us`: the gap still open counts if longer.
  std::optional<double> interarrival_us(int64_t now_us) const;

 private:
  static constexpr double kWeight = 0.2;       // of the newest observation in each mean
  static constexpr int64_t kEvidenceRuns = 3;  // warm runs of a size before its ratio counts
  std::vector<double> mean_us_;                // by rows (index 0 unused); < 0: never seen
  std::vector<int64_t> runs_;                  // by rows: runs observed, the cold one included
  std::optional<int64_t> last_arrival_us_;
  std::optional<double> log_gap_;  // mean of log(1 + gap_us)
};

}  // namespace seam::batching
