#include "server/http_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "transport/half.h"

namespace seam::server {
namespace {

using nlohmann::json;

// Nesting deeper than any tensor's rank is refused before it costs recursion depth.
constexpr int kMaxDataDepth = 32;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The leaves of `data` in row-major order.
Status Flatten(const json& data, const std::string& where, int depth,
               std::vector<const json*>& leaves) {
  if (!data.is_array()) {
    leaves.push_back(&data);
    return Status::Ok();
  }
  if (depth >= kMaxDataDepth) {
    return InvalidArgument(where + ": 'data' is nested more than " + std::to_string(kMaxDataDepth) +
                           " levels deep");
  }
  for (const json& item : data) SEAM_RETURN_IF_ERROR(Flatten(item, where, depth + 1, leaves));
  return Status::Ok();
}

std::string Element(const std::string& where, size_t i, const json& value) {
  return where + ": data[" + std::to_string(i) + "] = " + Dump(value);
}

// An integer leaf within [lo, hi].
Result<int64_t> Signed(const json& v, const std::string& where, size_t i, DType dtype, int64_t lo,
                       int64_t hi) {
  if (!v.is_number_integer()) {
    return InvalidArgument(Element(where, i, v) + " is not an integer (" + DTypeName(dtype) + ")");
  }
  const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(hi)
                                               : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!in_range) {
    return InvalidArgument(Element(where, i, v) + " is out of range for " + DTypeName(dtype));
  }
  return v.get<int64_t>();
}

Result<uint64_t> Unsigned(const json& v, const std::string& where, size_t i, DType dtype,
                          uint64_t hi) {
  if (!v.is_number_integer()) {
    return InvalidArgument(Element(where, i, v) + " is not an integer (" + DTypeName(dtype) + ")");
  }
  if (!v.is_number_unsigned() || v.get<uint64_t>() > hi) {
    return InvalidArgument(Element(where, i, v) + " is out of range for " + DTypeName(dtype));
  }
  return v.get<uint64_t>();
}

Result<double> Real(const json& v, const std::string& where, size_t i, DType dtype, double max) {
  if (!v.is_number()) {
    return InvalidArgument(Element(where, i, v) + " is not a number (" + DTypeName(dtype) + ")");
  }
  const double d = v.get<double>();
  if (std::fabs(d) > max) {
    return InvalidArgument(Element(where, i, v) + " is out of range for " + DTypeName(dtype));
  }
  return d;
}

// Writes `leaves` into the typed contents field that infer_codec expects for `dtype`.
Status FillContents(DType dtype, const std::vector<const json*>& leaves, const std::string& where,
                    inference::InferTensorContents* c) {
  using L = std::numeric_limits<int64_t>;
  auto signed_range = [&](int64_t lo, int64_t hi, auto add) -> Status {
    for (size_t i = 0; i < leaves.size(); ++i) {
      SEAM_ASSIGN_OR_RETURN(int64_t v, Signed(*leaves[i], where, i, dtype, lo, hi));
      add(v);
    }
    return Status::Ok();
  };
  auto unsigned_range = [&](uint64_t hi, auto add) -> Status {
    for (size_t i = 0; i < leaves.size(); ++i) {
      SEAM_ASSIGN_OR_RETURN(uint64_t v, Unsigned(*leaves[i], where, i, dtype, hi));
      add(v);
    }
    return Status::Ok();
  };
  auto ints = [c](int64_t v) { c->add_int_contents(static_cast<int32_t>(v)); };
  auto uints = [c](uint64_t v) { c->add_uint_contents(static_cast<uint32_t>(v)); };
  switch (dtype) {
    case DType::kBool:
      for (size_t i = 0; i < leaves.size(); ++i) {
        if (!leaves[i]->is_boolean()) {
          return InvalidArgument(Element(where, i, *leaves[i]) + " is not true or false (BOOL)");
        }
        c->add_bool_contents(leaves[i]->get<bool>());
      }
      return Status::Ok();
    case DType::kInt8:
      return signed_range(-128, 127, ints);
    case DType::kInt16:
      return signed_range(-32768, 32767, ints);
    case DType::kInt32:
      return signed_range(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                          ints);
    case DType::kInt64:
      return signed_range(L::min(), L::max(), [c](int64_t v) { c->add_int64_contents(v); });
    case DType::kUInt8:
      return unsigned_range(255, uints);
    case DType::kUInt16:
      return unsigned_range(65535, uints);
    case DType::kUInt32:
      return unsigned_range(std::numeric_limits<uint32_t>::max(), uints);
    case DType::kUInt64:
      return unsigned_range(std::numeric_limits<uint64_t>::max(),
                            [c](uint64_t v) { c->add_uint64_contents(v); });
    case DType::kFloat32:
      c->mutable_fp32_contents()->Reserve(static_cast<int>(leaves.size()));
      for (size_t i = 0; i < leaves.size(); ++i) {
        SEAM_ASSIGN_OR_RETURN(double v,
                              Real(*leaves[i], where, i, dtype, std::numeric_limits<float>::max()));
        c->add_fp32_contents(static_cast<float>(v));
      }
      return Status::Ok();
    case DType::kFloat64:
      c->mutable_fp64_contents()->Reserve(static_cast<int>(leaves.size()));
      for (size_t i = 0; i < leaves.size(); ++i) {
        SEAM_ASSIGN_OR_RETURN(
            double v, Real(*leaves[i], where, i, dtype, std::numeric_limits<double>::max()));
        c->add_fp64_contents(v);
      }
      return Status::Ok();
    case DType::kFloat16:
    case DType::kBFloat16:
      break;
  }
  return InvalidArgument(where + ": " + DTypeName(dtype) +
                         " tensors cannot be sent as JSON; use gRPC with raw_input_contents");
}

// Triton's binary tensor extension: refused by name rather than answered with JSON the client
// would misread.
bool AsksForBinary(const json& parameters, const char* key) {
  if (!parameters.is_object()) return false;
  auto it = parameters.find(key);
  return it != parameters.end() && !(it->is_boolean() && !it->get<bool>()) &&
         !(it->is_number() && it->get<double>() == 0);
}

Status ParseInput(const json& in, size_t index, inference::ModelInferRequest& request) {
  if (!in.is_object()) {
    return InvalidArgument("inputs[" + std::to_string(index) + "]: expected an object");
  }
  auto name = in.find("name");
  if (name == in.end() || !name->is_string()) {
    return InvalidArgument("inputs[" + std::to_string(index) + "]: 'name' must be a string");
  }
  const std::string where = "input '" + name->get<std::string>() + "'";
  auto datatype = in.find("datatype");
  if (datatype == in.end() || !datatype->is_string()) {
    return InvalidArgument(where + ": 'datatype' must be a string such as \"FP32\"");
  }
  auto shape = in.find("shape");
  if (shape == in.end() || !shape->is_array()) {
    return InvalidArgument(where + ": 'shape' must be an array of integers");
  }
  auto data = in.find("data");
  if (data == in.end() || !data->is_array()) {
    return InvalidArgument(where + ": 'data' must be an array (flat or nested, row-major)");
  }
  if (auto p = in.find("parameters"); p != in.end() && AsksForBinary(*p, "binary_data_size")) {
    return InvalidArgument(where +
                           ": binary tensor data (binary_data_size) is not supported; send JSON");
  }
  auto* tensor = request.add_inputs();
  tensor->set_name(name->get<std::string>());
  tensor->set_datatype(datatype->get<std::string>());
  std::vector<int64_t> dims;
  for (const json& d : *shape) {
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<int64_t>() < 0) ||
        (d.is_number_unsigned() &&
         d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return InvalidArgument(where + ": 'shape' must be an array of non-negative integers, got " +
                             Dump(*shape));
    }
    dims.push_back(d.get<int64_t>());
    tensor->add_shape(dims.back());
  }
  std::vector<const json*> leaves;
  SEAM_RETURN_IF_ERROR(Flatten(*data, where, 0, leaves));
  const auto count = CheckedElementCount(dims);
  if (!count) {
    return InvalidArgument(where + ": shape " + OipShape(dims) +
                           " has more elements than can be counted");
  }
  if (static_cast<uint64_t>(*count) != leaves.size()) {
    return InvalidArgument(where + ": shape " + OipShape(dims) + " has " + std::to_string(*count) +
                           " elements, 'data' has " + std::to_string(leaves.size()));
  }
  // An unknown datatype is left for DecodeInferRequest, which names it in its message.
  if (const auto dtype = DTypeFromName(datatype->get<std::string>())) {
    SEAM_RETURN_IF_ERROR(FillContents(*dtype, leaves, where, tensor->mutable_contents()));
  }
  return Status::Ok();
}

template <typename T>
void AppendNumber(std::string& out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) {
      out += "null";
      return;
    }
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
  if constexpr (std::is_floating_point_v<T>) {
    // "3" and "-0" would read back as integers (and -0 as 0): floats always look like floats.
    constexpr char kFloatMarks[] = ".e";  // a number without them reads back as an integer
    if (std::find_first_of(buffer, result.ptr, kFloatMarks, kFloatMarks + 2) == result.ptr) {
      out += ".0";
    }
  }
}

template <typename T>
void AppendArray(std::string& out, const std::string& raw, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    if (i > 0) out += ',';
    AppendNumber(out, value);
  }
}

void AppendHalves(std::string& out, const std::string& raw, int64_t count, bool bfloat) {
  for (int64_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, raw.data() + i * 2, 2);
    if (i > 0) out += ',';
    AppendNumber(out, bfloat ? transport::half::BitsFloat(static_cast<uint32_t>(bits) << 16)
                             : transport::half::ToFloat(bits));
  }
}

void AppendData(std::string& out, DType dtype, const std::string& raw, int64_t count) {
  switch (dtype) {
    case DType::kFloat32:
      return AppendArray<float>(out, raw, count);
    case DType::kFloat64:
      return AppendArray<double>(out, raw, count);
    case DType::kFloat16:
      return AppendHalves(out, raw, count, false);
    case DType::kBFloat16:
      return AppendHalves(out, raw, count, true);
    case DType::kInt8:
      return AppendArray<int8_t>(out, raw, count);
    case DType::kInt16:
      return AppendArray<int16_t>(out, raw, count);
    case DType::kInt32:
      return AppendArray<int32_t>(out, raw, count);
    case DType::kInt64:
      return AppendArray<int64_t>(out, raw, count);
    case DType::kUInt8:
      return AppendArray<uint8_t>(out, raw, count);
    case DType::kUInt16:
      return AppendArray<uint16_t>(out, raw, count);
    case DType::kUInt32:
      return AppendArray<uint32_t>(out, raw, count);
    case DType::kUInt64:
      return AppendArray<uint64_t>(out, raw, count);
    case DType::kBool:
      for (int64_t i = 0; i < count; ++i) {
        out += i > 0 ? "," : "";
        out += raw[static_cast<size_t>(i)] != 0 ? "true" : "false";
      }
      return;
  }
}

// Metadata keeps the specification's field order (nlohmann::json would sort the keys).
using ordered_json = nlohmann::ordered_json;

ordered_json TensorMetadata(const TensorSpec& spec) {
  ordered_json shape = ordered_json::array();
  for (int64_t d : spec.shape) shape.push_back(d < 0 ? -1 : d);
  return {{"name", spec.name}, {"datatype", DTypeName(spec.dtype)}, {"shape", std::move(shape)}};
}

}  // namespace

Result<inference::ModelInferRequest> ParseInferRequestJson(std::string_view body,
                                                           const std::string& model,
                                                           const std::string& version) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgument("request body: not valid JSON");
  }
  if (!doc.is_object()) return InvalidArgument("request body: expected a JSON object");
  inference::ModelInferRequest request;
  request.set_model_name(model);
  request.set_model_version(version);
  if (auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_string()) return InvalidArgument("'id' must be a string");
    request.set_id(id->get<std::string>());
  }
  if (auto p = doc.find("parameters"); p != doc.end()) {
    if (AsksForBinary(*p, "binary_data_output")) {
      return InvalidArgument(
          "binary tensor data (binary_data_output) is not supported; ask for JSON");
    }
    // The request's parameters reach the server as a gRPC request's would (a timeout, an
    // idempotency key), checked there the same way.
    if (!p->is_object()) return InvalidArgument("'parameters': expected an object");
    for (const auto& [key, value] : p->items()) {
      inference::InferParameter& param = (*request.mutable_parameters())[key];
      if (value.is_boolean()) {
        param.set_bool_param(value.get<bool>());
      } else if (value.is_number_unsigned() &&
                 value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        param.set_uint64_param(value.get<uint64_t>());
      } else if (value.is_number_integer()) {
        param.set_int64_param(value.get<int64_t>());
      } else if (value.is_number_float()) {
        param.set_double_param(value.get<double>());
      } else if (value.is_string()) {
        param.set_string_param(value.get<std::string>());
      } else {
        return InvalidArgument("parameters." + key +
                               ": expected a string, a number or a boolean, got " +
                               value.type_name());
      }
    }
  }
  auto inputs = doc.find("inputs");
  if (inputs == doc.end() || !inputs->is_array()) {
    return InvalidArgument("'inputs': expected an array of tensors");
  }
  for (size_t i = 0; i < inputs->size(); ++i) {
    SEAM_RETURN_IF_ERROR(ParseInput((*inputs)[i], i, request));
  }
  if (auto outputs = doc.find("outputs"); outputs != doc.end()) {
    if (!outputs->is_array()) return InvalidArgument("'outputs': expected an array");
    for (size_t i = 0; i < outputs->size(); ++i) {
      const json& out = (*outputs)[i];
      auto name = out.is_object() ? out.find("name") : out.end();
      if (!out.is_object() || name == out.end() || !name->is_string()) {
        return InvalidArgument("outputs[" + std::to_string(i) + "]: 'name' must be a string");
      }
      if (auto p = out.find("parameters"); p != out.end() && AsksForBinary(*p, "binary_data")) {
        return InvalidArgument("requested output '" + name->get<std::string>() +
                               "': binary tensor data is not supported; ask for JSON");
      }
      request.add_outputs()->set_name(name->get<std::string>());
    }
  }
  return request;
}

Result<std::string> InferResponseJson(const inference::ModelInferResponse& response) {
  std::string out = "{\"model_name\":" + Dump(response.model_name()) +
                    ",\"model_version\":" + Dump(response.model_version()) +
                    ",\"id\":" + Dump(response.id()) + ",\"outputs\":[";
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& tensor = response.outputs(i);
    const auto dtype = DTypeFromName(tensor.datatype());
    const std::vector<int64_t> shape(tensor.shape().begin(), tensor.shape().end());
    const auto count = CheckedElementCount(shape);
    if (!dtype || !count || i >= response.raw_output_contents_size() ||
        response.raw_output_contents(i).size() != static_cast<size_t>(*count) * DTypeSize(*dtype)) {
      return Internal("output '" + tensor.name() + "': its bytes do not match its datatype " +
                      tensor.datatype() + " and shape " + OipShape(shape));
    }
    out += i > 0 ? ",{" : "{";
    out += "\"name\":" + Dump(tensor.name()) + ",\"datatype\":" + Dump(tensor.datatype()) +
           ",\"shape\":" + Dump(json(shape)) + ",\"data\":[";
    AppendData(out, *dtype, response.raw_output_contents(i), *count);
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string ModelMetadataJson(const std::string& name, const std::vector<int64_t>& ready_versions,
                              const std::string& platform, const ModelMetadata& metadata) {
  ordered_json versions = ordered_json::array();
  for (int64_t v : ready_versions) versions.push_back(std::to_string(v));
  ordered_json inputs = ordered_json::array();
  for (const auto& spec : metadata.inputs) inputs.push_back(TensorMetadata(spec));
  ordered_json outputs = ordered_json::array();
  for (const auto& spec : metadata.outputs) outputs.push_back(TensorMetadata(spec));
  const ordered_json doc = {{"name", name},
                            {"versions", std::move(versions)},
                            {"platform", platform},
                            {"inputs", std::move(inputs)},
                            {"outputs", std::move(outputs)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ServerMetadataJson(const std::string& name, const std::string& version,
                               const std::vector<std::string>& extensions) {
  const ordered_json doc = {{"name", name}, {"version", version}, {"extensions", extensions}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ErrorJson(std::string_view message) { return Dump({{"error", std::string(message)}}); }

}  // namespace seam::server
