#include "repository/model_config.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace seam::repository {
namespace {

using Json = nlohmann::json;

// Reads one JSON document, naming the file and the field in every error.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  Status Error(const std::string& field, const std::string& what) const {
    return InvalidArgument(path_ + ": '" + field + "': " + what);
  }

  static std::string Describe(const Json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
  }

  Result<int64_t> Int(const Json& value, const std::string& field, int64_t lo, int64_t hi) const {
    const std::string expected =
        "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got ";
    if (!value.is_number_integer()) return Error(field, expected + Describe(value));
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Error(field, expected + Describe(value));
    }
    const int64_t v = value.get<int64_t>();
    if (v < lo || v > hi) return Error(field, expected + std::to_string(v));
    return v;
  }

  Result<std::string> String(const Json& value, const std::string& field) const {
    if (!value.is_string()) return Error(field, "must be a string, got " + Describe(value));
    return value.get<std::string>();
  }

  // Fails on any key of `object` not in `known`.
  Status OnlyKnown(const Json& object, const std::string& field,
                   const std::set<std::string>& known) const {
    for (const auto& [key, unused] : object.items()) {
      if (!known.contains(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        const std::string where = field.empty() ? key : field + "." + key;
        return Error(where, "unknown field (known: " + list + ")");
      }
    }
    return Status::Ok();
  }

 private:
  std::string path_;
};

constexpr int64_t kMaxBatch = 1 << 20;
constexpr int64_t kMaxVersion = std::numeric_limits<int64_t>::max();

Result<std::vector<int64_t>> ReadShape(const Reader& r, const Json& value,
                                       const std::string& field) {
  if (!value.is_array()) return r.Error(field, "must be an array of dimensions");
  std::vector<int64_t> shape;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    SEAM_ASSIGN_OR_RETURN(int64_t d,
                          r.Int(value[i], where, -1, std::numeric_limits<int32_t>::max()));
    if (d == 0) return r.Error(where, "must be -1 (dynamic) or positive, got 0");
    shape.push_back(d);
  }
  return shape;
}

Result<std::vector<TensorConfig>> ReadTensors(const Reader& r, const Json& value,
                                              const std::string& field) {
  if (!value.is_array()) return r.Error(field, "must be an array of {name, datatype, shape}");
  std::vector<TensorConfig> tensors;
  std::set<std::string> names;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    const Json& item = value[i];
    if (!item.is_object()) return r.Error(where, "must be an object {name, datatype, shape}");
    SEAM_RETURN_IF_ERROR(r.OnlyKnown(item, where, {"name", "datatype", "shape"}));
    if (!item.contains("name")) return r.Error(where + ".name", "is required");
    TensorConfig tensor;
    SEAM_ASSIGN_OR_RETURN(tensor.name, r.String(item["name"], where + ".name"));
    if (!names.insert(tensor.name).second) {
      return r.Error(where + ".name", "'" + tensor.name + "' is listed twice");
    }
    if (item.contains("datatype")) {
      SEAM_ASSIGN_OR_RETURN(std::string name, r.String(item["datatype"], where + ".datatype"));
      tensor.dtype = DTypeFromName(name);
      if (!tensor.dtype) {
        return r.Error(where + ".datatype",
                       "unknown datatype '" + name + "' (FP32, FP16, INT64, BOOL, ...)");
      }
    }
    if (item.contains("shape")) {
      SEAM_ASSIGN_OR_RETURN(tensor.shape, ReadShape(r, item["shape"], where + ".shape"));
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

Result<VersionPolicy> ReadVersionPolicy(const Reader& r, const Json& value) {
  const std::string field = "version_policy";
  if (!value.is_object() || value.size() != 1) {
    return r.Error(field, "must be one of {\"latest\": N}, {\"all\": {}}, {\"specific\": [..]}");
  }
  SEAM_RETURN_IF_ERROR(r.OnlyKnown(value, field, {"latest", "all", "specific"}));
  VersionPolicy policy;
  if (value.contains("latest")) {
    policy.kind = VersionPolicy::Kind::kLatest;
    SEAM_ASSIGN_OR_RETURN(int64_t n, r.Int(value["latest"], field + ".latest", 1, 1000));
    policy.latest = static_cast<int>(n);
  } else if (value.contains("all")) {
    const Json& all = value["all"];
    if (!(all.is_boolean() && all.get<bool>()) && !(all.is_object() && all.empty())) {
      return r.Error(field + ".all", "must be {} or true, got " + Reader::Describe(all));
    }
    policy.kind = VersionPolicy::Kind::kAll;
  } else {
    policy.kind = VersionPolicy::Kind::kSpecific;
    const Json& list = value["specific"];
    if (!list.is_array() || list.empty()) {
      return r.Error(field + ".specific", "must be a non-empty array of version numbers");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      SEAM_ASSIGN_OR_RETURN(
          int64_t v,
          r.Int(list[i], field + ".specific[" + std::to_string(i) + "]", 1, kMaxVersion));
      policy.specific.push_back(v);
    }
    std::sort(policy.specific.begin(), policy.specific.end());
    policy.specific.erase(std::unique(policy.specific.begin(), policy.specific.end()),
                          policy.specific.end());
  }
  return policy;
}

Result<std::map<int64_t, std::string>> ReadVersions(const Reader& r, const Json& value) {
  if (!value.is_object()) return r.Error("versions", "must be an object {\"1\": {\"sha256\": ..}}");
  std::map<int64_t, std::string> sha;
  for (const auto& [key, entry] : value.items()) {
    const std::string where = "versions." + key;
    const bool numeric =
        !key.empty() && key.size() <= 18 &&
        std::all_of(key.begin(), key.end(), [](char c) { return std::isdigit(c); });
    if (!numeric || std::stoll(key) < 1) return r.Error(where, "must be a version number >= 1");
    if (!entry.is_object()) return r.Error(where, "must be an object {\"sha256\": ..}");
    SEAM_RETURN_IF_ERROR(r.OnlyKnown(entry, where, {"sha256"}));
    if (!entry.contains("sha256")) continue;
    SEAM_ASSIGN_OR_RETURN(std::string hex, r.String(entry["sha256"], where + ".sha256"));
    std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return std::tolower(c); });
    if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), [](char c) {
          return std::isdigit(c) || (c >= 'a' && c <= 'f');
        })) {
      return r.Error(where + ".sha256", "must be 64 hexadecimal digits");
    }
    sha[std::stoll(key)] = hex;
  }
  return sha;
}

Result<DynamicBatchingConfig> ReadDynamicBatching(const Reader& r, const Json& value,
                                                  int max_batch_size) {
  const std::string field = "dynamic_batching";
  if (!value.is_object()) return r.Error(field, "must be an object");
  SEAM_RETURN_IF_ERROR(
      r.OnlyKnown(value, field, {"preferred_batch_size", "max_queue_delay_us", "max_queue_size"}));
  if (max_batch_size < 1) {
    return r.Error(field, "needs max_batch_size >= 1 (the model must take a batch dimension)");
  }
  DynamicBatchingConfig config;
  if (value.contains("preferred_batch_size")) {
    const Json& list = value["preferred_batch_size"];
    if (!list.is_array()) return r.Error(field + ".preferred_batch_size", "must be an array");
    for (size_t i = 0; i < list.size(); ++i) {
      SEAM_ASSIGN_OR_RETURN(
          int64_t b, r.Int(list[i], field + ".preferred_batch_size[" + std::to_string(i) + "]", 1,
                           max_batch_size));
      config.preferred_batch_size.push_back(static_cast<int>(b));
    }
    auto& sizes = config.preferred_batch_size;
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  }
  if (value.contains("max_queue_delay_us")) {
    SEAM_ASSIGN_OR_RETURN(
        config.max_queue_delay_us,
        r.Int(value["max_queue_delay_us"], field + ".max_queue_delay_us", 0, 60'000'000));
  }
  if (value.contains("max_queue_size")) {
    SEAM_ASSIGN_OR_RETURN(int64_t n,
                          r.Int(value["max_queue_size"], field + ".max_queue_size", 0, 1'000'000));
    config.max_queue_size = static_cast<int>(n);
  }
  return config;
}

}  // namespace

ModelConfig DefaultModelConfig(const std::string& model_name) {
  ModelConfig config;
  config.name = model_name;
  return config;
}

std::string ModelConfigToJson(const ModelConfig& config) {
  const ModelConfig defaults = DefaultModelConfig(config.name);
  Json doc = {{"name", config.name}, {"platform", config.platform}};
  if (config.max_batch_size != defaults.max_batch_size) {
    doc["max_batch_size"] = config.max_batch_size;
  }
  auto tensors = [](const std::vector<TensorConfig>& list) {
    Json out = Json::array();
    for (const TensorConfig& t : list) {
      Json item = {{"name", t.name}};
      if (t.dtype) item["datatype"] = DTypeName(*t.dtype);
      if (t.shape) item["shape"] = *t.shape;
      out.push_back(std::move(item));
    }
    return out;
  };
  if (!config.inputs.empty()) doc["inputs"] = tensors(config.inputs);
  if (!config.outputs.empty()) doc["outputs"] = tensors(config.outputs);
  if (!(config.version_policy == defaults.version_policy)) {
    const VersionPolicy& p = config.version_policy;
    switch (p.kind) {
      case VersionPolicy::Kind::kLatest:
        doc["version_policy"] = {{"latest", p.latest}};
        break;
      case VersionPolicy::Kind::kAll:
        doc["version_policy"] = {{"all", Json::object()}};
        break;
      case VersionPolicy::Kind::kSpecific:
        doc["version_policy"] = {{"specific", p.specific}};
        break;
    }
  }
  if (config.instance_count != defaults.instance_count) {
    doc["instance_count"] = config.instance_count;
  }
  if (config.intra_op_threads != defaults.intra_op_threads) {
    doc["intra_op_threads"] = config.intra_op_threads;
  }
  if (!config.version_sha256.empty()) {
    Json versions = Json::object();
    for (const auto& [v, sha] : config.version_sha256)
      versions[std::to_string(v)] = {{"sha256", sha}};
    doc["versions"] = std::move(versions);
  }
  if (config.dynamic_batching) {
    const DynamicBatchingConfig& b = *config.dynamic_batching;
    doc["dynamic_batching"] = {{"preferred_batch_size", b.preferred_batch_size},
                               {"max_queue_delay_us", b.max_queue_delay_us},
                               {"max_queue_size", b.max_queue_size}};
  }
  return doc.dump(2) + "\n";
}

Result<ModelConfig> ParseModelConfig(const std::string& text, const std::string& path,
                                     const std::string& model_name) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    return InvalidArgument(path + ": not valid JSON: " + e.what());
  }
  const Reader r(path);
  if (!doc.is_object()) return InvalidArgument(path + ": must be a JSON object");
  SEAM_RETURN_IF_ERROR(
      r.OnlyKnown(doc, "",
                  {"name", "platform", "max_batch_size", "inputs", "outputs", "version_policy",
                   "instance_count", "intra_op_threads", "versions", "dynamic_batching"}));
  ModelConfig config = DefaultModelConfig(model_name);
  if (doc.contains("name")) {
    SEAM_ASSIGN_OR_RETURN(std::string name, r.String(doc["name"], "name"));
    if (name != model_name) {
      return r.Error("name",
                     "'" + name + "' differs from the model's directory name '" + model_name + "'");
    }
  }
  if (doc.contains("platform")) {
    SEAM_ASSIGN_OR_RETURN(config.platform, r.String(doc["platform"], "platform"));
    if (config.platform != kOnnxPlatform && config.platform != kStagePlatform) {
      return r.Error("platform", "\"" + std::string(kOnnxPlatform) + "\" or \"" +
                                     std::string(kStagePlatform) + "\" are served, got \"" +
                                     config.platform + "\"");
    }
  }
  if (doc.contains("max_batch_size")) {
    SEAM_ASSIGN_OR_RETURN(int64_t n, r.Int(doc["max_batch_size"], "max_batch_size", 0, kMaxBatch));
    config.max_batch_size = static_cast<int>(n);
  }
  if (doc.contains("inputs")) {
    SEAM_ASSIGN_OR_RETURN(config.inputs, ReadTensors(r, doc["inputs"], "inputs"));
  }
  if (doc.contains("outputs")) {
    SEAM_ASSIGN_OR_RETURN(config.outputs, ReadTensors(r, doc["outputs"], "outputs"));
  }
  if (config.max_batch_size > 0) {
    for (const auto* list : {&config.inputs, &config.outputs}) {
      for (const auto& t : *list) {
        if (t.shape && (t.shape->empty() || (*t.shape)[0] != -1)) {
          return r.Error((list == &config.inputs ? "inputs." : "outputs.") + t.name + ".shape",
                         "with max_batch_size > 0 the first dimension is the batch and must be "
                         "-1");
        }
      }
    }
  }
  if (doc.contains("version_policy")) {
    SEAM_ASSIGN_OR_RETURN(config.version_policy, ReadVersionPolicy(r, doc["version_policy"]));
  }
  if (doc.contains("instance_count")) {
    SEAM_ASSIGN_OR_RETURN(int64_t n, r.Int(doc["instance_count"], "instance_count", 1, 64));
    config.instance_count = static_cast<int>(n);
  }
  if (doc.contains("intra_op_threads")) {
    SEAM_ASSIGN_OR_RETURN(int64_t n, r.Int(doc["intra_op_threads"], "intra_op_threads", 0, 256));
    config.intra_op_threads = static_cast<int>(n);
  }
  if (doc.contains("versions")) {
    SEAM_ASSIGN_OR_RETURN(config.version_sha256, ReadVersions(r, doc["versions"]));
  }
  if (doc.contains("dynamic_batching")) {
    SEAM_ASSIGN_OR_RETURN(config.dynamic_batching,
                          ReadDynamicBatching(r, doc["dynamic_batching"], config.max_batch_size));
  }
  return config;
}

std::vector<int64_t> SelectVersions(const VersionPolicy& policy,
                                    const std::vector<int64_t>& available) {
  std::vector<int64_t> sorted = available;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  switch (policy.kind) {
    case VersionPolicy::Kind::kAll:
      return sorted;
    case VersionPolicy::Kind::kLatest: {
      const size_t keep = std::min(sorted.size(), static_cast<size_t>(policy.latest));
      return std::vector<int64_t>(sorted.end() - static_cast<std::ptrdiff_t>(keep), sorted.end());
    }
    case VersionPolicy::Kind::kSpecific: {
      std::vector<int64_t> chosen;
      std::set_intersection(sorted.begin(), sorted.end(), policy.specific.begin(),
                            policy.specific.end(), std::back_inserter(chosen));
      return chosen;
    }
  }
  return {};
}

}  // namespace seam::repository
