// infer_request_seeds DIR: writes the seed corpus of infer_request_fuzzer, binary
// ModelInferRequests for the signatures of infer_request_models.h: for each, a valid request in
// raw_input_contents and (where the dtypes allow) in typed contents, and near misses of the
// validation rules. Run at build time, so the corpus is generated, not stored.
#include <inference.pb.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "infer_request_models.h"
#include "transport/payload.h"

namespace {

using inference::ModelInferRequest;
using seam::fuzz::ModelMetadata;

// Shape of `spec` with dynamic dimensions set to `dim` (the batch, for dimension 0).
std::vector<int64_t> Concrete(const seam::TensorSpec& spec, int64_t dim) {
  std::vector<int64_t> shape = spec.shape;
  for (int64_t& d : shape) d = d < 0 ? dim : d;
  return shape;
}

ModelInferRequest Raw(const std::string& model, const ModelMetadata& m, int64_t dim) {
  ModelInferRequest request;
  request.set_model_name(model);
  request.set_id("seed");
  for (const auto& spec : m.inputs) {
    auto* in = request.add_inputs();
    in->set_name(spec.name);
    in->set_datatype(seam::DTypeName(spec.dtype));
    const auto shape = Concrete(spec, dim);
    for (int64_t d : shape) in->add_shape(d);
    const size_t bytes = static_cast<size_t>(seam::ElementCount(shape)) * DTypeSize(spec.dtype);
    std::string raw(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i) raw[i] = static_cast<char>(i * 7 % 251);
    request.add_raw_input_contents(raw);
  }
  return request;
}

// Typed contents; false when a dtype has none (FP16, BF16).
bool Typed(const std::string& model, const ModelMetadata& m, int64_t dim,
           ModelInferRequest* request) {
  request->set_model_name(model);
  for (const auto& spec : m.inputs) {
    auto* in = request->add_inputs();
    in->set_name(spec.name);
    in->set_datatype(seam::DTypeName(spec.dtype));
    const auto shape = Concrete(spec, dim);
    for (int64_t d : shape) in->add_shape(d);
    auto* c = in->mutable_contents();
    for (int64_t i = 0; i < seam::ElementCount(shape); ++i) {
      switch (spec.dtype) {
        case seam::DType::kBool:
          c->add_bool_contents(i % 2);
          break;
        case seam::DType::kInt8:
        case seam::DType::kInt16:
        case seam::DType::kInt32:
          c->add_int_contents(static_cast<int32_t>(i) - 1);
          break;
        case seam::DType::kInt64:
          c->add_int64_contents(-i);
          break;
        case seam::DType::kUInt8:
        case seam::DType::kUInt16:
        case seam::DType::kUInt32:
          c->add_uint_contents(static_cast<uint32_t>(i));
          break;
        case seam::DType::kUInt64:
          c->add_uint64_contents(static_cast<uint64_t>(i));
          break;
        case seam::DType::kFloat32:
          c->add_fp32_contents(0.5f * i);
          break;
        case seam::DType::kFloat64:
          c->add_fp64_contents(0.25 * i);
          break;
        case seam::DType::kFloat16:
        case seam::DType::kBFloat16:
          return false;
      }
    }
  }
  request->add_outputs()->set_name(m.outputs.front().name);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: infer_request_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  int written = 0;
  auto write = [&](const std::string& name, const ModelInferRequest& request) {
    std::ofstream(dir + "/" + name + ".pb", std::ios::binary) << request.SerializeAsString();
    ++written;
  };
  const std::pair<const char*, ModelMetadata> models[] = {{"cnn", seam::fuzz::CnnChain()},
                                                          {"typed", seam::fuzz::EveryTypedDType()},
                                                          {"raw", seam::fuzz::RawOnly()},
                                                          {"unbatched", seam::fuzz::Unbatched()}};
  for (const auto& [name, m] : models) {
    const std::string model = name;
    write(model + "_raw_1", Raw(model, m, 1));
    write(model + "_raw_2", Raw(model, m, 2));
    ModelInferRequest typed;
    if (Typed(model, m, 1, &typed)) write(model + "_typed_1", typed);

    // Near misses: one rule broken each.
    ModelInferRequest r = Raw(model, m, 1);
    r.mutable_inputs(0)->set_datatype("INT64");
    write(model + "_bad_dtype", r);
    r = Raw(model, m, 1);
    r.mutable_inputs(0)->add_shape(1);
    write(model + "_bad_rank", r);
    r = Raw(model, m, 1);
    r.mutable_raw_input_contents(0)->pop_back();
    write(model + "_bad_bytes", r);
    r = Raw(model, m, m.max_batch_size + 1);
    write(model + "_batch_too_big", r);
    r = Raw(model, m, 1);
    r.mutable_inputs(0)->set_name("nope");
    write(model + "_unknown_input", r);
    r = Raw(model, m, 1);
    r.add_outputs()->set_name("nope");
    write(model + "_unknown_output", r);
  }
  // Typed values out of range for INT8, and raw mixed with typed.
  ModelInferRequest typed;
  Typed("typed", seam::fuzz::EveryTypedDType(), 1, &typed);
  typed.mutable_inputs(1)->mutable_contents()->set_int_contents(0, 300);
  write("typed_out_of_range", typed);
  ModelInferRequest mixed = Raw("typed", seam::fuzz::EveryTypedDType(), 1);
  mixed.mutable_inputs(0)->mutable_contents()->add_bool_contents(true);
  write("typed_mixed", mixed);
  // Coded inputs (parameter seam_codec): every codec of an FP32 input of cnn, and outputs asked
  // back coded.
  for (const char* codec :
       {"fp16", "int8", "int8_per_channel", "identity+zstd", "fp16+lz4", "int8+zstd"}) {
    ModelInferRequest coded = Raw("cnn", seam::fuzz::CnnChain(), 1);
    seam::Tensor t;
    t.dtype = seam::DType::kFloat32;
    t.shape.assign(coded.inputs(0).shape().begin(), coded.inputs(0).shape().end());
    const std::string& raw = coded.raw_input_contents(0);
    t.data.resize(raw.size());
    std::memcpy(t.data.data(), raw.data(), raw.size());
    auto payload = seam::transport::EncodePayload(t, codec);
    if (!payload.ok()) continue;
    *coded.mutable_raw_input_contents(0) = *payload;
    (*coded.mutable_inputs(0)->mutable_parameters())["seam_codec"].set_string_param(codec);
    auto* out = coded.add_outputs();
    out->set_name(seam::fuzz::CnnChain().outputs[0].name);
    (*out->mutable_parameters())["seam_codec"].set_string_param(codec);
    write(std::string("cnn_coded_") + codec, coded);
  }
  std::printf("infer_request_seeds: %d requests in %s\n", written, dir.c_str());
  return 0;
}
