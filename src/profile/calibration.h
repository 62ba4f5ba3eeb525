// Accuracy calibration of lossy codecs: which codec may carry which tensor across a link without
// the model's results drifting beyond the user's budget.
//
// For each candidate tensor (every FP32 tensor that some cut could send: produced by a compute
// node, read by another, not itself a model output) and each lossy codec, the model is run on the
// calibration inputs with that tensor alone replaced by decode(encode(tensor)), and its outputs
// are compared with the FP32 run: the worst relative L2 error over outputs and samples, and, for
// outputs shaped like class scores ([N, C], C > 1), the top-1 agreement. A codec is allowed for a
// tensor when both are within the budget. Errors of several lossy tensors in one plan compound;
// the default budget is strict enough that a handful of them stays within a few times the bound.
//
// Runs ONNX Runtime (graph optimisations disabled, so that only the codec changes the numbers).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "graph/model_loader.h"

namespace seam::profile {

struct AccuracyBudget {
  double max_rel_l2 = 1e-2;           // relative L2 error of every model output
  double min_top1_agreement = 0.995;  // fraction of samples whose arg-max is unchanged
};

struct CalibrationOptions {
  std::vector<std::string> codecs = {"fp16", "int8", "int8_per_channel"};
  int samples = 8;  // random inputs (uniform in [-1, 1), dynamic dims = 1)
  uint64_t seed = 1;
  AccuracyBudget budget;
};

struct CodecAccuracy {
  double rel_l2 = 0;
  double top1_agreement = 1;  // 1 when no output looks like class scores
  bool allowed = false;
};

struct AccuracyReport {
  static constexpr const char* kSchema = "seam.accuracy/v1";
  std::string model_path;
  std::string model_sha256;
  AccuracyBudget budget;
  int samples = 0;
  // tensor -> codec -> accuracy
  std::map<std::string, std::map<std::string, CodecAccuracy>> tensors;

  // tensor -> the lossy codecs the budget allows (what the planner reads).
  std::map<std::string, std::vector<std::string>> Allowed() const;
};

Result<AccuracyReport> Calibrate(const graph::LoadedModel& model,
                                 const CalibrationOptions& options);

nlohmann::json AccuracyToJson(const AccuracyReport& report);
Result<AccuracyReport> ReadAccuracy(const std::string& path);

}  // namespace seam::profile
