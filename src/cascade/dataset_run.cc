#include "cascade/dataset_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/percentile.h"

namespace seam::cascade {
Result<std::string> ImageInputName(const CascadeRunner& runner, const LabelledImages& set) {
  const auto& inputs = runner.small().inputs();
  const std::vector<int64_t> want = {1, 1, set.rows, set.cols};
  bool fits = inputs.size() == 1 && inputs[0].dtype == DType::kFloat32 &&
              inputs[0].shape.size() == want.size();
  for (size_t i = 0; fits && i < want.size(); ++i) {
    fits = inputs[0].shape[i] < 0 || inputs[0].shape[i] == want[i];
  }
  if (!fits) {
    return InvalidArgument(
        "the small model does not take the dataset's images (one FP32 input [1, 1, " +
        std::to_string(set.rows) + ", " + std::to_string(set.cols) + "])");
  }
  return inputs[0].name;
}

Result<RunSummary> RunOnDataset(const CascadeRunner& runner, const LabelledImages& set,
                                FieldPolicy* policy, const std::function<int()>& local_minute,
                                const std::string& key_prefix, size_t first_index) {
  SEAM_ASSIGN_OR_RETURN(std::string input, ImageInputName(runner, set));
  RunSummary s;
  std::vector<double> ms;
  double bytes = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    TensorMap feed;
    feed.emplace(input, set.Image(i));
    if (policy && policy->Admit(feed.at(input), local_minute ? local_minute() : 0) !=
                      FrameVerdict::kProcess) {
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    std::string key;
    if (!key_prefix.empty()) {
      key = key_prefix;
      key += std::to_string(first_index + i);
    }
    SEAM_ASSIGN_OR_RETURN(CascadeAnswer a, runner.Run(feed, key));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    ++s.examples;
    s.correct += a.top_class == set.labels[i];
    s.small_answered += a.tier == "small" && !a.degraded;
    s.handed_off += !a.decision.confident;
    s.degraded += a.degraded;
    s.queued += a.queued;
    bytes += static_cast<double>(a.bytes_up);
  }
  s.p50_ms = Percentile(ms, 0.5);
  s.p99_ms = Percentile(ms, 0.99);
  for (double v : ms) s.mean_ms += v / static_cast<double>(std::max<size_t>(1, ms.size()));
  s.bytes_up_per_input = s.examples ? bytes / static_cast<double>(s.examples) : 0;
  if (policy) {
    s.field = policy->counters();
  } else {
    s.field.frames = s.field.processed = s.examples;
  }
  return s;
}

Result<std::vector<ExampleRecord>> RecordBoth(const CascadeRunner& runner,
                                              const LabelledImages& set) {
  SEAM_ASSIGN_OR_RETURN(std::string input, ImageInputName(runner, set));
  std::vector<ExampleRecord> records;
  records.reserve(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    TensorMap feed;
    feed.emplace(input, set.Image(i));
    auto both = runner.RunBoth(feed);
    if (!both.ok()) return both.status().WithContext("example " + std::to_string(i));
    records.push_back({.score = both->decision.score,
                       .small_class = both->decision.top_class,
                       .big_class = both->big_class,
                       .label = set.labels[i],
                       .small_ms = both->small_ms,
                       .big_ms = both->big_ms,
                       .bytes_up = static_cast<double>(both->bytes_up)});
  }
  return records;
}

}  // namespace seam::cascade
