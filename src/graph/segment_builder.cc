#include "graph/segment_builder.h"

#include <onnx/checker.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/file_util.h"

namespace seam::graph {
namespace fs = std::filesystem;
namespace {

std::string SegmentName(int index) { return "segment_" + std::to_string(index); }

// The type a boundary tensor is declared with in the segment, and its manifest entry.
Result<SegmentTensor> DescribeTensor(const std::string& name, const TypeTable& types,
                                     onnx::TypeProto& type_out) {
  auto it = types.find(name);
  if (it == types.end() || it->second.elem_type == 0) {
    return Unimplemented("cannot determine the type of tensor '" + name +
                         "', which crosses a boundary (ONNX shape inference does not cover the "
                         "op that produces it); cut elsewhere");
  }
  auto dtype = DTypeFromOnnx(it->second.elem_type);
  if (!dtype.ok()) return dtype.status().WithContext("tensor '" + name + "'");
  type_out = it->second.proto;
  SegmentTensor out;
  out.name = name;
  out.dtype = DTypeName(*dtype);
  if (it->second.has_shape) out.shape = it->second.dims;
  return out;
}

}  // namespace

Result<std::vector<SegmentModel>> BuildSegments(const LoadedModel& source, const GraphView& view,
                                                const Partition& partition,
                                                const TypeTable& types) {
  const onnx::ModelProto& model = source.proto;
  const onnx::GraphProto& graph = model.graph();
  for (TensorId t : view.model_outputs()) {
    const TensorInfo& info = view.tensor(t);
    if (info.producer < 0 || info.is_constant) {
      return Unimplemented("model output '" + info.name +
                           "' is a model input or a constant, not computed by a node; seam "
                           "cannot split such a model");
    }
  }
  std::unordered_map<std::string, const onnx::ValueInfoProto*> declared;
  for (const auto& v : graph.input()) declared[v.name()] = &v;
  for (const auto& v : graph.output()) {
    if (v.has_type()) declared[v.name()] = &v;
  }

  std::vector<SegmentModel> segments(partition.num_segments);
  for (int s = 0; s < partition.num_segments; ++s) {
    const auto& nodes = partition.segment_nodes[s];
    SegmentModel& segment = segments[s];
    SegmentInfo& info = segment.info;
    info.index = s;
    info.num_nodes = static_cast<int>(nodes.size());
    info.first_node = view.node(nodes.front()).name;
    info.last_node = view.node(nodes.back()).name;

    // What the segment reads from outside, and which constants it needs.
    std::vector<TensorId> inputs;
    std::unordered_set<TensorId> seen_inputs, needed_constants;
    std::vector<TensorId> constant_stack;
    for (NodeId n : nodes) {
      for (TensorId t : view.node(n).inputs) {
        const TensorInfo& ti = view.tensor(t);
        if (ti.is_constant) {
          if (needed_constants.insert(t).second) constant_stack.push_back(t);
        } else if ((ti.producer < 0 || partition.segment_of_node[ti.producer] != s) &&
                   seen_inputs.insert(t).second) {
          inputs.push_back(t);
        }
      }
    }
    std::unordered_set<NodeId> constant_nodes;
    while (!constant_stack.empty()) {
      TensorId t = constant_stack.back();
      constant_stack.pop_back();
      NodeId p = view.tensor(t).producer;
      if (p < 0 || !constant_nodes.insert(p).second) continue;
      for (TensorId in : view.node(p).inputs) {
        if (needed_constants.insert(in).second) constant_stack.push_back(in);
      }
    }

    // What it hands on: tensors read by later segments, and model outputs.
    std::vector<std::pair<TensorId, std::vector<std::string>>> outputs;
    for (NodeId n : nodes) {
      for (TensorId t : view.node(n).outputs) {
        const TensorInfo& ti = view.tensor(t);
        std::set<int> readers;
        for (NodeId c : ti.consumers) {
          if (partition.segment_of_node[c] > s) readers.insert(partition.segment_of_node[c]);
        }
        std::vector<std::string> to;
        for (int r : readers) to.push_back(SegmentName(r));
        if (ti.is_model_output) to.push_back("model_output");
        if (!to.empty()) outputs.emplace_back(t, std::move(to));
      }
    }

    onnx::ModelProto& m = segment.model;
    m.set_ir_version(model.ir_version());
    *m.mutable_opset_import() = model.opset_import();
    *m.mutable_functions() = model.functions();
    *m.mutable_metadata_props() = model.metadata_props();
    m.set_producer_name("seam");
    m.set_domain(model.domain());
    m.set_model_version(model.model_version());
    m.set_doc_string("segment " + std::to_string(s) + " of " + source.path);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name((graph.name().empty() ? "model" : graph.name()) + "_" + SegmentName(s));
    for (NodeId n : view.constant_nodes()) {
      if (constant_nodes.count(n)) *g->add_node() = *view.node(n).proto;
    }
    for (NodeId n : nodes) *g->add_node() = *view.node(n).proto;
    for (const auto& init : graph.initializer()) {
      auto id = view.FindTensor(init.name());
      if (id && needed_constants.count(*id)) {
        *g->add_initializer() = init;
        if (model.ir_version() < 4) {  // before IR 4, initializers had to be graph inputs too
          onnx::ValueInfoProto* v = g->add_input();
          v->set_name(init.name());
          onnx::TypeProto* type = v->mutable_type();
          type->mutable_tensor_type()->set_elem_type(init.data_type());
          for (int64_t d : init.dims()) {
            type->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
          }
        }
      }
    }
    for (TensorId t : inputs) {
      const TensorInfo& ti = view.tensor(t);
      onnx::ValueInfoProto* v = g->add_input();
      v->set_name(ti.name);
      SEAM_ASSIGN_OR_RETURN(SegmentTensor desc, DescribeTensor(ti.name, types, *v->mutable_type()));
      if (ti.is_model_input) *v = *declared.at(ti.name);
      desc.from =
          ti.producer < 0 ? "model_input" : SegmentName(partition.segment_of_node[ti.producer]);
      info.inputs.push_back(std::move(desc));
    }
    std::unordered_set<std::string> output_names;
    for (auto& [t, to] : outputs) {
      const TensorInfo& ti = view.tensor(t);
      onnx::ValueInfoProto* v = g->add_output();
      v->set_name(ti.name);
      SEAM_ASSIGN_OR_RETURN(SegmentTensor desc, DescribeTensor(ti.name, types, *v->mutable_type()));
      if (ti.is_model_output && declared.count(ti.name)) *v = *declared.at(ti.name);
      desc.to = std::move(to);
      output_names.insert(ti.name);
      info.outputs.push_back(std::move(desc));
    }
    for (const auto& v : graph.value_info()) {
      auto id = view.FindTensor(v.name());
      if (!id || output_names.count(v.name())) continue;
      NodeId p = view.tensor(*id).producer;
      if (p >= 0 && partition.segment_of_node[p] == s) *g->add_value_info() = v;
    }
    try {
      onnx::checker::check_model(m);
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (auto cut = what.find('\n'); cut != std::string::npos) what.resize(cut);
      return Internal(SegmentName(s) + " fails the ONNX checker: " + what);
    }
  }
  return segments;
}

Result<Manifest> WriteSplit(std::vector<SegmentModel>& segments, const LoadedModel& source,
                            const std::vector<std::vector<std::string>>& boundaries,
                            const std::string& directory, const SplitOptions& options) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return Unavailable("cannot create directory '" + directory + "': " + ec.message());
  Manifest manifest;
  manifest.source_model = source.path;
  manifest.source_sha256 = source.sha256;
  manifest.boundaries = boundaries;
  for (const auto& v : source.proto.graph().input()) {
    bool is_initializer = false;
    for (const auto& init : source.proto.graph().initializer())
      is_initializer |= init.name() == v.name();
    if (!is_initializer) manifest.model_inputs.push_back(v.name());
  }
  for (const auto& v : source.proto.graph().output()) manifest.model_outputs.push_back(v.name());

  for (auto& segment : segments) {
    SegmentInfo& info = segment.info;
    info.file = SegmentName(info.index) + ".onnx";
    if (options.external_data) {
      std::string data;
      const std::string data_file = info.file + ".data";
      for (auto& init : *segment.model.mutable_graph()->mutable_initializer()) {
        if (init.raw_data().size() < options.external_threshold_bytes) continue;
        const size_t offset = data.size();
        data += init.raw_data();
        init.clear_raw_data();
        init.set_data_location(onnx::TensorProto::EXTERNAL);
        auto add = [&init](const std::string& key, const std::string& value) {
          auto* entry = init.add_external_data();
          entry->set_key(key);
          entry->set_value(value);
        };
        add("location", data_file);
        add("offset", std::to_string(offset));
        add("length", std::to_string(data.size() - offset));
      }
      if (!data.empty()) {
        SEAM_RETURN_IF_ERROR(WriteFileAtomic((fs::path(directory) / data_file).string(), data));
        info.external_data_file = data_file;
        info.external_data_sha256 = Sha256Hex(data);
      }
    }
    std::string bytes;
    if (!segment.model.SerializeToString(&bytes)) {
      return FailedPrecondition(info.file +
                                " is over protobuf's 2 GiB limit; split with "
                                "--external-data");
    }
    SEAM_RETURN_IF_ERROR(WriteFileAtomic((fs::path(directory) / info.file).string(), bytes));
    info.sha256 = Sha256Hex(bytes);
    manifest.segments.push_back(info);
  }
  const std::string json = ManifestToJson(manifest).dump(2) + "\n";
  SEAM_RETURN_IF_ERROR(WriteFileAtomic((fs::path(directory) / "manifest.json").string(), json));
  return manifest;
}

Result<Manifest> SplitModel(const LoadedModel& source, const std::vector<BoundarySpec>& boundaries,
                            const std::string& directory, const SplitOptions& options) {
  SEAM_ASSIGN_OR_RETURN(GraphView view, GraphView::Build(source.proto));
  SEAM_ASSIGN_OR_RETURN(TypeTable types, InferSymbolicTypes(source.proto));
  SEAM_ASSIGN_OR_RETURN(Partition partition, PartitionAtBoundaries(view, boundaries));
  SEAM_ASSIGN_OR_RETURN(std::vector<SegmentModel> segments,
                        BuildSegments(source, view, partition, types));
  return WriteSplit(segments, source, partition.boundaries, directory, options);
}

}  // namespace seam::graph
