#include "pipeline/stage_spec.h"

#include "common/file_util.h"
#include "transport/codec_spec.h"

namespace seam::pipeline {
namespace {

using nlohmann::json;

json TensorsToJson(const std::vector<StageTensor>& tensors) {
  json out = json::array();
  for (const auto& t : tensors) {
    out.push_back({{"name", t.name},
                   {"datatype", DTypeName(t.dtype)},
                   {"shape", t.shape},
                   {"codec", t.codec}});
  }
  return out;
}

// Reads field `key` of `object` as T; the error names the file and the field's path.
template <typename T>
Result<T> Field(const json& object, const std::string& key, const std::string& where) {
  if (!object.is_object() || !object.contains(key)) {
    return InvalidArgument(where + ": missing field '" + key + "'");
  }
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    return InvalidArgument(where + ": field '" + key + "' has the wrong type (" +
                           object.at(key).dump() + ")");
  }
}

Result<std::vector<StageTensor>> TensorsFromJson(const json& object, const std::string& key,
                                                 const std::string& where) {
  SEAM_ASSIGN_OR_RETURN(json list, Field<json>(object, key, where));
  if (!list.is_array()) return InvalidArgument(where + ": '" + key + "' must be an array");
  std::vector<StageTensor> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + ": " + key + "[" + std::to_string(i) + "]";
    StageTensor t;
    SEAM_ASSIGN_OR_RETURN(t.name, Field<std::string>(list[i], "name", at));
    SEAM_ASSIGN_OR_RETURN(std::string dtype, Field<std::string>(list[i], "datatype", at));
    auto parsed = DTypeFromName(dtype);
    if (!parsed) return InvalidArgument(at + ": unknown datatype '" + dtype + "'");
    t.dtype = *parsed;
    SEAM_ASSIGN_OR_RETURN(t.shape, Field<std::vector<int64_t>>(list[i], "shape", at));
    SEAM_ASSIGN_OR_RETURN(t.codec, Field<std::string>(list[i], "codec", at));
    if (auto codec = transport::ParseCodec(t.codec); !codec.ok()) {
      return InvalidArgument(at + ": " + codec.status().message());
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

json StageToJson(const StageSpec& s) {
  json out = {{"schema", kStageSchema},
              {"plan_id", s.plan_id},
              {"model_sha256", s.model_sha256},
              {"tier", s.tier},
              {"tier_index", s.tier_index},
              {"segment", nullptr},
              {"optimize", s.optimize},
              {"intra_op_threads", s.intra_op_threads},
              {"inputs", TensorsToJson(s.inputs)},
              {"outputs", TensorsToJson(s.outputs)},
              {"next", nullptr}};
  if (!s.segment_file.empty()) {
    out["segment"] = {
        {"file", s.segment_file}, {"sha256", s.segment_sha256}, {"nodes", s.segment_nodes}};
  }
  if (s.fallback) {
    out["fallback"] = {
        {"file", s.fallback->file}, {"sha256", s.fallback->sha256}, {"nodes", s.fallback->nodes}};
  }
  if (s.next) {
    out["next"] = {{"tier", s.next->tier},
                   {"address", s.next->address},
                   {"model", s.next->model},
                   {"version", s.next->version},
                   {"send", TensorsToJson(s.next->send)},
                   {"receive", TensorsToJson(s.next->receive)}};
    if (!s.next->security.empty())
      out["next"]["security"] = oip::HopSecurityToJson(s.next->security);
  }
  return out;
}

Result<StageSpec> StageFromJson(const json& j, const std::string& where) {
  SEAM_ASSIGN_OR_RETURN(std::string schema, Field<std::string>(j, "schema", where));
  if (schema != kStageSchema) {
    return InvalidArgument(where + ": schema is '" + schema + "', expected '" + kStageSchema + "'");
  }
  StageSpec s;
  SEAM_ASSIGN_OR_RETURN(s.plan_id, Field<std::string>(j, "plan_id", where));
  SEAM_ASSIGN_OR_RETURN(s.model_sha256, Field<std::string>(j, "model_sha256", where));
  SEAM_ASSIGN_OR_RETURN(s.tier, Field<std::string>(j, "tier", where));
  SEAM_ASSIGN_OR_RETURN(s.tier_index, Field<int>(j, "tier_index", where));
  SEAM_ASSIGN_OR_RETURN(s.optimize, Field<bool>(j, "optimize", where));
  SEAM_ASSIGN_OR_RETURN(s.intra_op_threads, Field<int>(j, "intra_op_threads", where));
  if (s.intra_op_threads < 0 || s.intra_op_threads > 64) {
    return InvalidArgument(where + ": 'intra_op_threads' must be in [0, 64]");
  }
  SEAM_ASSIGN_OR_RETURN(s.inputs, TensorsFromJson(j, "inputs", where));
  SEAM_ASSIGN_OR_RETURN(s.outputs, TensorsFromJson(j, "outputs", where));
  SEAM_ASSIGN_OR_RETURN(json segment, Field<json>(j, "segment", where));
  if (!segment.is_null()) {
    const std::string at = where + ": segment";
    SEAM_ASSIGN_OR_RETURN(s.segment_file, Field<std::string>(segment, "file", at));
    SEAM_ASSIGN_OR_RETURN(s.segment_sha256, Field<std::string>(segment, "sha256", at));
    SEAM_ASSIGN_OR_RETURN(s.segment_nodes, Field<int>(segment, "nodes", at));
    if (s.segment_file.empty() || s.segment_file.find('/') != std::string::npos ||
        s.segment_file.find("..") != std::string::npos) {
      return InvalidArgument(at + ": 'file' must be a plain file name in the stage's directory");
    }
  }
  SEAM_ASSIGN_OR_RETURN(json next, Field<json>(j, "next", where));
  if (!next.is_null()) {
    const std::string at = where + ": next";
    NextHop hop;
    SEAM_ASSIGN_OR_RETURN(hop.tier, Field<std::string>(next, "tier", at));
    SEAM_ASSIGN_OR_RETURN(hop.address, Field<std::string>(next, "address", at));
    SEAM_ASSIGN_OR_RETURN(hop.model, Field<std::string>(next, "model", at));
    SEAM_ASSIGN_OR_RETURN(hop.version, Field<int64_t>(next, "version", at));
    SEAM_ASSIGN_OR_RETURN(hop.send, TensorsFromJson(next, "send", at));
    SEAM_ASSIGN_OR_RETURN(hop.receive, TensorsFromJson(next, "receive", at));
    if (next.contains("security")) {
      SEAM_ASSIGN_OR_RETURN(hop.security,
                            oip::HopSecurityFromJson(next["security"], at + ": security"));
    }
    s.next = std::move(hop);
  }
  if (j.contains("fallback") && !j.at("fallback").is_null()) {
    const std::string at = where + ": fallback";
    const json& f = j.at("fallback");
    FallbackSegment fallback;
    SEAM_ASSIGN_OR_RETURN(fallback.file, Field<std::string>(f, "file", at));
    SEAM_ASSIGN_OR_RETURN(fallback.sha256, Field<std::string>(f, "sha256", at));
    SEAM_ASSIGN_OR_RETURN(fallback.nodes, Field<int>(f, "nodes", at));
    if (fallback.file.empty() || fallback.file.find('/') != std::string::npos ||
        fallback.file.find("..") != std::string::npos) {
      return InvalidArgument(at + ": 'file' must be a plain file name in the stage's directory");
    }
    if (!s.next || s.tier_index != 0) {
      return InvalidArgument(at + ": only the device's stage, with a next hop, has a fallback");
    }
    s.fallback = std::move(fallback);
  }
  if (s.segment_file.empty() && !s.next) {
    // Nothing runs and nothing is forwarded: every output must simply be an input.
    for (const auto& out : s.outputs) {
      bool found = false;
      for (const auto& in : s.inputs) found |= in.name == out.name;
      if (!found) {
        return InvalidArgument(where + ": output '" + out.name +
                               "' is neither an input nor made by a segment or a next hop");
      }
    }
  }
  return s;
}

Result<StageSpec> ReadStage(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseStage(text, path);
}

Result<StageSpec> ParseStage(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": not valid JSON: " + e.what());
  }
  return StageFromJson(j, path);
}

}  // namespace seam::pipeline
