#include "oip/infer_codec.h"

#include <cstring>
#include <limits>
#include <set>
#include <type_traits>

#include "transport/codec_spec.h"
#include "transport/payload.h"

namespace seam::oip {
namespace {

using inference::InferTensorContents;
using inference::ModelInferRequest;

std::string Names(const std::vector<TensorSpec>& specs) {
  std::string names;
  for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
  return names;
}

// The typed-contents field that carries `dtype`, or nullptr for FP16/BF16 (raw only).
const char* TypedField(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return "bool_contents";
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
      return "int_contents";
    case DType::kInt64:
      return "int64_contents";
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
      return "uint_contents";
    case DType::kUInt64:
      return "uint64_contents";
    case DType::kFloat32:
      return "fp32_contents";
    case DType::kFloat64:
      return "fp64_contents";
    case DType::kFloat16:
    case DType::kBFloat16:
      return nullptr;
  }
  return nullptr;
}

// (field name, element count) of every non-empty typed field.
std::vector<std::pair<const char*, int>> FilledFields(const InferTensorContents& c) {
  std::vector<std::pair<const char*, int>> filled;
  auto add = [&](const char* name, int size) {
    if (size > 0) filled.emplace_back(name, size);
  };
  add("bool_contents", c.bool_contents_size());
  add("int_contents", c.int_contents_size());
  add("int64_contents", c.int64_contents_size());
  add("uint_contents", c.uint_contents_size());
  add("uint64_contents", c.uint64_contents_size());
  add("fp32_contents", c.fp32_contents_size());
  add("fp64_contents", c.fp64_contents_size());
  add("bytes_contents", c.bytes_contents_size());
  return filled;
}

// Copies typed values into `out` as T, each checked to lie in [lo, hi].
template <typename T, typename Field>
Status CopyValues(const Field& values, const std::string& where, const char* field, DType dtype,
                  int64_t lo, int64_t hi, Tensor& out) {
  T* dst = out.data_as<T>();
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    if constexpr (std::is_integral_v<decltype(v)> && !std::is_same_v<decltype(v), bool>) {
      const bool below = std::is_signed_v<decltype(v)> && static_cast<int64_t>(v) < lo;
      const bool above = std::is_signed_v<decltype(v)>
                             ? static_cast<int64_t>(v) > hi
                             : static_cast<uint64_t>(v) > static_cast<uint64_t>(hi);
      if (below || above) {
        return InvalidArgument(where + ": " + field + "[" + std::to_string(i) + "] = " +
                               std::to_string(v) + " is out of range for " + DTypeName(dtype));
      }
    }
    dst[i] = static_cast<T>(v);
  }
  return Status::Ok();
}

Status CopyTyped(const InferTensorContents& c, const std::string& where, Tensor& out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  switch (out.dtype) {
    case DType::kBool:
      return CopyValues<uint8_t>(c.bool_contents(), where, "bool_contents", out.dtype, 0, 1, out);
    case DType::kInt8:
      return CopyValues<int8_t>(c.int_contents(), where, "int_contents", out.dtype, -128, 127, out);
    case DType::kInt16:
      return CopyValues<int16_t>(c.int_contents(), where, "int_contents", out.dtype, -32768, 32767,
                                 out);
    case DType::kInt32:
      return CopyValues<int32_t>(c.int_contents(), where, "int_contents", out.dtype,
                                 std::numeric_limits<int32_t>::min(),
                                 std::numeric_limits<int32_t>::max(), out);
    case DType::kInt64:
      return CopyValues<int64_t>(c.int64_contents(), where, "int64_contents", out.dtype,
                                 std::numeric_limits<int64_t>::min(), kMax, out);
    case DType::kUInt8:
      return CopyValues<uint8_t>(c.uint_contents(), where, "uint_contents", out.dtype, 0, 255, out);
    case DType::kUInt16:
      return CopyValues<uint16_t>(c.uint_contents(), where, "uint_contents", out.dtype, 0, 65535,
                                  out);
    case DType::kUInt32:
      return CopyValues<uint32_t>(c.uint_contents(), where, "uint_contents", out.dtype, 0,
                                  std::numeric_limits<uint32_t>::max(), out);
    case DType::kUInt64:
      // Every uint64 fits: the range check is skipped by passing the widest bound.
      for (int i = 0; i < c.uint64_contents_size(); ++i) {
        out.data_as<uint64_t>()[i] = c.uint64_contents(i);
      }
      return Status::Ok();
    case DType::kFloat32:
      std::memcpy(out.data.data(), c.fp32_contents().data(), out.data.size());
      return Status::Ok();
    case DType::kFloat64:
      std::memcpy(out.data.data(), c.fp64_contents().data(), out.data.size());
      return Status::Ok();
    case DType::kFloat16:
    case DType::kBFloat16:
      break;
  }
  return Internal(where + ": no typed contents for " + DTypeName(out.dtype));
}

// The shape rules of the header, for one input. Returns the element count.
Result<int64_t> CheckShape(const TensorSpec& spec, const ModelInferRequest::InferInputTensor& in,
                           const std::string& where, int max_batch_size) {
  const std::vector<int64_t> shape(in.shape().begin(), in.shape().end());
  bool matches = shape.size() == spec.shape.size();
  for (size_t i = 0; matches && i < shape.size(); ++i) {
    matches = spec.shape[i] < 0 || shape[i] == spec.shape[i];
  }
  if (!matches) {
    return InvalidArgument(where + ": expected shape " + OipShape(spec.shape) + ", got " +
                           OipShape(shape));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 1) {
      return InvalidArgument(where + ": dimension " + std::to_string(i) + " must be >= 1, got " +
                             std::to_string(shape[i]));
    }
  }
  if (max_batch_size > 0 && shape[0] > max_batch_size) {
    return InvalidArgument(where + ": batch size " + std::to_string(shape[0]) +
                           " exceeds the model's max_batch_size " + std::to_string(max_batch_size));
  }
  auto count = CheckedElementCount(shape);
  auto bytes =
      count ? CheckedMul(*count, static_cast<int64_t>(DTypeSize(spec.dtype))) : std::nullopt;
  if (!bytes) {
    return InvalidArgument(where + ": shape " + OipShape(shape) + " is too large");
  }
  return *count;
}

// The codec a tensor's parameters name (transport/payload.h); "" if none or not a string (a
// wrong type then fails as an unknown codec, naming the value).
std::string CodecOf(const google::protobuf::Map<std::string, inference::InferParameter>& params) {
  auto it = params.find(transport::kCodecParameter);
  if (it == params.end()) return "";
  if (it->second.parameter_choice_case() != inference::InferParameter::kStringParam) {
    return "<not a string>";
  }
  return it->second.string_param();
}

// Decodes input `index` into `decoded`, or keeps it coded there when `keep` says so.
Status DecodeInput(const ModelInferRequest& request, int index, const TensorSpec& spec,
                   int max_batch_size, const KeepCoded& keep, DecodedRequest& decoded) {
  const auto& in = request.inputs(index);
  const std::string where = "input '" + in.name() + "'";
  const auto dtype = DTypeFromName(in.datatype());
  if (!dtype) {
    return InvalidArgument(where + ": unknown or unsupported datatype '" + in.datatype() + "'");
  }
  if (*dtype != spec.dtype) {
    return InvalidArgument(where + ": expected datatype " + DTypeName(spec.dtype) + ", got " +
                           in.datatype());
  }
  SEAM_ASSIGN_OR_RETURN(int64_t count, CheckShape(spec, in, where, max_batch_size));
  const auto filled = FilledFields(in.contents());
  const size_t expected_bytes = static_cast<size_t>(count) * DTypeSize(spec.dtype);
  Tensor tensor;
  tensor.dtype = spec.dtype;
  tensor.shape.assign(in.shape().begin(), in.shape().end());

  const std::string codec = CodecOf(in.parameters());
  if (request.raw_input_contents_size() > 0) {
    if (!filled.empty()) {
      return InvalidArgument(where + ": has typed contents (" + filled[0].first +
                             ") but the request uses raw_input_contents; use one or the other");
    }
    const std::string& raw = request.raw_input_contents(index);
    if (!transport::IsPlainCodec(codec)) {
      if (keep && keep(in.name(), codec)) {
        decoded.coded.emplace(in.name(),
                              CodedTensor{spec.dtype, std::move(tensor.shape), codec, raw});
        return Status::Ok();
      }
      SEAM_ASSIGN_OR_RETURN(tensor,
                            transport::DecodePayload(raw, codec, spec.dtype, tensor.shape, where));
      decoded.inputs.emplace(in.name(), std::move(tensor));
      return Status::Ok();
    }
    if (raw.size() != expected_bytes) {
      return InvalidArgument(where + ": shape " + OipShape(tensor.shape) + " of " +
                             DTypeName(spec.dtype) + " needs " + std::to_string(expected_bytes) +
                             " bytes, raw_input_contents[" + std::to_string(index) + "] has " +
                             std::to_string(raw.size()));
    }
    const auto* bytes = reinterpret_cast<const std::byte*>(raw.data());
    tensor.data.assign(bytes, bytes + raw.size());  // one copy, no zero-fill first
    decoded.inputs.emplace(in.name(), std::move(tensor));
    return Status::Ok();
  }

  if (!transport::IsPlainCodec(codec)) {
    return InvalidArgument(where + ": parameter " + transport::kCodecParameter + " '" + codec +
                           "' needs the tensor in raw_input_contents");
  }
  const char* field = TypedField(spec.dtype);
  if (!field) {
    return InvalidArgument(where + ": " + DTypeName(spec.dtype) +
                           " tensors must be sent in raw_input_contents");
  }
  if (filled.empty()) {
    return InvalidArgument(where + ": no data (neither raw_input_contents nor " + field + ")");
  }
  for (const auto& [name, size] : filled) {
    if (std::strcmp(name, field) != 0) {
      return InvalidArgument(where + ": datatype " + DTypeName(spec.dtype) + " takes " + field +
                             ", got " + name);
    }
    if (size != count) {
      return InvalidArgument(where + ": shape " + OipShape(tensor.shape) + " has " +
                             std::to_string(count) + " elements, " + field + " has " +
                             std::to_string(size));
    }
  }
  tensor.data.resize(expected_bytes);
  SEAM_RETURN_IF_ERROR(CopyTyped(in.contents(), where, tensor));
  decoded.inputs.emplace(in.name(), std::move(tensor));
  return Status::Ok();
}

}  // namespace

Result<DecodedRequest> DecodeInferRequest(const ModelInferRequest& request,
                                          const ModelMetadata& metadata, const KeepCoded& keep) {
  if (request.raw_input_contents_size() > 0 &&
      request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgument("raw_input_contents has " +
                           std::to_string(request.raw_input_contents_size()) + " entries for " +
                           std::to_string(request.inputs_size()) +
                           " inputs; give one per input, in the order of 'inputs'");
  }
  DecodedRequest decoded;
  const std::string* batch_input = nullptr;
  int64_t batch = 0;
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& in = request.inputs(i);
    const TensorSpec* spec = metadata.FindInput(in.name());
    if (!spec) {
      return InvalidArgument("input '" + in.name() + "': the model has no such input (it has: " +
                             Names(metadata.inputs) + ")");
    }
    if (decoded.inputs.contains(in.name()) || decoded.coded.contains(in.name())) {
      return InvalidArgument("input '" + in.name() + "' is given twice");
    }
    SEAM_RETURN_IF_ERROR(DecodeInput(request, i, *spec, metadata.max_batch_size, keep, decoded));
    if (metadata.max_batch_size > 0) {
      // The shape was checked against the spec's rank, so it has a first dimension.
      const int64_t rows = in.shape(0);
      if (batch_input && rows != batch) {
        return InvalidArgument("input '" + in.name() + "': batch size " + std::to_string(rows) +
                               " differs from input '" + *batch_input + "' (" +
                               std::to_string(batch) + ")");
      }
      batch_input = &in.name();
      batch = rows;
    }
  }
  for (const auto& spec : metadata.inputs) {
    if (!decoded.inputs.contains(spec.name) && !decoded.coded.contains(spec.name)) {
      return InvalidArgument("input '" + spec.name +
                             "' is missing (the model's inputs: " + Names(metadata.inputs) + ")");
    }
  }
  std::set<std::string> requested;
  for (const auto& out : request.outputs()) {
    if (!metadata.FindOutput(out.name())) {
      return InvalidArgument("requested output '" + out.name() +
                             "': the model has no such output (it has: " + Names(metadata.outputs) +
                             ")");
    }
    if (!requested.insert(out.name()).second) {
      return InvalidArgument("requested output '" + out.name() + "' is listed twice");
    }
    decoded.outputs.push_back(out.name());
    const std::string codec = CodecOf(out.parameters());
    if (!transport::IsPlainCodec(codec)) {
      if (auto spec = transport::ParseCodec(codec); !spec.ok()) {
        return InvalidArgument("requested output '" + out.name() + "': " + spec.status().message());
      }
      decoded.output_codecs[out.name()] = codec;
    }
  }
  if (decoded.outputs.empty()) {
    for (const auto& spec : metadata.outputs) decoded.outputs.push_back(spec.name);
  }
  return decoded;
}

Status EncodeInferOutputs(const TensorMap& outputs, const std::vector<std::string>& names,
                          inference::ModelInferResponse* response,
                          const std::map<std::string, std::string>& codecs, CodedMap* coded) {
  for (const auto& name : names) {
    const auto codec = codecs.find(name);
    const std::string_view wanted = codec != codecs.end() ? std::string_view(codec->second) : "";
    auto* out = response->add_outputs();
    out->set_name(name);
    if (!transport::IsPlainCodec(wanted)) {
      (*out->mutable_parameters())[transport::kCodecParameter].set_string_param(
          std::string(wanted));
    }
    auto it = outputs.find(name);
    if (it == outputs.end() && coded) {
      auto kept = coded->find(name);
      if (kept == coded->end()) return Internal("the model produced no output '" + name + "'");
      CodedTensor& c = kept->second;
      out->set_datatype(DTypeName(c.dtype));
      for (int64_t d : c.shape) out->add_shape(d);
      if (c.codec == wanted) {
        response->add_raw_output_contents(std::move(c.bytes));  // passed through untouched
        continue;
      }
      SEAM_ASSIGN_OR_RETURN(Tensor t, transport::DecodePayload(c.bytes, c.codec, c.dtype, c.shape,
                                                               "output '" + name + "'"));
      auto payload = transport::EncodePayload(t, wanted);
      if (!payload.ok()) {
        return InvalidArgument("output '" + name + "': " + payload.status().message());
      }
      response->add_raw_output_contents(std::move(payload).value());
      continue;
    }
    if (it == outputs.end()) return Internal("the model produced no output '" + name + "'");
    const Tensor& t = it->second;
    out->set_datatype(DTypeName(t.dtype));
    for (int64_t d : t.shape) out->add_shape(d);
    if (!transport::IsPlainCodec(wanted)) {
      auto payload = transport::EncodePayload(t, wanted);
      if (!payload.ok()) {
        return InvalidArgument("output '" + name + "': " + payload.status().message());
      }
      response->add_raw_output_contents(std::move(payload).value());
      continue;
    }
    response->add_raw_output_contents(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  }
  return Status::Ok();
}

Result<uint64_t> AddInput(const std::string& name, const Tensor& tensor, std::string_view codec,
                          inference::ModelInferRequest* request) {
  auto* in = request->add_inputs();
  in->set_name(name);
  in->set_datatype(DTypeName(tensor.dtype));
  for (int64_t d : tensor.shape) in->add_shape(d);
  if (transport::IsPlainCodec(codec)) {
    request->add_raw_input_contents(reinterpret_cast<const char*>(tensor.data.data()),
                                    tensor.data.size());
    return tensor.data.size();
  }
  (*in->mutable_parameters())[transport::kCodecParameter].set_string_param(std::string(codec));
  auto payload = transport::EncodePayload(tensor, codec);
  if (!payload.ok()) return payload.status().WithContext("input '" + name + "'");
  const uint64_t size = payload->size();
  request->add_raw_input_contents(std::move(payload).value());
  return size;
}

uint64_t AddCodedInput(const std::string& name, CodedTensor&& tensor,
                       inference::ModelInferRequest* request) {
  auto* in = request->add_inputs();
  in->set_name(name);
  in->set_datatype(DTypeName(tensor.dtype));
  for (int64_t d : tensor.shape) in->add_shape(d);
  (*in->mutable_parameters())[transport::kCodecParameter].set_string_param(tensor.codec);
  const uint64_t size = tensor.bytes.size();
  request->add_raw_input_contents(std::move(tensor.bytes));
  return size;
}

void AddRequestedOutput(const std::string& name, std::string_view codec,
                        inference::ModelInferRequest* request) {
  auto* out = request->add_outputs();
  out->set_name(name);
  if (!transport::IsPlainCodec(codec)) {
    (*out->mutable_parameters())[transport::kCodecParameter].set_string_param(std::string(codec));
  }
}

Result<DecodedResponse> DecodeInferResponse(const inference::ModelInferResponse& response,
                                            const std::string& where, const KeepCoded& keep) {
  if (response.outputs_size() != response.raw_output_contents_size()) {
    return DataLoss(where + " answered " + std::to_string(response.outputs_size()) +
                    " outputs with " + std::to_string(response.raw_output_contents_size()) +
                    " raw contents");
  }
  DecodedResponse decoded;
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& out = response.outputs(i);
    const std::string what = where + " output '" + out.name() + "'";
    auto dtype = DTypeFromName(out.datatype());
    if (!dtype) return DataLoss(what + ": unknown datatype '" + out.datatype() + "'");
    const std::string codec = CodecOf(out.parameters());
    const std::string& raw = response.raw_output_contents(i);
    decoded.payload_bytes += raw.size();
    std::vector<int64_t> shape(out.shape().begin(), out.shape().end());
    if (!transport::IsPlainCodec(codec) && keep && keep(out.name(), codec)) {
      decoded.coded.insert_or_assign(out.name(), CodedTensor{*dtype, std::move(shape), codec, raw});
      continue;
    }
    auto tensor = transport::DecodePayload(raw, codec, *dtype, shape, what);
    // Bad bytes from the peer are its fault, not the caller's input.
    if (!tensor.ok()) return DataLoss(tensor.status().message());
    decoded.outputs.insert_or_assign(out.name(), std::move(tensor).value());
  }
  return decoded;
}

}  // namespace seam::oip
