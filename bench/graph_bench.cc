// graph_bench: how long seam's graph passes take on a 2,000-node model, against the cost of
// merely parsing that model's protobuf in the same process (the baseline every ratio divides by).
//
// Measured, each as the median of --reps repetitions:
//   parse           onnx::ModelProto::ParseFromString of the serialized bytes (baseline);
//   analyse         LoadModelFromBytes (parse, checker, SHA-256) + GraphView::Build + Analyze
//                   (shape inference, FLOPs, every cut and its bytes): what `seam analyze` does;
//   enumerate cuts  EnumerateCuts alone, on a view built beforehand;
//   one split       SplitModel after the middle compute node: view, inference, partition, two
//                   checked segments and a manifest written to a temporary directory.
// Goals are absolute (ms) because users wait on them; a missed goal is reported, not an error.
// Exit status: 0 when every step ran, even if a goal is missed; 1 on any error Status.
#include <stdlib.h>  // mkdtemp

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/synthetic_model.h"
#include "common/file_util.h"
#include "common/status.h"
#include "graph/analysis.h"
#include "graph/cuts.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "graph/segment_builder.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;

struct Measurement {
  std::string name;
  double median_ms = 0;
  double goal_ms = 0;  // 0: no goal (the baseline)
};

// A fresh directory under the system's temporary directory, removed with everything in it when
// this object goes away, so an interrupted or failed run leaves at most one directory behind.
class TempDir {
 public:
  static Result<TempDir> Create() {
    std::string pattern = (fs::temp_directory_path() / "seam_graph_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Unavailable("cannot create a temporary directory from '" + pattern + "'");
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Runs `step` `reps` times and returns the median wall time in ms; stops at the first error.
Result<double> MedianMs(int reps, const std::function<Status(int rep)>& step) {
  std::vector<double> times;
  for (int rep = 0; rep < reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    SEAM_RETURN_IF_ERROR(step(rep));
    const auto stop = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(times.begin(), times.end());
  const size_t mid = times.size() / 2;
  return times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

struct Options {
  int nodes = 2000;
  int reps = 5;
  std::string json_path;
  std::string save_model_path;
};

struct GraphFacts {
  int nodes = 0;          // in the ONNX graph
  int compute_nodes = 0;  // that cuts separate
  size_t cuts = 0;
  double mean_crossing = 0;  // tensors per cut
  size_t max_crossing = 0;
  size_t model_bytes = 0;
};

void PrintReport(const GraphFacts& facts, const std::vector<Measurement>& results, int reps) {
  std::printf(
      "graph_bench: %d nodes (%d compute), %zu cuts, crossing set mean %.2f / max %zu "
      "tensors, model %.1f KiB, median of %d\n\n",
      facts.nodes, facts.compute_nodes, facts.cuts, facts.mean_crossing, facts.max_crossing,
      facts.model_bytes / 1024.0, reps);
  std::printf("%-16s %12s %10s %12s  %s\n", "step", "median ms", "x parse", "goal", "result");
  const double baseline = results.front().median_ms;
  for (const auto& m : results) {
    const std::string goal =
        m.goal_ms > 0 ? "<= " + std::to_string(static_cast<int>(m.goal_ms)) + " ms" : "-";
    const char* verdict = m.goal_ms <= 0             ? "baseline"
                          : m.median_ms <= m.goal_ms ? "met"
                                                     : "NOT met";
    std::printf("%-16s %12.3f %10.1f %12s  %s\n", m.name.c_str(), m.median_ms,
                m.median_ms / baseline, goal.c_str(), verdict);
  }
}

Status WriteJson(const std::string& path, const GraphFacts& facts,
                 const std::vector<Measurement>& results, int reps) {
  nlohmann::json steps = nlohmann::json::array();
  const double baseline = results.front().median_ms;
  for (const auto& m : results) {
    nlohmann::json step = {
        {"name", m.name}, {"median_ms", m.median_ms}, {"ratio_to_parse", m.median_ms / baseline}};
    if (m.goal_ms > 0) {
      step["goal_ms"] = m.goal_ms;
      step["met"] = m.median_ms <= m.goal_ms;
    }
    steps.push_back(std::move(step));
  }
  const nlohmann::json doc = {{"benchmark", "graph_bench"},
                              {"nodes", facts.nodes},
                              {"compute_nodes", facts.compute_nodes},
                              {"cuts", facts.cuts},
                              {"mean_crossing_tensors", facts.mean_crossing},
                              {"max_crossing_tensors", facts.max_crossing},
                              {"model_bytes", facts.model_bytes},
                              {"repetitions", reps},
                              {"steps", steps}};
  return WriteFileAtomic(path, doc.dump(2) + "\n");
}

Status Run(const Options& options) {
  GraphFacts facts;
  std::string bytes;
  if (!MakeSyntheticCnn(options.nodes).SerializeToString(&bytes)) {
    return Internal("cannot serialize the synthetic model");
  }
  facts.model_bytes = bytes.size();
  SEAM_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create());
  const std::string model_path = (fs::path(dir.path()) / "synthetic_cnn.onnx").string();
  SEAM_RETURN_IF_ERROR(WriteFileAtomic(model_path, bytes));
  if (!options.save_model_path.empty()) {
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(options.save_model_path, bytes));
  }
  // Everything below starts from the file, as a user's model would.
  SEAM_ASSIGN_OR_RETURN(bytes, ReadFile(model_path));

  auto parse = [&](int) -> Status {
    onnx::ModelProto proto;
    return proto.ParseFromString(bytes) ? Status::Ok() : DataLoss("baseline parse failed");
  };
  auto analyse = [&](int) -> Status {
    SEAM_ASSIGN_OR_RETURN(graph::LoadedModel model,
                          graph::LoadModelFromBytes(bytes, model_path, dir.path()));
    SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(model.proto));
    SEAM_ASSIGN_OR_RETURN(graph::Analysis analysis, graph::Analyze(model, view, {}));
    if (analysis.nodes.size() != view.order().size()) return Internal("analysis lost nodes");
    return Status::Ok();
  };
  std::vector<Measurement> results;
  SEAM_ASSIGN_OR_RETURN(double parse_ms, MedianMs(options.reps, parse));
  results.push_back({"parse (baseline)", parse_ms, 0});
  SEAM_ASSIGN_OR_RETURN(double analyse_ms, MedianMs(options.reps, analyse));
  results.push_back({"analyse", analyse_ms, 1000});

  // The last two steps share one loaded model and view: loading is not what they measure.
  SEAM_ASSIGN_OR_RETURN(graph::LoadedModel model, graph::LoadModel(model_path));
  SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(model.proto));
  facts.nodes = model.proto.graph().node_size();
  facts.compute_nodes = static_cast<int>(view.order().size());
  std::vector<graph::Cut> cuts;
  auto enumerate = [&](int) {
    cuts = graph::EnumerateCuts(view);
    return Status::Ok();
  };
  SEAM_ASSIGN_OR_RETURN(double cuts_ms, MedianMs(options.reps, enumerate));
  results.push_back({"enumerate cuts", cuts_ms, 1000});
  facts.cuts = cuts.size();
  size_t crossing = 0;
  for (const auto& cut : cuts) {
    crossing += cut.tensors.size();
    facts.max_crossing = std::max(facts.max_crossing, cut.tensors.size());
  }
  facts.mean_crossing = cuts.empty() ? 0 : static_cast<double>(crossing) / cuts.size();

  graph::BoundarySpec middle;
  middle.after_node = view.node(view.order()[view.order().size() / 2 - 1]).name;
  auto split = [&](int rep) -> Status {
    const std::string out = (fs::path(dir.path()) / ("split_" + std::to_string(rep))).string();
    SEAM_ASSIGN_OR_RETURN(graph::Manifest manifest,
                          graph::SplitModel(model, {middle}, out, graph::SplitOptions{}));
    if (manifest.segments.size() != 2) return Internal("the split did not give two segments");
    return Status::Ok();
  };
  SEAM_ASSIGN_OR_RETURN(double split_ms, MedianMs(options.reps, split));
  results.push_back({"one split", split_ms, 1000});

  PrintReport(facts, results, options.reps);
  if (!options.json_path.empty()) {
    SEAM_RETURN_IF_ERROR(WriteJson(options.json_path, facts, results, options.reps));
  }
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options options;
  CLI::App app{"graph_bench: time seam's graph passes against protobuf parsing"};
  app.add_option("--nodes", options.nodes, "nodes in the generated model")
      ->check(CLI::Range(5, 1000000));
  app.add_option("--reps", options.reps, "repetitions per step (the median is reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", options.json_path, "also write the figures to this JSON file");
  app.add_option("--save-model", options.save_model_path,
                 "also save the generated model here (to inspect it, or run `seam analyze`)");
  CLI11_PARSE(app, argc, argv);
  const seam::Status status = seam::bench::Run(options);
  if (!status.ok()) {
    std::fprintf(stderr, "graph_bench: error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
