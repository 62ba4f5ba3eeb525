// `seam analyze` and `seam split`.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "graph/analysis.h"
#include "graph/segment_builder.h"

namespace seam::cli {
namespace {

struct AnalyzeOptions {
  std::string model;
  std::vector<std::string> shapes;  // NAME=D0,D1,...
  bool json = false;
};

struct SplitOptions {
  std::string model;
  // Boundaries in the order given: "at:" + comma-separated tensor names, or "after:" + a node.
  std::vector<std::string> boundaries;
  std::string output_dir;
  bool external_data = false;
};

int RunAnalyze(const AnalyzeOptions& options) {
  graph::ShapeOverrides overrides;
  for (const auto& text : options.shapes) {
    if (Status s = graph::ParseShapeOverride(text, overrides); !s.ok()) return ReportError(s);
  }
  auto model = graph::LoadModel(options.model);
  if (!model.ok()) return ReportError(model.status());
  auto view = graph::GraphView::Build(model->proto);
  if (!view.ok()) return ReportError(view.status().WithContext(options.model));
  auto analysis = graph::Analyze(*model, *view, overrides);
  if (!analysis.ok()) return ReportError(analysis.status().WithContext(options.model));
  if (options.json) {
    std::cout << graph::AnalysisToJson(*analysis).dump(2) << "\n";
  } else {
    std::cout << graph::AnalysisToText(*analysis);
  }
  return 0;
}

int RunSplit(const SplitOptions& options) {
  auto model = graph::LoadModel(options.model);
  if (!model.ok()) return ReportError(model.status());
  std::vector<graph::BoundarySpec> boundaries;
  for (const auto& spec : options.boundaries) {
    const std::string value = spec.substr(spec.find(':') + 1);
    graph::BoundarySpec boundary;
    if (value.empty()) {
      return ReportError(InvalidArgument("boundary " + std::to_string(boundaries.size() + 1) +
                                         " is empty: give tensor names to --at or a node name "
                                         "to --after-node"));
    }
    if (spec.starts_with("after:")) {
      boundary.after_node = value;
    } else {
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        boundary.tensors.push_back(value.substr(start, end - start));
        start = end + 1;
      }
    }
    boundaries.push_back(std::move(boundary));
  }
  if (boundaries.empty()) {
    return ReportError(InvalidArgument("give at least one boundary with --at or --after-node"));
  }
  graph::SplitOptions split_options;
  split_options.external_data = options.external_data || model->had_external_data;
  auto manifest = graph::SplitModel(*model, boundaries, options.output_dir, split_options);
  if (!manifest.ok()) return ReportError(manifest.status().WithContext(options.model));
  for (const auto& s : manifest->segments) {
    std::printf("%s/%s: %d nodes (%s .. %s), %zu inputs, %zu outputs\n", options.output_dir.c_str(),
                s.file.c_str(), s.num_nodes, s.first_node.c_str(), s.last_node.c_str(),
                s.inputs.size(), s.outputs.size());
  }
  std::printf("%s/manifest.json\n", options.output_dir.c_str());
  return 0;
}

}  // namespace

int ReportError(const Status& status) {
  std::fprintf(stderr, "seam: error: %s\n", status.message().c_str());
  return 1;
}

void RegisterGraphCommands(CLI::App& app, int& exit_code) {
  auto analyze = std::make_shared<AnalyzeOptions>();
  auto* analyze_cmd = app.add_subcommand("analyze", "per-node FLOPs and bytes, and candidate cuts");
  analyze_cmd->add_option("model", analyze->model, "ONNX model file")->required();
  analyze_cmd->add_option("--shape", analyze->shapes,
                          "fix an input's shape, NAME=D0,D1,... (default: dynamic batch = 1)");
  analyze_cmd->add_flag("--json", analyze->json, "print one JSON document (seam.analysis/v1)");
  analyze_cmd->callback([analyze, &exit_code] { exit_code = RunAnalyze(*analyze); });

  auto split = std::make_shared<SplitOptions>();
  auto at = std::make_shared<std::vector<std::string>>();
  auto after_node = std::make_shared<std::vector<std::string>>();
  auto* split_cmd = app.add_subcommand("split", "cut a model into segments at boundaries");
  split_cmd->add_option("model", split->model, "ONNX model file")->required();
  auto* at_opt =
      split_cmd->add_option("--at", *at, "a boundary: the tensors that cross it, T1,T2,...")
          ->allow_extra_args(false);
  auto* after_opt =
      split_cmd->add_option("--after-node", *after_node, "a boundary right after NODE")
          ->allow_extra_args(false);
  split_cmd->add_option("-o,--output", split->output_dir, "output directory")->required();
  split_cmd->add_flag("--external-data", split->external_data,
                      "store segment weights in .data files (default: as the model does)");
  split_cmd->callback([=, &exit_code] {
    // Boundaries keep the order they were given in, whichever flag gave them.
    size_t next_at = 0, next_after = 0;
    for (const CLI::Option* opt : split_cmd->parse_order()) {
      if (opt == at_opt) split->boundaries.push_back("at:" + (*at)[next_at++]);
      if (opt == after_opt) split->boundaries.push_back("after:" + (*after_node)[next_after++]);
    }
    exit_code = RunSplit(*split);
  });
}

}  // namespace seam::cli
