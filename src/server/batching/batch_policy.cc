#include "server/batching/batch_policy.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace seam::batching {
namespace {

// The longest queue-order prefix of one shape's requests that fits in max_batch_size.
struct Group {
  std::vector<size_t> members;
  int64_t rows = 0;
  size_t preferred_end = 0;  // members[0, preferred_end) add up to the largest preferred size hit
  bool full = false;         // rows == max, or the next request of this shape does not fit
};

int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > BatchAction::kNever - b ? BatchAction::kNever : a + b;
}

BatchAction RunAction(std::vector<size_t> indices) {
  BatchAction action;
  action.kind = BatchAction::Kind::kRun;
  action.run = std::move(indices);
  return action;
}

std::string ModelName(const BatchConfig& config) {
  return config.model.empty() ? std::string("model") : "model '" + config.model + "'";
}

// Whether to merge at all: yes unless the runs measured say merged runs cost as much per row as
// runs alone, or more (BlazeFace here). Until there is that evidence, merging goes on, and is
// measured: a few noisy early runs must not switch it off for good.
bool MergingPays(const BatchCost& cost) { return cost.merged_per_row_ratio < 1.0; }

}  // namespace

void NormalizeBatchConfig(BatchConfig* config) {
  std::vector<int64_t>& sizes = config->preferred_batch_sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
}

Status ValidateBatchConfig(const BatchConfig& c) {
  const std::string where = ModelName(c) + ": ";
  if (c.max_batch_size < 0) {
    return InvalidArgument(where + "max_batch_size must be >= 0, got " +
                           std::to_string(c.max_batch_size));
  }
  if (c.max_queue_delay_us < 0) {
    return InvalidArgument(where + "max_queue_delay_us must be >= 0, got " +
                           std::to_string(c.max_queue_delay_us));
  }
  if (c.max_queue_size < 0) {
    return InvalidArgument(where + "max_queue_size must be >= 0, got " +
                           std::to_string(c.max_queue_size));
  }
  if (c.max_batch_size == 0 && !c.preferred_batch_sizes.empty()) {
    return InvalidArgument(where + "preferred_batch_size needs max_batch_size > 0");
  }
  int64_t previous = 0;
  for (int64_t size : c.preferred_batch_sizes) {
    if (size < 1 || size > c.max_batch_size) {
      return InvalidArgument(where + "preferred_batch_size " + std::to_string(size) +
                             " is outside [1, max_batch_size " + std::to_string(c.max_batch_size) +
                             "]");
    }
    if (size <= previous) {
      return InvalidArgument(where + "preferred_batch_size must be ascending and unique, got " +
                             std::to_string(size) + " after " + std::to_string(previous));
    }
    previous = size;
  }
  return Status::Ok();
}

namespace {

// See DecideBatch in the header.
bool WaitingPays(const QueueSnapshot& snapshot, size_t waiting) {
  if (!snapshot.cost || !snapshot.interarrival_us) return true;
  // Ties wait: simultaneous arrivals (a gap of 0) cost nothing to wait for.
  return snapshot.cost->fixed_us >= *snapshot.interarrival_us * static_cast<double>(waiting);
}

}  // namespace

BatchAction DecideBatch(const BatchConfig& config, const QueueSnapshot& snapshot) {
  const std::span<const PendingRequest> queue = snapshot.requests;
  if (queue.empty()) return BatchAction{};
  if (config.max_batch_size == 0) return RunAction({0});
  if (snapshot.cost && !MergingPays(*snapshot.cost)) return RunAction({0});

  // One pass groups the queue by shape key; groups stay in the order of their oldest request.
  std::vector<Group> groups;
  std::unordered_map<std::string_view, size_t> group_of;
  for (size_t i = 0; i < queue.size(); ++i) {
    const auto [it, inserted] = group_of.try_emplace(queue[i].shape_key, groups.size());
    if (inserted) groups.emplace_back();
    Group& g = groups[it->second];
    if (g.full) continue;
    if (g.rows + queue[i].batch_size > config.max_batch_size && !g.members.empty()) {
      g.full = true;  // FIFO within a shape: a later, smaller request does not jump ahead
      continue;
    }
    g.members.push_back(i);
    g.rows += queue[i].batch_size;
    if (g.rows >= config.max_batch_size) {
      g.full = true;
    } else if (std::binary_search(config.preferred_batch_sizes.begin(),
                                  config.preferred_batch_sizes.end(), g.rows)) {
      g.preferred_end = g.members.size();
    }
  }

  int64_t wake_at = BatchAction::kNever;
  for (Group& g : groups) {
    const int64_t deadline =
        SaturatingAdd(queue[g.members[0]].arrival_us, config.max_queue_delay_us);
    if (g.full || snapshot.flush || snapshot.now_us >= deadline) {
      return RunAction(std::move(g.members));
    }
    if (g.preferred_end > 0) {
      g.members.resize(g.preferred_end);
      return RunAction(std::move(g.members));
    }
    if (!WaitingPays(snapshot, g.members.size())) {
      return RunAction(std::move(g.members));
    }
    wake_at = std::min(wake_at, deadline);
  }
  BatchAction wait;
  wait.kind = BatchAction::Kind::kWait;
  wait.wake_at_us = wake_at;
  return wait;
}

Status Admit(const BatchConfig& config, const QueueSnapshot& snapshot,
             const PendingRequest& request) {
  if (config.max_batch_size > 0 &&
      (request.batch_size < 1 || request.batch_size > config.max_batch_size)) {
    return InvalidArgument(ModelName(config) + ": request batch size " +
                           std::to_string(request.batch_size) + " is outside [1, max_batch_size " +
                           std::to_string(config.max_batch_size) + "]");
  }
  if (config.max_queue_size > 0 &&
      static_cast<int64_t>(snapshot.requests.size()) >= config.max_queue_size) {
    return Unavailable("queue of " + ModelName(config) + " is full (" +
                       std::to_string(snapshot.requests.size()) + " requests)");
  }
  return Status::Ok();
}

}  // namespace seam::batching
