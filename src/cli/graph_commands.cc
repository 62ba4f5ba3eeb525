// `seam analyze` and `seam split`.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "graph/analysis.h"
#include "graph/segment_builder.h"

namespace seam::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "seam: error: %s\n", status.message().c_str());
  return 1;
}

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

}  // namespace seam::cli
