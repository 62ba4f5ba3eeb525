// `seam calibrate`: which lossy codecs each tensor tolerates within an accuracy budget, for
// `seam plan --accuracy`.
#include <cstdio>

#include "cli/commands.h"
#include "common/file_util.h"
#include "profile/calibration.h"

namespace seam::cli {
namespace {

struct CalibrateOptions {
  std::string model;
  std::string codecs = "fp16,int8,int8_per_channel";
  profile::CalibrationOptions calibration;
  std::string output;
};

int RunCalibrate(CalibrateOptions o) {
  o.calibration.codecs.clear();
  size_t start = 0;
  while (start <= o.codecs.size()) {
    size_t comma = o.codecs.find(',', start);
    if (comma == std::string::npos) comma = o.codecs.size();
    o.calibration.codecs.push_back(o.codecs.substr(start, comma - start));
    start = comma + 1;
  }
  if (!(o.calibration.budget.max_rel_l2 > 0) || o.calibration.budget.min_top1_agreement < 0 ||
      o.calibration.budget.min_top1_agreement > 1) {
    return ReportError(
        InvalidArgument("the budget needs --max-rel-error > 0 and --min-top1 between 0 and 1"));
  }
  auto model = graph::LoadModel(o.model);
  if (!model.ok()) return ReportError(model.status());
  auto report = profile::Calibrate(*model, o.calibration);
  if (!report.ok()) return ReportError(report.status().WithContext(o.model));
  if (Status s = WriteFileAtomic(o.output, profile::AccuracyToJson(*report).dump(2) + "\n");
      !s.ok()) {
    return ReportError(s);
  }
  int allowed = 0, total = 0;
  for (const auto& [tensor, codecs] : report->tensors) {
    for (const auto& [codec, a] : codecs) {
      ++total;
      allowed += a.allowed;
    }
  }
  std::printf(
      "%zu tensors x %zu codecs on %d samples: %d of %d pairs within the budget "
      "(relative L2 <= %g, top-1 agreement >= %g); written to %s\n",
      report->tensors.size(), o.calibration.codecs.size(), report->samples, allowed, total,
      o.calibration.budget.max_rel_l2, o.calibration.budget.min_top1_agreement, o.output.c_str());
  return 0;
}

}  // namespace

void RegisterCalibrateCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* cmd = app.add_subcommand("calibrate", "measure which lossy codecs each tensor tolerates");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("--codecs", o->codecs, "lossy codecs to try, comma-separated");
  cmd->add_option("--samples", o->calibration.samples, "calibration inputs")->check(kPositive);
  cmd->add_option("--seed", o->calibration.seed, "seed of the calibration inputs");
  cmd->add_option("--max-rel-error", o->calibration.budget.max_rel_l2,
                  "budget: relative L2 error of every output (default 0.01)");
  cmd->add_option("--min-top1", o->calibration.budget.min_top1_agreement,
                  "budget: top-1 agreement of class-score outputs (default 0.995)");
  cmd->add_option("-o,--output", o->output, "accuracy file to write (seam.accuracy/v1)")
      ->required();
  cmd->callback([o, &exit_code] { exit_code = RunCalibrate(*o); });
}

}  // namespace seam::cli
