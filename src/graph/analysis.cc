#include "graph/analysis.h"

#include <algorithm>
#include <cstdio>

#include "common/dtype.h"
#include "graph/cuts.h"
#include "graph/flops.h"

namespace seam::graph {
namespace {

Result<TensorReport> Describe(const std::string& name, const TypeTable& types) {
  TensorReport r;
  r.name = name;
  auto it = types.find(name);
  if (it == types.end() || it->second.elem_type == 0) {
    r.dtype = "UNKNOWN";
    return r;
  }
  auto dtype = DTypeFromOnnx(it->second.elem_type);
  if (!dtype.ok()) return dtype.status().WithContext("tensor '" + name + "'");
  r.dtype = DTypeName(*dtype);
  r.shape = it->second.dims;
  if (it->second.fully_known()) {
    auto elements = CheckedElementCount(r.shape);
    auto bytes =
        elements ? CheckedMul(*elements, static_cast<int64_t>(DTypeSize(*dtype))) : std::nullopt;
    if (!bytes) {
      return InvalidArgument("tensor '" + name + "' has shape " + ShapeToString(r.shape) +
                             ", too large to exist (its size overflows 64 bits)");
    }
    r.bytes = *bytes;
  }
  return r;
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 0) return "?";
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f MiB", bytes / (1024.0 * 1024.0));
  }
  return buf;
}

nlohmann::json TensorJson(const TensorReport& t) {
  return {{"name", t.name},
          {"datatype", t.dtype},
          {"shape", t.shape},
          {"bytes", t.bytes < 0 ? nlohmann::json(nullptr) : nlohmann::json(t.bytes)}};
}

}  // namespace

Result<Analysis> Analyze(const LoadedModel& model, const GraphView& view,
                         const ShapeOverrides& overrides) {
  SEAM_ASSIGN_OR_RETURN(TypeTable types, InferFixedTypes(model.proto, view, overrides));
  Analysis a;
  a.model = model.path;
  for (TensorId t : view.model_inputs()) {
    SEAM_ASSIGN_OR_RETURN(TensorReport r, Describe(view.tensor(t).name, types));
    a.inputs.push_back(std::move(r));
  }
  for (TensorId t : view.model_outputs()) {
    SEAM_ASSIGN_OR_RETURN(TensorReport r, Describe(view.tensor(t).name, types));
    a.outputs.push_back(std::move(r));
  }
  std::vector<int64_t> tensor_bytes(view.tensors().size(), -1);
  std::vector<char> counted(view.tensors().size(), 0);
  for (NodeId n : view.order()) {
    const NodeInfo& node = view.node(n);
    NodeReport r;
    r.position = node.position;
    r.name = node.name;
    r.op_type = node.op_type;
    for (TensorId t : node.outputs) {
      SEAM_ASSIGN_OR_RETURN(TensorReport out, Describe(view.tensor(t).name, types));
      tensor_bytes[t] = out.bytes;
      if (out.bytes < 0 || r.output_bytes < 0 ||
          __builtin_add_overflow(r.output_bytes, out.bytes, &r.output_bytes)) {
        r.output_bytes = -1;
      }
      r.outputs.push_back(std::move(out));
    }
    for (TensorId t : node.inputs) {
      if (!view.tensor(t).is_initializer) continue;
      SEAM_ASSIGN_OR_RETURN(TensorReport in, Describe(view.tensor(t).name, types));
      // Initializers hold their bytes in the file, so these sums are bounded by its size.
      r.param_bytes += std::max<int64_t>(in.bytes, 0);
      if (!counted[t]) a.total_param_bytes += std::max<int64_t>(in.bytes, 0);
      counted[t] = 1;
    }
    FlopCount flops = CountFlops(node, types);
    r.flops = flops.flops;
    r.flops_known = flops.known;
    if (__builtin_add_overflow(a.total_flops, flops.flops, &a.total_flops)) {
      return InvalidArgument("the model's FLOP count overflows 64 bits");
    }
    a.nodes.push_back(std::move(r));
  }
  for (TensorId t : view.model_inputs()) {
    for (const auto& in : a.inputs) {
      if (in.name == view.tensor(t).name) tensor_bytes[t] = in.bytes;
    }
  }
  a.constant_nodes = static_cast<int>(view.constant_nodes().size());
  for (const Cut& cut : EnumerateCuts(view)) {
    CutReport r;
    r.position = cut.position;
    r.after_node = view.node(view.order()[cut.position - 1]).name;
    for (TensorId t : cut.tensors) {
      r.tensors.push_back(view.tensor(t).name);
      if (tensor_bytes[t] < 0 || __builtin_add_overflow(r.bytes, tensor_bytes[t], &r.bytes)) {
        ++r.unknown_tensors;
      }
    }
    a.cuts.push_back(std::move(r));
  }
  return a;
}

nlohmann::json AnalysisToJson(const Analysis& a) {
  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& t : a.inputs) inputs.push_back(TensorJson(t));
  for (const auto& t : a.outputs) outputs.push_back(TensorJson(t));
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : a.nodes) {
    nlohmann::json outs = nlohmann::json::array();
    for (const auto& t : n.outputs) outs.push_back(TensorJson(t));
    nodes.push_back({{"position", n.position},
                     {"name", n.name},
                     {"op_type", n.op_type},
                     {"outputs", outs},
                     {"flops", n.flops},
                     {"flops_known", n.flops_known},
                     {"param_bytes", n.param_bytes},
                     {"output_bytes", n.output_bytes < 0 ? nlohmann::json(nullptr)
                                                         : nlohmann::json(n.output_bytes)}});
  }
  nlohmann::json cuts = nlohmann::json::array();
  for (const auto& c : a.cuts) {
    cuts.push_back({{"position", c.position},
                    {"after_node", c.after_node},
                    {"tensors", c.tensors},
                    {"bytes", c.bytes},
                    {"unknown_tensors", c.unknown_tensors}});
  }
  return {{"schema", "seam.analysis/v1"},
          {"model", a.model},
          {"inputs", inputs},
          {"outputs", outputs},
          {"totals",
           {{"nodes", a.nodes.size()},
            {"constant_nodes", a.constant_nodes},
            {"flops", a.total_flops},
            {"param_bytes", a.total_param_bytes}}},
          {"nodes", nodes},
          {"cuts", cuts}};
}

std::string AnalysisToText(const Analysis& a) {
  std::string out;
  char line[512];
  auto tensor_line = [&](const char* kind, const TensorReport& t) {
    std::snprintf(line, sizeof line, "%-7s %-28s %-5s %-20s %s\n", kind, t.name.c_str(),
                  t.dtype.c_str(), ShapeToString(t.shape).c_str(), HumanBytes(t.bytes).c_str());
    out += line;
  };
  out += "model " + a.model + "\n";
  for (const auto& t : a.inputs) tensor_line("input", t);
  for (const auto& t : a.outputs) tensor_line("output", t);
  std::snprintf(line, sizeof line,
                "%zu compute nodes, %d constant nodes, %.3f MFLOPs, %s of parameters\n\n",
                a.nodes.size(), a.constant_nodes, a.total_flops / 1e6,
                HumanBytes(a.total_param_bytes).c_str());
  out += line;
  std::snprintf(line, sizeof line, "%5s  %-32s %-18s %-22s %5s %12s %10s %10s\n", "pos", "node",
                "op", "output shape", "dtype", "FLOPs", "params", "out bytes");
  out += line;
  for (const auto& n : a.nodes) {
    const TensorReport* first = n.outputs.empty() ? nullptr : &n.outputs.front();
    std::snprintf(
        line, sizeof line, "%5d  %-32s %-18s %-22s %5s %12s %10s %10s\n", n.position,
        n.name.c_str(), n.op_type.c_str(), first ? ShapeToString(first->shape).c_str() : "-",
        first ? first->dtype.c_str() : "-", n.flops_known ? std::to_string(n.flops).c_str() : "?",
        HumanBytes(n.param_bytes).c_str(), HumanBytes(n.output_bytes).c_str());
    out += line;
  }
  // The cuts that move the fewest bytes: the usual first candidates for a split.
  std::vector<const CutReport*> smallest;
  for (const auto& c : a.cuts) smallest.push_back(&c);
  std::stable_sort(smallest.begin(), smallest.end(),
                   [](const CutReport* x, const CutReport* y) { return x->bytes < y->bytes; });
  smallest.resize(std::min<size_t>(smallest.size(), 5));
  out += "\nsmallest cuts\n";
  for (const CutReport* c : smallest) {
    std::snprintf(line, sizeof line, "%5d  after %-40s %10s  %zu tensor(s)\n", c->position,
                  c->after_node.c_str(), HumanBytes(c->bytes).c_str(), c->tensors.size());
    out += line;
  }
  out += "\ncandidate cuts (position = nodes before the cut)\n";
  std::snprintf(line, sizeof line, "%5s  %-32s %10s  %s\n", "pos", "after node", "bytes",
                "crossing tensors");
  out += line;
  for (const auto& c : a.cuts) {
    std::string names;
    for (const auto& t : c.tensors) names += (names.empty() ? "" : ", ") + t;
    std::snprintf(line, sizeof line, "%5d  %-32s %10s  ", c.position, c.after_node.c_str(),
                  (HumanBytes(c.bytes) + (c.unknown_tensors ? "+?" : "")).c_str());
    out += line + names + "\n";
  }
  return out;
}

}  // namespace seam::graph
