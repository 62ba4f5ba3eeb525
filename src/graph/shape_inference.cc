#include "graph/shape_inference.h"

#include <onnx/shape_inference/implementation.h>

#include <charconv>

#include "common/dtype.h"

namespace seam::graph {
namespace {

// Initializers larger than this are given to inference without their values: inference needs
// their type, and values only of small shape-like tensors (Reshape's shape, Slice's starts...).
constexpr int64_t kMaxInitializerElementsForInference = 4096;

ValueType FromTypeProto(const onnx::TypeProto& type) {
  ValueType v;
  v.proto = type;
  if (!type.has_tensor_type()) return v;
  v.elem_type = type.tensor_type().elem_type();
  if (!type.tensor_type().has_shape()) return v;
  v.has_shape = true;
  for (const auto& d : type.tensor_type().shape().dim()) {
    v.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
  return v;
}

ValueType FromInitializer(const onnx::TensorProto& tensor) {
  onnx::TypeProto type;
  type.mutable_tensor_type()->set_elem_type(tensor.data_type());
  auto* shape = type.mutable_tensor_type()->mutable_shape();
  for (int64_t d : tensor.dims()) shape->add_dim()->set_dim_value(d);
  return FromTypeProto(type);
}

// A copy of the model for inference: same graph, but large initializers without their data.
onnx::ModelProto LightCopy(const onnx::ModelProto& model) {
  onnx::ModelProto copy;
  copy.set_ir_version(model.ir_version());
  *copy.mutable_opset_import() = model.opset_import();
  *copy.mutable_functions() = model.functions();
  const onnx::GraphProto& g = model.graph();
  onnx::GraphProto* out = copy.mutable_graph();
  *out->mutable_node() = g.node();
  *out->mutable_input() = g.input();
  *out->mutable_output() = g.output();
  *out->mutable_value_info() = g.value_info();
  for (const auto& init : g.initializer()) {
    auto elements = CheckedElementCount({init.dims().begin(), init.dims().end()});
    onnx::TensorProto* t = out->add_initializer();
    if (elements && *elements <= kMaxInitializerElementsForInference) {
      *t = init;
    } else {
      t->set_name(init.name());
      t->set_data_type(init.data_type());
      *t->mutable_dims() = init.dims();
    }
  }
  return copy;
}

Result<TypeTable> RunInference(onnx::ModelProto& model) {
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0,
                                        /*enable_data_propagation=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto cut = what.find('\n'); cut != std::string::npos) what.resize(cut);
    return InvalidArgument("shape inference failed: " + what);
  }
  TypeTable table;
  const onnx::GraphProto& g = model.graph();
  for (const auto& init : g.initializer()) table[init.name()] = FromInitializer(init);
  for (const auto& v : g.input()) table[v.name()] = FromTypeProto(v.type());
  for (const auto& v : g.value_info()) table[v.name()] = FromTypeProto(v.type());
  for (const auto& v : g.output()) {
    ValueType t = FromTypeProto(v.type());
    auto it = table.find(v.name());
    // Prefer the inferred type when the declared output type says less.
    if (it == table.end() || (t.has_shape && !it->second.has_shape)) table[v.name()] = t;
  }
  return table;
}

}  // namespace

bool ValueType::fully_known() const {
  if (!has_shape || elem_type == 0) return false;
  for (int64_t d : dims) {
    if (d < 0) return false;
  }
  return true;
}

Status ParseShapeOverride(const std::string& text, ShapeOverrides& overrides) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("--shape '" + text +
                           "': expected NAME=D0,D1,... (e.g. image=1,3,224,224)");
  }
  const std::string name = text.substr(0, eq);
  std::vector<int64_t> dims;
  const std::string list = text.substr(eq + 1);
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(start, end - start);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value <= 0) {
      return InvalidArgument("--shape '" + text + "': dimension '" + item +
                             "' is not a positive integer");
    }
    dims.push_back(value);
    start = end + 1;
  }
  if (overrides.count(name)) return InvalidArgument("--shape gives '" + name + "' twice");
  overrides[name] = std::move(dims);
  return Status::Ok();
}

Result<TypeTable> InferSymbolicTypes(const onnx::ModelProto& model) {
  onnx::ModelProto copy = LightCopy(model);
  return RunInference(copy);
}

Result<TypeTable> InferFixedTypes(const onnx::ModelProto& model, const GraphView& view,
                                  const ShapeOverrides& overrides) {
  for (const auto& [name, dims] : overrides) {
    auto id = view.FindTensor(name);
    if (!id || !view.tensor(*id).is_model_input) {
      std::string inputs;
      for (TensorId t : view.model_inputs())
        inputs += (inputs.empty() ? "" : ", ") + view.tensor(t).name;
      return InvalidArgument("--shape names '" + name +
                             "', which is not a model input (inputs: " + inputs + ")");
    }
  }
  onnx::ModelProto copy = LightCopy(model);
  for (auto& input : *copy.mutable_graph()->mutable_input()) {
    auto id = view.FindTensor(input.name());
    if (!id || !view.tensor(*id).is_model_input) continue;
    const std::string where = "model input '" + input.name() + "'";
    if (!input.type().has_tensor_type()) {
      return Unimplemented(where + " is not a tensor; seam handles tensor inputs only");
    }
    auto* tensor_type = input.mutable_type()->mutable_tensor_type();
    auto it = overrides.find(input.name());
    if (!tensor_type->has_shape()) {
      if (it == overrides.end()) {
        return InvalidArgument(where + " has no declared shape; give it with --shape " +
                               input.name() + "=D0,D1,...");
      }
      for (int64_t d : it->second) tensor_type->mutable_shape()->add_dim()->set_dim_value(d);
      continue;
    }
    auto* shape = tensor_type->mutable_shape();
    if (it != overrides.end() && static_cast<int>(it->second.size()) != shape->dim_size()) {
      return InvalidArgument("--shape " + input.name() + ": " + where + " has rank " +
                             std::to_string(shape->dim_size()) + ", but " +
                             std::to_string(it->second.size()) + " dimensions were given");
    }
    for (int i = 0; i < shape->dim_size(); ++i) {
      auto* dim = shape->mutable_dim(i);
      if (it != overrides.end()) {
        const int64_t want = it->second[i];
        if (dim->has_dim_value() && dim->dim_value() != want) {
          return InvalidArgument("--shape " + input.name() + ": dimension " + std::to_string(i) +
                                 " of " + where + " is fixed at " +
                                 std::to_string(dim->dim_value()) + " by the model, not " +
                                 std::to_string(want));
        }
        dim->set_dim_value(want);
      } else if (!dim->has_dim_value()) {
        if (i != 0) {
          return InvalidArgument(where + " has dynamic dimension " + std::to_string(i) +
                                 (dim->dim_param().empty() ? "" : " ('" + dim->dim_param() + "')") +
                                 "; fix it with --shape " + input.name() + "=D0,D1,...");
        }
        dim->set_dim_value(1);  // the batch dimension defaults to 1
      }
    }
  }
  // Declared intermediate and output types may carry symbolic batch dims that would conflict
  // with the fixed ones; inference recomputes them.
  copy.mutable_graph()->clear_value_info();
  for (auto& output : *copy.mutable_graph()->mutable_output()) {
    if (output.type().has_tensor_type())
      output.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  return RunInference(copy);
}

}  // namespace seam::graph
