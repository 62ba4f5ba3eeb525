#include "plan/plan_graph.h"

#include "common/dtype.h"
#include "graph/analysis.h"
#include "graph/graph_view.h"

namespace seam::plan {

Result<PlanGraph> PlanGraphFromModel(const graph::LoadedModel& model,
                                     const graph::ShapeOverrides& overrides) {
  SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(model.proto));
  SEAM_ASSIGN_OR_RETURN(graph::TypeTable types,
                        graph::InferFixedTypes(model.proto, view, overrides));
  PlanGraph g;
  g.model_path = model.path;
  g.model_sha256 = model.sha256;
  for (graph::NodeId n : view.order()) {
    const graph::NodeInfo& node = view.node(n);
    PlanNode p{node.name, node.op_type, 0};
    for (graph::TensorId t : node.inputs) {
      const graph::TensorInfo& info = view.tensor(t);
      if (!info.is_initializer) continue;
      auto it = types.find(info.name);
      if (it != types.end() && it->second.fully_known()) {
        auto dtype = DTypeFromOnnx(it->second.elem_type);
        if (dtype.ok()) p.param_bytes += ElementCount(it->second.dims) * DTypeSize(*dtype);
      }
    }
    g.nodes.push_back(std::move(p));
  }
  for (graph::TensorId t = 0; t < static_cast<graph::TensorId>(view.tensors().size()); ++t) {
    const graph::TensorInfo& info = view.tensor(t);
    if (info.is_constant) continue;
    PlanTensor p;
    p.name = info.name;
    p.producer = info.producer >= 0 ? view.node(info.producer).position : -1;
    for (graph::NodeId c : info.consumers) {
      if (!view.node(c).is_constant) p.consumers.push_back(view.node(c).position);
    }
    p.is_model_output = info.is_model_output;
    if (p.consumers.empty() && !p.is_model_output) continue;  // dead output: never moves
    auto it = types.find(info.name);
    if (it == types.end() || !it->second.fully_known()) {
      return Unimplemented("tensor '" + info.name +
                           "' has a data-dependent size; the planner needs every tensor's bytes");
    }
    SEAM_ASSIGN_OR_RETURN(DType dtype, DTypeFromOnnx(it->second.elem_type));
    p.bytes = ElementCount(it->second.dims) * static_cast<int64_t>(DTypeSize(dtype));
    p.is_float32 = dtype == DType::kFloat32;
    g.tensors.push_back(std::move(p));
  }
  return g;
}

}  // namespace seam::plan
