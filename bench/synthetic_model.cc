#include "bench/synthetic_model.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace seam::bench {
namespace {

constexpr int64_t kChannels = 8;
constexpr int64_t kHeight = 16;
constexpr int64_t kWidth = 16;
constexpr int kResidualNodes = 5;
constexpr int kBranchNodes = 5;
constexpr int kLongSkipSpan = 4;  // blocks between a long skip's source and its Add

// Appends nodes and initializers to a graph, naming every tensor and node uniquely.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto* graph) : graph_(graph) {}

  int num_nodes() const { return num_nodes_; }

  // A node with one output; returns the output's name.
  std::string Node(
      const std::string& op_type, const std::vector<std::string>& inputs,
      const std::vector<std::pair<std::string, std::vector<int64_t>>>& int_attrs = {}) {
    onnx::NodeProto* node = graph_->add_node();
    const std::string id = std::to_string(num_nodes_++);
    node->set_name(op_type + "_" + id);
    node->set_op_type(op_type);
    for (const auto& input : inputs) node->add_input(input);
    const std::string output = "t" + id;
    node->add_output(output);
    for (const auto& [name, values] : int_attrs) {
      onnx::AttributeProto* attr = node->add_attribute();
      attr->set_name(name);
      if (values.size() == 1 && name == "axis") {
        attr->set_type(onnx::AttributeProto::INT);
        attr->set_i(values[0]);
      } else {
        attr->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : values) attr->add_ints(v);
      }
    }
    return output;
  }

  // A 1x1 Conv with its own weight and bias, `in_channels` -> `out_channels`.
  std::string Conv(const std::string& input, int64_t in_channels, int64_t out_channels) {
    const std::string id = std::to_string(num_nodes_);
    const std::string w = Weight("w" + id, {out_channels, in_channels, 1, 1});
    const std::string b = Weight("b" + id, {out_channels});
    return Node("Conv", {input, w, b}, {{"kernel_shape", {1, 1}}});
  }

 private:
  // Small values in [-0.1, 0.1) from a fixed-seed LCG: deterministic across runs and platforms.
  std::string Weight(const std::string& name, const std::vector<int64_t>& dims) {
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    std::vector<float> values(count);
    for (float& v : values) {
      rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;
      v = static_cast<float>((rng_ >> 40) / static_cast<double>(1 << 24) * 0.2 - 0.1);
    }
    onnx::TensorProto* tensor = graph_->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tensor->add_dims(d);
    // raw_data, as exporters write it; ONNX stores it little-endian, as x86 and ARM hosts are.
    std::string raw(values.size() * sizeof(float), '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    tensor->set_raw_data(std::move(raw));
    return name;
  }

  onnx::GraphProto* graph_;
  int num_nodes_ = 0;
  uint64_t rng_ = 20240601;
};

void SetFeatureMapType(onnx::ValueInfoProto* value) {
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : {kChannels, kHeight, kWidth}) shape->add_dim()->set_dim_value(d);
}

}  // namespace

onnx::ModelProto MakeSyntheticCnn(int num_nodes) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("seam-graph-bench");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("synthetic_cnn");
  onnx::ValueInfoProto* input = graph->add_input();
  input->set_name("x");
  SetFeatureMapType(input);

  GraphWriter w(graph);
  std::string h = "x";
  std::vector<std::string> block_outputs;  // for the long skips
  for (int block = 0;; ++block) {
    const bool branch = block % 4 == 3;
    const bool long_skip = block % 6 == 5 && block >= kLongSkipSpan;
    const int needed = (branch ? kBranchNodes : kResidualNodes) + (long_skip ? 1 : 0);
    if (num_nodes - w.num_nodes() < needed) break;
    if (branch) {
      const std::string left = w.Conv(h, kChannels, kChannels);
      const std::string right = w.Node("Relu", {w.Conv(h, kChannels, kChannels)});
      const std::string joined = w.Node("Concat", {left, right}, {{"axis", {1}}});
      h = w.Conv(joined, 2 * kChannels, kChannels);
    } else {
      const std::string inner = w.Node("Relu", {w.Conv(h, kChannels, kChannels)});
      const std::string sum = w.Node("Add", {w.Conv(inner, kChannels, kChannels), h});
      h = w.Node("Relu", {sum});
    }
    if (long_skip) {
      h = w.Node("Add", {h, block_outputs[block - kLongSkipSpan]});
    }
    block_outputs.push_back(h);
  }
  while (w.num_nodes() < num_nodes) h = w.Node("Relu", {h});

  onnx::ValueInfoProto* output = graph->add_output();
  output->set_name(h);
  SetFeatureMapType(output);
  return model;
}

}  // namespace seam::bench
