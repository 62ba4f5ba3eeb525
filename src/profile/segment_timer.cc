#include "profile/segment_timer.h"

#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/dtype.h"
#include "graph/cuts.h"
#include "graph/segment_builder.h"
#include "profile_format/timing.h"
#include "runtime/segment_chain.h"

namespace seam::profile {
namespace {
namespace fs = std::filesystem;

runtime::SessionOptions Deployed(const TimerSettings& settings) {
  runtime::SessionOptions options;
  options.intra_op_threads = settings.threads;
  options.optimize = true;
  return options;
}

// Identity on a 1-element float tensor: a Run that does no work worth the name.
onnx::ModelProto IdentityModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("seam profile");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("overhead");
  for (auto* value : {graph->add_input(), graph->add_output()}) {
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    type->mutable_shape()->add_dim()->set_dim_value(1);
  }
  graph->mutable_input(0)->set_name("x");
  graph->mutable_output(0)->set_name("y");
  auto* node = graph->add_node();
  node->set_op_type("Identity");
  node->set_name("identity");
  const std::string input = "x", output = "y";
  node->add_input(input);
  node->add_output(output);
  return model;
}

Status WriteProto(const onnx::ModelProto& model, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) return Internal("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<std::string> MakeScratchDir(const std::string& stem) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path() /
                       (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!fs::create_directories(dir, ec)) {
    return Unavailable("cannot create scratch directory " + dir.string() + ": " + ec.message());
  }
  return dir.string();
}

Result<Timing> TimeRuns(const runtime::Session& session, const TensorMap& inputs, int warmup,
                        int runs, double min_batch_ms) {
  using Clock = std::chrono::steady_clock;
  auto elapsed_ms = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  for (int i = 0; i < warmup; ++i) {
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session.Run(inputs));
  }
  // A batch ends at the first Run that completes after min_batch_ms, rather than after a count
  // sized from one Run: under a CPU quota a single Run may escape throttling, and a count sized
  // from it would make every batch 1/quota times longer than asked.
  std::vector<double> samples;
  samples.reserve(runs);
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    int batch = 0;
    double ms = 0;
    do {
      SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session.Run(inputs));
      ++batch;
      ms = elapsed_ms(start);
    } while (ms < min_batch_ms);
    samples.push_back(ms / batch);
  }
  return Summarize(std::move(samples));
}

Result<std::unique_ptr<SegmentTimer>> SegmentTimer::Create(const std::string& model_path,
                                                           const TimerSettings& settings) {
  std::unique_ptr<SegmentTimer> timer(new SegmentTimer());
  timer->settings_ = settings;
  SEAM_ASSIGN_OR_RETURN(graph::LoadedModel model, graph::LoadModel(model_path));
  timer->model_ = std::make_unique<graph::LoadedModel>(std::move(model));
  SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(timer->model_->proto));
  timer->view_ = std::make_unique<graph::GraphView>(std::move(view));
  if (timer->view_->order().empty()) {
    return InvalidArgument(model_path + ": no compute nodes (nothing depends on a model input)");
  }
  SEAM_ASSIGN_OR_RETURN(timer->types_, graph::InferSymbolicTypes(timer->model_->proto));
  SEAM_ASSIGN_OR_RETURN(timer->fixed_types_,
                        graph::InferFixedTypes(timer->model_->proto, *timer->view_, {}));
  SEAM_ASSIGN_OR_RETURN(timer->whole_, runtime::Session::Open(model_path, Deployed(settings)));
  uint64_t seed = settings.seed;
  for (const auto& spec : timer->whole_->inputs()) {
    timer->inputs_[spec.name] = runtime::RandomTensor(spec, seed++);
  }
  SEAM_ASSIGN_OR_RETURN(timer->scratch_, MakeScratchDir("seam-profile"));
  return timer;
}

SegmentTimer::~SegmentTimer() {
  std::error_code ec;
  if (!scratch_.empty()) fs::remove_all(scratch_, ec);
}

std::optional<int64_t> SegmentTimer::BoundaryBytes(int first, int last) const {
  if (first < 0 || first > last || last >= num_nodes()) return std::nullopt;
  int64_t bytes = 0;
  for (graph::TensorId t : graph::SegmentBoundary(*view_, first, last)) {
    auto it = fixed_types_.find(view_->tensor(t).name);
    if (it == fixed_types_.end() || !it->second.fully_known()) return std::nullopt;
    auto dtype = DTypeFromOnnx(it->second.elem_type);
    if (!dtype.ok()) return std::nullopt;
    bytes += ElementCount(it->second.dims) * static_cast<int64_t>(DTypeSize(*dtype));
  }
  return bytes;
}

Result<Timing> SegmentTimer::MeasureWhole() {
  return TimeRuns(*whole_, inputs_, settings_.warmup, settings_.runs, settings_.min_batch_ms);
}

Result<Timing> SegmentTimer::MeasureOverhead() {
  const std::string path = scratch_ + "/overhead.onnx";
  SEAM_RETURN_IF_ERROR(WriteProto(IdentityModel(), path));
  SEAM_ASSIGN_OR_RETURN(auto session, runtime::Session::Open(path, Deployed(settings_)));
  const TensorMap inputs = {{"x", runtime::RandomTensor(session->inputs()[0], settings_.seed)}};
  return TimeRuns(*session, inputs, settings_.warmup, settings_.runs, settings_.min_batch_ms);
}

Result<Timing> SegmentTimer::MeasureSegment(int first, int last) {
  const int n = num_nodes();
  const std::string name = "segment [" + std::to_string(first) + "," + std::to_string(last) + "]";
  if (first < 0 || first > last || last >= n) {
    return InvalidArgument(name + " is not a range of the model's " + std::to_string(n) +
                           " compute nodes");
  }
  if (first == 0 && last == n - 1) return MeasureWhole();
  std::vector<graph::BoundarySpec> boundaries;
  const auto& order = view_->order();
  if (first > 0) boundaries.push_back({.after_node = view_->node(order[first - 1]).name});
  if (last < n - 1) boundaries.push_back({.after_node = view_->node(order[last]).name});
  const int target = first > 0 ? 1 : 0;

  const std::string dir =
      scratch_ + "/segment_" + std::to_string(first) + "_" + std::to_string(last);
  SEAM_ASSIGN_OR_RETURN(graph::Partition partition,
                        graph::PartitionAtBoundaries(*view_, boundaries));
  SEAM_ASSIGN_OR_RETURN(std::vector<graph::SegmentModel> segments,
                        graph::BuildSegments(*model_, *view_, partition, types_));
  graph::SplitOptions split_options;
  split_options.external_data = model_->had_external_data;
  SEAM_ASSIGN_OR_RETURN(
      graph::Manifest manifest,
      graph::WriteSplit(segments, *model_, partition.boundaries, dir, split_options));
  // Only the segments up to the target are opened: those before it make its inputs.
  TensorMap available = inputs_;
  Result<Timing> timing = Internal(name + ": not measured");
  for (int k = 0; k <= target; ++k) {
    SEAM_ASSIGN_OR_RETURN(
        auto session,
        runtime::Session::Open(dir + "/" + manifest.segments[k].file, Deployed(settings_)));
    if (k == target) {
      timing =
          TimeRuns(*session, available, settings_.warmup, settings_.runs, settings_.min_batch_ms);
      break;
    }
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(available));
    for (auto& [tensor, value] : outputs) available[tensor] = std::move(value);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!timing.ok()) return timing.status().WithContext(name);
  return timing;
}

}  // namespace seam::profile
