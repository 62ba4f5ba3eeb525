#include "repository/model_config_pbtxt.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <triton_config.pb.h>

#include <nlohmann/json.hpp>
#include <regex>

namespace seam::repository {
namespace {

using Json = nlohmann::json;

// Collects the parser's first error with its position, rephrasing an unknown field as one seam
// does not support.
class Errors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!first_.empty()) return;
    static const std::regex kUnknown(R"(has no field named \"([A-Za-z0-9_]+)\")");
    std::smatch match;
    std::string what = message;
    if (std::regex_search(message, match, kUnknown)) {
      what = "'";
      what += match[1].str();
      what +=
          "': a field of Triton's model configuration that seam does not support (supported: "
          "name, platform, backend, max_batch_size, input, output, version_policy, "
          "instance_group, dynamic_batching, default_model_filename; docs/server.md)";
    }
    // Built piece by piece: GCC 12 reports a false -Wrestrict on "lit" + std::string chains.
    first_ = std::to_string(line + 1);
    first_ += ":";
    first_ += std::to_string(column + 1);
    first_ += ": ";
    first_ += what;
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

Result<DType> FromTriton(triton::DataType type, const std::string& where) {
  switch (type) {
    case triton::TYPE_BOOL:
      return DType::kBool;
    case triton::TYPE_UINT8:
      return DType::kUInt8;
    case triton::TYPE_UINT16:
      return DType::kUInt16;
    case triton::TYPE_UINT32:
      return DType::kUInt32;
    case triton::TYPE_UINT64:
      return DType::kUInt64;
    case triton::TYPE_INT8:
      return DType::kInt8;
    case triton::TYPE_INT16:
      return DType::kInt16;
    case triton::TYPE_INT32:
      return DType::kInt32;
    case triton::TYPE_INT64:
      return DType::kInt64;
    case triton::TYPE_FP16:
      return DType::kFloat16;
    case triton::TYPE_FP32:
      return DType::kFloat32;
    case triton::TYPE_FP64:
      return DType::kFloat64;
    case triton::TYPE_BF16:
      return DType::kBFloat16;
    default:
      return InvalidArgument(where + ".data_type: " + triton::DataType_Name(type) +
                             " is not served by seam (numeric tensors only)");
  }
}

// Triton's dims leave out the batch dimension when max_batch_size > 0; seam's shapes hold it.
template <typename Tensors>
Result<Json> TensorsToJson(const Tensors& tensors, int max_batch_size, const std::string& field,
                           const std::string& path) {
  Json list = Json::array();
  for (int i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const std::string where = field + "[" + std::to_string(i) + "]";
    Json item = {{"name", t.name()}};
    if (t.data_type() != triton::TYPE_INVALID) {
      auto dtype = FromTriton(t.data_type(), where);
      if (!dtype.ok()) return InvalidArgument(path + ": " + dtype.status().message());
      item["datatype"] = DTypeName(*dtype);
    }
    if (t.dims_size() > 0) {
      std::vector<int64_t> shape;
      if (max_batch_size > 0) shape.push_back(-1);
      shape.insert(shape.end(), t.dims().begin(), t.dims().end());
      item["shape"] = shape;
    }
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

Result<ModelConfig> ParseModelConfigPbtxt(const std::string& text, const std::string& path,
                                          const std::string& model_name) {
  triton::ModelConfig pb;
  google::protobuf::TextFormat::Parser parser;
  Errors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &pb)) {
    return InvalidArgument(
        path + ":" +
        (errors.first().empty() ? std::string(" not protobuf text format") : errors.first()));
  }
  auto error = [&](const std::string& field, const std::string& what) {
    return InvalidArgument(path + ": '" + field + "': " + what);
  };
  // The same document config.json would be, then config.json's checks: one meaning for both.
  Json doc = Json::object();
  if (!pb.name().empty()) doc["name"] = pb.name();
  if (!pb.backend().empty()) {
    // Triton's configs often carry both; they must then agree.
    if (!pb.platform().empty() && pb.platform() != kOnnxPlatform) {
      return error("platform",
                   "\"" + pb.platform() + "\" does not go with backend \"" + pb.backend() + "\"");
    }
    if (pb.backend() != "onnxruntime") {
      return error("backend", "\"onnxruntime\" is served, got \"" + pb.backend() + "\"");
    }
    doc["platform"] = kOnnxPlatform;
  }
  if (!pb.platform().empty()) doc["platform"] = pb.platform();
  if (!pb.default_model_filename().empty() && pb.default_model_filename() != "model.onnx") {
    return error("default_model_filename",
                 "seam serves VERSION/model.onnx, got \"" + pb.default_model_filename() + "\"");
  }
  if (pb.max_batch_size() != 0) doc["max_batch_size"] = pb.max_batch_size();
  if (pb.input_size() > 0) {
    SEAM_ASSIGN_OR_RETURN(doc["inputs"],
                          TensorsToJson(pb.input(), pb.max_batch_size(), "input", path));
  }
  if (pb.output_size() > 0) {
    SEAM_ASSIGN_OR_RETURN(doc["outputs"],
                          TensorsToJson(pb.output(), pb.max_batch_size(), "output", path));
  }
  if (pb.has_version_policy()) {
    const auto& policy = pb.version_policy();
    if (policy.has_latest()) {
      doc["version_policy"] = {{"latest", policy.latest().num_versions()}};
    } else if (policy.has_all()) {
      doc["version_policy"] = {{"all", Json::object()}};
    } else if (policy.has_specific()) {
      doc["version_policy"] = {{"specific", policy.specific().versions()}};
    }
  }
  if (pb.instance_group_size() > 0) {
    int64_t count = 0;
    for (int i = 0; i < pb.instance_group_size(); ++i) {
      const auto& group = pb.instance_group(i);
      const std::string field = "instance_group[" + std::to_string(i) + "]";
      if (group.kind() != triton::ModelInstanceGroup::KIND_CPU &&
          group.kind() != triton::ModelInstanceGroup::KIND_AUTO) {
        return error(field + ".kind",
                     triton::ModelInstanceGroup::Kind_Name(group.kind()) +
                         " is not served: seam runs ONNX Runtime on the CPU (KIND_CPU)");
      }
      // Triton's default count is 1 per group.
      if (group.count() < 0) return error(field + ".count", "must be >= 1");
      count += group.count() == 0 ? 1 : group.count();
      if (count > 64) {
        return error("instance_group", "the groups ask for " + std::to_string(count) +
                                           " instances; seam runs at most 64 of a version");
      }
    }
    doc["instance_count"] = count;
  }
  if (pb.has_dynamic_batching()) {
    const auto& b = pb.dynamic_batching();
    Json batching = Json::object();
    if (b.preferred_batch_size_size() > 0)
      batching["preferred_batch_size"] = b.preferred_batch_size();
    if (b.max_queue_delay_microseconds() > 0) {
      batching["max_queue_delay_us"] = b.max_queue_delay_microseconds();
    }
    if (b.default_queue_policy().max_queue_size() > 0) {
      batching["max_queue_size"] = b.default_queue_policy().max_queue_size();
    }
    doc["dynamic_batching"] = std::move(batching);
  }
  return ParseModelConfig(doc.dump(), path, model_name);
}

}  // namespace seam::repository
