#include "graph/flops.h"

#include <string>
#include <unordered_set>

#include "common/dtype.h"

namespace seam::graph {
namespace {

const onnx::AttributeProto* FindAttribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attr : node.attribute()) {
    if (attr.name() == name) return &attr;
  }
  return nullptr;
}

int64_t IntAttribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* attr = FindAttribute(node, name);
  return attr ? attr->i() : fallback;
}

std::string StringAttribute(const onnx::NodeProto& node, const std::string& name,
                            const std::string& fallback) {
  const auto* attr = FindAttribute(node, name);
  return attr ? attr->s() : fallback;
}

bool IsElementwise(const std::string& op) {
  static const std::unordered_set<std::string> kOps = {"Add",
                                                       "Sub",
                                                       "Mul",
                                                       "Div",
                                                       "Pow",
                                                       "Mod",
                                                       "Relu",
                                                       "LeakyRelu",
                                                       "PRelu",
                                                       "Elu",
                                                       "Selu",
                                                       "Celu",
                                                       "Gelu",
                                                       "Sigmoid",
                                                       "HardSigmoid",
                                                       "HardSwish",
                                                       "Tanh",
                                                       "Exp",
                                                       "Log",
                                                       "Sqrt",
                                                       "Reciprocal",
                                                       "Neg",
                                                       "Abs",
                                                       "Ceil",
                                                       "Floor",
                                                       "Round",
                                                       "Sign",
                                                       "Erf",
                                                       "Sin",
                                                       "Cos",
                                                       "Tan",
                                                       "Asin",
                                                       "Acos",
                                                       "Atan",
                                                       "Sinh",
                                                       "Cosh",
                                                       "Asinh",
                                                       "Acosh",
                                                       "Atanh",
                                                       "Softplus",
                                                       "Softsign",
                                                       "Clip",
                                                       "ThresholdedRelu",
                                                       "Mish",
                                                       "Equal",
                                                       "Less",
                                                       "Greater",
                                                       "LessOrEqual",
                                                       "GreaterOrEqual",
                                                       "And",
                                                       "Or",
                                                       "Xor",
                                                       "Not",
                                                       "Where",
                                                       "IsNaN",
                                                       "IsInf",
                                                       "BitShift",
                                                       "QuantizeLinear",
                                                       "DequantizeLinear",
                                                       "Cast",
                                                       "CastLike"};
  return kOps.count(op) > 0;
}

bool IsDataMovement(const std::string& op) {
  static const std::unordered_set<std::string> kOps = {"Reshape",         "Transpose",
                                                       "Concat",          "Split",
                                                       "Slice",           "Gather",
                                                       "GatherElements",  "GatherND",
                                                       "Scatter",         "ScatterElements",
                                                       "ScatterND",       "Pad",
                                                       "Identity",        "Flatten",
                                                       "Squeeze",         "Unsqueeze",
                                                       "Expand",          "Tile",
                                                       "Shape",           "Size",
                                                       "Constant",        "ConstantOfShape",
                                                       "DepthToSpace",    "SpaceToDepth",
                                                       "Dropout",         "EyeLike",
                                                       "Range",           "NonZero",
                                                       "OneHot",          "Compress",
                                                       "ReverseSequence", "Trilu",
                                                       "Optional",        "OptionalGetElement"};
  return kOps.count(op) > 0;
}

bool IsReduction(const std::string& op) {
  return op.starts_with("Reduce") || op == "ArgMax" || op == "ArgMin" || op == "CumSum";
}

// a*b*c [+ d] in int64, or "unknown" when it overflows (shapes come from untrusted files).
FlopCount Checked(int64_t a, int64_t b, int64_t c, int64_t d = 0) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out) || __builtin_mul_overflow(out, c, &out) ||
      __builtin_add_overflow(out, d, &out)) {
    return {0, false};
  }
  return {out, true};
}

}  // namespace

FlopCount CountFlops(const NodeInfo& node, const TypeTable& types) {
  const onnx::NodeProto& proto = *node.proto;
  const std::string& op = node.op_type;
  if (proto.domain() != "" && proto.domain() != "ai.onnx") return {0, false};

  // Shapes of explicit inputs (by position, so optional-input gaps stay aligned) and outputs.
  auto shape_of = [&](const std::string& name) -> const std::vector<int64_t>* {
    auto it = types.find(name);
    if (it == types.end() || !it->second.fully_known()) return nullptr;
    return &it->second.dims;
  };
  auto input = [&](int i) -> const std::vector<int64_t>* {
    if (i >= proto.input_size() || proto.input(i).empty()) return nullptr;
    return shape_of(proto.input(i));
  };
  const std::vector<int64_t>* out = proto.output_size() ? shape_of(proto.output(0)) : nullptr;
  const bool has_input = [&] {
    for (int i = 0; i < proto.input_size(); ++i) {
      if (!proto.input(i).empty()) return true;
    }
    return false;
  }();

  if (IsDataMovement(op)) return {0, true};
  if (!out) return {0, false};
  const auto out_count = CheckedElementCount(*out);
  if (!out_count) return {0, false};
  const int64_t out_elems = *out_count;
  auto elements = [](const std::vector<int64_t>& shape) -> int64_t {
    return CheckedElementCount(shape).value_or(-1);
  };

  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    const int w_index = op == "QLinearConv" ? 3 : 1;
    const auto* w = input(w_index);
    if (!w || w->size() < 2) return {0, false};
    const int64_t per_output = elements({w->begin() + 1, w->end()});
    if (per_output < 0) return {0, false};
    const bool bias = op == "Conv" && input(2) != nullptr;
    return Checked(2, out_elems, per_output, bias ? out_elems : 0);
  }
  if (op == "ConvTranspose") {
    const auto* x = input(0);
    const auto* w = input(1);
    if (!x || !w || w->size() < 2) return {0, false};
    const int64_t per_input = elements({w->begin() + 1, w->end()});
    const int64_t in_elems = elements(*x);
    if (per_input < 0 || in_elems < 0) return {0, false};
    const bool bias = input(2) != nullptr;
    return Checked(2, in_elems, per_input, bias ? out_elems : 0);
  }
  if (op == "Gemm") {
    const auto* a = input(0);
    if (!a || a->size() != 2 || out->size() != 2) return {0, false};
    const int64_t k = IntAttribute(proto, "transA", 0) ? (*a)[0] : (*a)[1];
    const bool bias = input(2) != nullptr;
    return Checked(2, out_elems, k, bias ? out_elems : 0);
  }
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    const auto* a = input(0);
    if (!a || a->empty()) return {0, false};
    return Checked(2, out_elems, a->back());
  }
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
    const auto* attr = FindAttribute(proto, "kernel_shape");
    if (!attr) return {0, false};
    const int64_t kernel = elements({attr->ints().begin(), attr->ints().end()});
    if (kernel < 0) return {0, false};
    return Checked(1, out_elems, kernel);
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "GlobalLpPool" ||
      IsReduction(op)) {
    const auto* x = input(0);
    if (!x) return {0, false};
    const int64_t in_elems = elements(*x);
    return in_elems < 0 ? FlopCount{0, false} : FlopCount{in_elems, true};
  }
  if (op == "Sum" || op == "Max" || op == "Min" || op == "Mean") {
    int present = 0;
    for (int i = 0; i < proto.input_size(); ++i) present += !proto.input(i).empty();
    return Checked(1, present > 1 ? present - 1 : 1, out_elems);
  }
  if (IsElementwise(op)) return {has_input ? out_elems : 0, true};
  if (op == "BatchNormalization") return Checked(1, 2, out_elems);
  if (op == "InstanceNormalization" || op == "LayerNormalization" || op == "GroupNormalization" ||
      op == "LpNormalization" || op == "MeanVarianceNormalization") {
    return Checked(1, 8, out_elems);
  }
  if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") return Checked(1, 3, out_elems);
  if (op == "Resize" || op == "Upsample") {
    const std::string mode = StringAttribute(proto, "mode", "nearest");
    return Checked(1, mode == "nearest" ? 1 : 4, out_elems);
  }
  return {0, false};
}

}  // namespace seam::graph
