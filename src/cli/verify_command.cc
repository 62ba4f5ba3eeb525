// `seam verify MODEL DIR`: runs the whole model and its segments on the same random inputs and
// checks that the outputs are bitwise equal (ORT graph optimisations off on both sides).
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "common/file_util.h"
#include "runtime/segment_chain.h"

namespace seam::cli {
namespace {

struct VerifyOptions {
  std::string model;
  std::string split_dir;
  int runs = 3;
  uint64_t seed = 1;
};

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || a.data.size() != b.data.size()) {
    return a.BitwiseEquals(b) ? 0.0 : INFINITY;
  }
  double worst = 0;
  for (size_t i = 0; i < a.data.size() / 4; ++i) {
    worst = std::max(worst, std::fabs(double(a.data_as<float>()[i]) - b.data_as<float>()[i]));
  }
  return worst;
}

int RunVerify(const VerifyOptions& options) {
  const std::string manifest_path =
      (std::filesystem::path(options.split_dir) / "manifest.json").string();
  auto bytes = ReadFile(options.model);
  if (!bytes.ok()) return ReportError(bytes.status());
  runtime::SessionOptions session_options;
  session_options.optimize = false;
  auto chain = runtime::SegmentChain::Open(manifest_path, session_options);
  if (!chain.ok()) return ReportError(chain.status());
  if (chain->manifest().source_sha256 != Sha256Hex(*bytes)) {
    return ReportError(InvalidArgument(manifest_path + " was split from another model (" +
                                       chain->manifest().source_model + "), not " + options.model));
  }
  auto whole = runtime::Session::Open(options.model, session_options);
  if (!whole.ok()) return ReportError(whole.status());

  bool all_equal = true;
  for (int run = 0; run < options.runs; ++run) {
    TensorMap inputs;
    for (const auto& spec : (*whole)->inputs()) {
      inputs[spec.name] = runtime::RandomTensor(spec, options.seed + run * 7919 + inputs.size());
    }
    auto expected = (*whole)->Run(inputs);
    if (!expected.ok()) return ReportError(expected.status());
    auto got = chain->Run(inputs);
    if (!got.ok()) return ReportError(got.status());
    for (const auto& [name, tensor] : *expected) {
      auto it = got->find(name);
      if (it == got->end()) {
        return ReportError(Internal("the segments did not produce model output '" + name + "'"));
      }
      const bool equal = tensor.BitwiseEquals(it->second);
      all_equal &= equal;
      std::printf("run %d  %-24s %-16s %s (max |diff| %.3g)\n", run, name.c_str(),
                  ShapeToString(tensor.shape).c_str(), equal ? "bitwise equal" : "DIFFERENT",
                  MaxAbsDiff(tensor, it->second));
    }
  }
  std::printf("%d segments vs whole model over %d random inputs: %s\n", chain->num_segments(),
              options.runs, all_equal ? "split equals whole" : "MISMATCH");
  return all_equal ? 0 : 1;
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand("verify", "check that a split's segments equal the model");
  cmd->add_option("model", options->model, "the ONNX model that was split")->required();
  cmd->add_option("split_dir", options->split_dir, "directory written by seam split")->required();
  cmd->add_option("--runs", options->runs, "random inputs to try")->check(kPositive);
  cmd->add_option("--seed", options->seed, "seed of the random inputs");
  cmd->callback([options, &exit_code] { exit_code = RunVerify(*options); });
}

}  // namespace seam::cli
