#include "bench/bench_models.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

namespace seam::bench {
namespace {

onnx::TensorProto* AddFloats(onnx::GraphProto* graph, const std::string& name,
                             const std::vector<int64_t>& dims, uint64_t seed, float scale) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  std::vector<float> values(count);
  uint64_t state = seed;
  for (float& v : values) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<float>(((state >> 40) / static_cast<double>(1 << 24) - 0.5) * scale);
  }
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(std::move(raw));
  return t;
}

void SetBatchedShape(onnx::ValueInfoProto* value, int64_t width) {
  value->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = value->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  shape->add_dim()->set_dim_value(width);
}

const onnx::TensorProto* FindInitializer(const onnx::GraphProto& graph, const std::string& name) {
  for (const auto& t : graph.initializer()) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

std::vector<int64_t> Int64s(const onnx::TensorProto& t) {
  std::vector<int64_t> values;
  if (t.has_raw_data()) {
    values.resize(t.raw_data().size() / sizeof(int64_t));
    std::memcpy(values.data(), t.raw_data().data(), values.size() * sizeof(int64_t));
  } else {
    values.assign(t.int64_data().begin(), t.int64_data().end());
  }
  return values;
}

void SetInt64s(onnx::TensorProto* t, const std::vector<int64_t>& values) {
  t->clear_int64_data();
  std::string raw(values.size() * sizeof(int64_t), '\0');
  std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(std::move(raw));
}

}  // namespace

onnx::ModelProto MakeGemmMlp(int width, int layers) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("seam server_bench");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("gemm_mlp");
  onnx::ValueInfoProto* input = graph->add_input();
  input->set_name("x");
  SetBatchedShape(input, width);
  std::string x = "x";
  for (int l = 0; l < layers; ++l) {
    const std::string id = std::to_string(l);
    AddFloats(graph, "w" + id, {width, width}, 11 + l, 2.0f / width);
    AddFloats(graph, "b" + id, {width}, 101 + l, 0.1f);
    onnx::NodeProto* gemm = graph->add_node();
    gemm->set_name("gemm" + id);
    gemm->set_op_type("Gemm");
    gemm->add_input(x);
    gemm->add_input("w" + id);
    gemm->add_input("b" + id);
    gemm->add_output("g" + id);
    onnx::NodeProto* relu = graph->add_node();
    relu->set_name("relu" + id);
    relu->set_op_type("Relu");
    relu->add_input("g" + id);
    x = l + 1 == layers ? "y" : "r" + id;
    relu->add_output(x);
  }
  onnx::ValueInfoProto* output = graph->add_output();
  output->set_name("y");
  SetBatchedShape(output, width);
  return model;
}

onnx::ModelProto MakePooledMlp(int side, int pool, int width, int layers) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("seam bench");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("pooled_mlp");
  auto set_shape = [](onnx::ValueInfoProto* v, std::vector<int64_t> dims) {
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
  };
  onnx::ValueInfoProto* input = graph->add_input();
  input->set_name("frame");
  set_shape(input, {1, 1, side, side});
  onnx::NodeProto* avg = graph->add_node();
  avg->set_name("pool");
  avg->set_op_type("AveragePool");
  avg->add_input("frame");
  avg->add_output("pooled");
  for (const char* name : {"kernel_shape", "strides"}) {
    onnx::AttributeProto* a = avg->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(pool);
    a->add_ints(pool);
  }
  onnx::NodeProto* flatten = graph->add_node();
  flatten->set_name("flatten");
  flatten->set_op_type("Flatten");
  flatten->add_input("pooled");
  flatten->add_output("features");
  const int features = (side / pool) * (side / pool);
  std::string x = "features";
  int in = features;
  for (int l = 0; l < layers; ++l) {
    const std::string id = std::to_string(l);
    AddFloats(graph, "w" + id, {in, width}, 31 + l, 2.0f / in);
    AddFloats(graph, "b" + id, {width}, 131 + l, 0.1f);
    onnx::NodeProto* gemm = graph->add_node();
    gemm->set_name("gemm" + id);
    gemm->set_op_type("Gemm");
    gemm->add_input(x);
    gemm->add_input("w" + id);
    gemm->add_input("b" + id);
    gemm->add_output("g" + id);
    onnx::NodeProto* relu = graph->add_node();
    relu->set_name("relu" + id);
    relu->set_op_type("Relu");
    relu->add_input("g" + id);
    x = l + 1 == layers ? "y" : "r" + id;
    relu->add_output(x);
    in = width;
  }
  onnx::ValueInfoProto* output = graph->add_output();
  output->set_name("y");
  set_shape(output, {1, width});
  return model;
}

Status MakeBatchDynamic(onnx::ModelProto& model) {
  onnx::GraphProto* graph = model.mutable_graph();
  for (auto* values : {graph->mutable_input(), graph->mutable_output()}) {
    for (auto& value : *values) {
      auto* shape = value.mutable_type()->mutable_tensor_type()->mutable_shape();
      if (shape->dim_size() == 0) continue;
      shape->mutable_dim(0)->clear_dim_value();
      shape->mutable_dim(0)->set_dim_param("N");
    }
  }
  graph->clear_value_info();  // shapes inferred for batch 1; ORT infers them again

  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& node : graph->node()) {
    for (const auto& out : node.output()) producer[out] = &node;
  }
  for (auto& node : *graph->mutable_node()) {
    if (node.op_type() == "Reshape") {
      onnx::TensorProto* shape = nullptr;
      for (auto& t : *graph->mutable_initializer()) {
        if (t.name() == node.input(1)) shape = &t;
      }
      if (!shape) {
        return FailedPrecondition("Reshape of '" + node.output(0) +
                                  "': its shape is not a constant");
      }
      std::vector<int64_t> dims = Int64s(*shape);
      if (!dims.empty() && dims[0] == 1) dims[0] = -1;
      SetInt64s(shape, dims);
    } else if (node.op_type() == "Concat" && node.input_size() == 2) {
      auto it = producer.find(node.input(1));
      if (it == producer.end() || it->second->op_type() != "ConstantOfShape") continue;
      const onnx::TensorProto* pad_shape = FindInitializer(*graph, it->second->input(0));
      int64_t axis = 0;
      for (const auto& a : node.attribute()) {
        if (a.name() == "axis") axis = a.i();
      }
      if (!pad_shape || axis < 1) {
        return FailedPrecondition("Concat of '" + node.output(0) + "': not a constant channel pad");
      }
      const std::vector<int64_t> zeros = Int64s(*pad_shape);
      // Pad's pads: the begins of every axis, then the ends; zeros appended on `axis`.
      std::vector<int64_t> pads(2 * zeros.size(), 0);
      pads[zeros.size() + axis] = zeros[axis];
      onnx::TensorProto* t = graph->add_initializer();
      t->set_name(node.output(0) + "_pads");  // node names may be empty
      t->set_data_type(onnx::TensorProto::INT64);
      t->add_dims(static_cast<int64_t>(pads.size()));
      SetInt64s(t, pads);
      node.set_op_type("Pad");
      node.clear_attribute();
      node.set_input(1, t->name());
    }
  }
  return Status::Ok();
}

}  // namespace seam::bench
