// The `seam` executable: flags in, one command out. Nothing here but parsing and dispatch.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"seam: divide deep-learning inference between device, edge and cloud"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "seam 0.1.0");

  seam::cli::AnalyzeOptions analyze;
  auto* analyze_cmd = app.add_subcommand("analyze", "per-node FLOPs and bytes, and candidate cuts");
  analyze_cmd->add_option("model", analyze.model, "ONNX model file")->required();
  analyze_cmd->add_option("--shape", analyze.shapes,
                          "fix an input's shape, NAME=D0,D1,... (default: dynamic batch = 1)");
  analyze_cmd->add_flag("--json", analyze.json, "print one JSON document (seam.analysis/v1)");

  seam::cli::SplitOptions split;
  std::vector<std::string> at, after_node;
  auto* split_cmd = app.add_subcommand("split", "cut a model into segments at boundaries");
  split_cmd->add_option("model", split.model, "ONNX model file")->required();
  auto* at_opt =
      split_cmd->add_option("--at", at, "a boundary: the tensors that cross it, T1,T2,...")
          ->allow_extra_args(false);
  auto* after_opt = split_cmd->add_option("--after-node", after_node, "a boundary right after NODE")
                        ->allow_extra_args(false);
  split_cmd->add_option("-o,--output", split.output_dir, "output directory")->required();
  split_cmd->add_flag("--external-data", split.external_data,
                      "store segment weights in .data files (default: as the model does)");

  seam::cli::VerifyOptions verify;
  auto* verify_cmd = app.add_subcommand("verify", "check that a split's segments equal the model");
  verify_cmd->add_option("model", verify.model, "the ONNX model that was split")->required();
  verify_cmd->add_option("split_dir", verify.split_dir, "directory written by seam split")
      ->required();
  verify_cmd->add_option("--runs", verify.runs, "random inputs to try")->check(CLI::PositiveNumber);
  verify_cmd->add_option("--seed", verify.seed, "seed of the random inputs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*analyze_cmd) return seam::cli::RunAnalyze(analyze);
    if (*split_cmd) {
      // Boundaries keep the order they were given in, whichever flag gave them.
      size_t next_at = 0, next_after = 0;
      for (const CLI::Option* opt : split_cmd->parse_order()) {
        if (opt == at_opt) split.boundaries.push_back("at:" + at[next_at++]);
        if (opt == after_opt) split.boundaries.push_back("after:" + after_node[next_after++]);
      }
      return seam::cli::RunSplit(split);
    }
    if (*verify_cmd) return seam::cli::RunVerify(verify);
  } catch (const std::exception& e) {
    // Last line of defence: every layer returns Status, so reaching this is a bug in seam.
    std::fprintf(stderr, "seam: internal error: %s\n", e.what());
    return 70;
  }
  return 0;
}
