#include "graph/test_models.h"

#include <gtest/gtest.h>

namespace seam::graph::testing {

std::string BundledModel(const std::string& name) {
  return std::string(SEAM_SOURCE_DIR) + "/models/" + name;
}

std::string BlazeFaceModel() { return std::string(SEAM_MODEL_CACHE) + "/blazeface.onnx"; }

LoadedModel LoadOrDie(const std::string& path) {
  auto model = LoadModel(path);
  if (!model.ok()) {
    ADD_FAILURE() << "cannot load " << path << ": " << model.status().ToString()
                  << " (run scripts/setup.sh to fetch the pinned models)";
    return {};
  }
  return std::move(model).value();
}

ModelBuilder::ModelBuilder(int opset) {
  model_.set_ir_version(8);
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

namespace {

void SetType(onnx::ValueInfoProto* v, const std::vector<int64_t>& dims, int32_t elem_type) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  for (int64_t d : dims) {
    if (d < 0) {
      t->mutable_shape()->add_dim()->set_dim_param("N");
    } else {
      t->mutable_shape()->add_dim()->set_dim_value(d);
    }
  }
}

}  // namespace

ModelBuilder& ModelBuilder::Input(const std::string& name, const std::vector<int64_t>& dims,
                                  int32_t elem_type) {
  auto* v = model_.mutable_graph()->add_input();
  v->set_name(name);
  SetType(v, dims, elem_type);
  return *this;
}

ModelBuilder& ModelBuilder::Output(const std::string& name, const std::vector<int64_t>& dims,
                                   int32_t elem_type) {
  auto* v = model_.mutable_graph()->add_output();
  v->set_name(name);
  SetType(v, dims, elem_type);
  return *this;
}

ModelBuilder& ModelBuilder::Weight(const std::string& name, const std::vector<int64_t>& dims,
                                   float value) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) t->add_float_data(value);
  return *this;
}

ModelBuilder& ModelBuilder::Node(const std::string& op, const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? outputs.front() + "_node" : name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *this;
}

LoadedModel ModelBuilder::Load() const {
  auto loaded = LoadModelFromBytes(model_.SerializeAsString(), "<test>", "");
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status().ToString();
    return {};
  }
  return std::move(loaded).value();
}

}  // namespace seam::graph::testing
