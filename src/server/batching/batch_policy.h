// The dynamic-batching decision, as pure functions over a snapshot of one model's queue.
//
// Semantics follow Triton's dynamic batcher: a batch runs at once when it reaches a preferred
// batch size or max_batch_size; otherwise the batcher waits until the oldest request has waited
// max_queue_delay_us and then runs what it has. Requests are merged only when every input has the
// same name, dtype and non-batch dimensions (equal shape keys).
//
// One difference from Triton, on purpose: Triton ends a batch at the first queued request whose
// shape differs, so interleaved shapes (A B A B ...) run one at a time. Here a batch takes the
// requests of its shape from the whole queue, in queue order, so each shape still batches; the
// group holding the oldest request still runs first unless it is not ready and a younger group is
// (full, preferred size or expired), which keeps a free model instance from idling.
//
// Nothing here reads a clock, locks or allocates beyond its result: DynamicBatcher (the thread
// driver) takes the snapshot under its lock and acts on the answer. All times are in microseconds
// on one monotonic timeline chosen by the caller; batch sizes count rows of dim 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/batching/batch_estimates.h"

namespace seam::batching {

// Per model, as in Triton's config.pbtxt `dynamic_batching { ... }`.
struct BatchConfig {
  std::string model;           // named in error messages only
  int64_t max_batch_size = 0;  // rows per merged run; 0 = batching disabled (one request per run)
  std::vector<int64_t> preferred_batch_sizes;  // ascending, unique, each in [1, max_batch_size]
  int64_t max_queue_delay_us = 0;              // how long the oldest request may wait for company
  int64_t max_queue_size = 0;                  // pending requests admitted at most; 0 = unbounded
};

// Sorts and de-duplicates preferred_batch_sizes (the "normalise" step before validation).
void NormalizeBatchConfig(BatchConfig* config);
// INVALID_ARGUMENT naming the field: negative values, preferred sizes unsorted or outside
// [1, max_batch_size], preferred sizes without batching.
Status ValidateBatchConfig(const BatchConfig& config);

// What the policy needs to know about one queued request.
struct PendingRequest {
  int64_t arrival_us = 0;  // when it was admitted
  int64_t batch_size = 1;  // its rows (dim 0 of its inputs); unused when batching is disabled
  std::string shape_key;   // equal keys <=> mergeable (see ShapeKey in tensor_batch.h)
};

struct QueueSnapshot {
  std::span<const PendingRequest> requests;  // queue order = admission order, oldest first
  int64_t now_us = 0;
  bool flush = false;  // shutting down: every request is treated as expired, nothing waits
  // What the batcher measured (batch_estimates.h); absent until it has seen enough. With both,
  // a batch that is not ready runs at once when waiting cannot pay (see DecideBatch).
  std::optional<BatchCost> cost;
  std::optional<double> interarrival_us;
};

struct BatchAction {
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  enum class Kind {
    kIdle,  // the queue is empty: sleep until a request arrives
    kWait,  // nothing is ready: sleep until wake_at_us or until a request arrives
    kRun,   // run the requests at `run` as one merged batch now
  };
  Kind kind = Kind::kIdle;
  std::vector<size_t> run;      // kRun: ascending indices into QueueSnapshot::requests
  int64_t wake_at_us = kNever;  // kWait: the earliest time a decision can change by itself
};

// Waiting never loses (seam's rule, beyond Triton's): a batch that is neither full nor at a
// preferred size waits for company only while that can pay. One more request saves at most one
// run's fixed cost (cost->fixed_us); waiting for it delays each of the q requests waiting by
// about the gap between arrivals. So the batch runs at once when fixed_us < interarrival_us * q:
// on an idle queue (long gaps) and for a model whose merged runs save little (small fixed cost).
// Without both estimates it waits up to max_queue_delay_us, as Triton does. And when merged runs
// were measured to cost as much per row as runs alone, or more (cost->merged_per_row_ratio >= 1),
// nothing is merged: the oldest request runs alone, on any free instance.
//
// The next action for one model's queue. Every request of a kRun action has the same shape key,
// they are in queue order, and their rows add up to at most max_batch_size (a single request
// larger than that, which Admit never lets in, would run alone rather than block the queue).
BatchAction DecideBatch(const BatchConfig& config, const QueueSnapshot& snapshot);

// Whether `request` may join the queue in `snapshot`:
//   INVALID_ARGUMENT when batching is on and its batch size is < 1 or > max_batch_size (it could
//   never run), UNAVAILABLE "queue of model 'X' is full (N requests)" when max_queue_size requests
//   are already pending (the client may retry).
Status Admit(const BatchConfig& config, const QueueSnapshot& snapshot,
             const PendingRequest& request);

}  // namespace seam::batching
