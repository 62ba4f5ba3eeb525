#include "profile/node_profiler.h"

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "profile/ort_trace.h"
#include "profile_format/timing.h"

namespace seam::profile {

Result<std::vector<NodeTiming>> MeasureNodes(const SegmentTimer& timer) {
  const TimerSettings& settings = timer.settings();
  const graph::GraphView& view = timer.view();
  onnx::ModelProto named = timer.model().proto;  // external data was already read in
  for (const auto& node : view.nodes()) {
    named.mutable_graph()->mutable_node(node.proto_index)->set_name(node.name);
  }
  const std::string path = timer.scratch_dir() + "/nodes.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    if (!out || !named.SerializeToOstream(&out)) return Internal("cannot write " + path);
  }
  runtime::SessionOptions options;
  options.intra_op_threads = settings.threads;
  options.optimize = false;
  options.profile_prefix = timer.scratch_dir() + "/ort_trace";
  SEAM_ASSIGN_OR_RETURN(auto session, runtime::Session::Open(path, options));
  for (int i = 0; i < settings.warmup + settings.runs; ++i) {
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(timer.inputs()));
  }
  SEAM_ASSIGN_OR_RETURN(std::string trace_path, session->EndProfiling());
  SEAM_ASSIGN_OR_RETURN(std::string trace, ReadFile(trace_path));
  std::error_code ec;
  std::filesystem::remove(trace_path, ec);
  SEAM_ASSIGN_OR_RETURN(KernelTimes times, ParseOrtTrace(trace, trace_path));

  std::vector<NodeTiming> nodes;
  for (graph::NodeId id : view.order()) {
    const graph::NodeInfo& node = view.node(id);
    auto it = times.find(node.name);
    if (it == times.end() || static_cast<int>(it->second.size()) < settings.runs) {
      return Internal("ONNX Runtime's profile has " +
                      std::to_string(it == times.end() ? 0 : it->second.size()) +
                      " kernel times for node '" + node.name + "', expected at least " +
                      std::to_string(settings.runs));
    }
    // The last `runs` events are the timed runs; the ones before them, the warm-ups.
    std::vector<double> last(it->second.end() - settings.runs, it->second.end());
    nodes.push_back({node.name, node.op_type, Summarize(std::move(last))});
  }
  return nodes;
}

}  // namespace seam::profile
