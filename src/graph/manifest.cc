#include "graph/manifest.h"

#include <filesystem>

#include "common/file_util.h"

namespace seam::graph {
namespace {

nlohmann::json TensorToJson(const SegmentTensor& t, bool is_input) {
  nlohmann::json j = {{"name", t.name}, {"datatype", t.dtype}, {"shape", t.shape}};
  if (is_input) {
    j["from"] = t.from;
  } else {
    j["to"] = t.to;
  }
  return j;
}

}  // namespace

nlohmann::json ManifestToJson(const Manifest& manifest) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : manifest.segments) {
    nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
    for (const auto& t : s.inputs) inputs.push_back(TensorToJson(t, true));
    for (const auto& t : s.outputs) outputs.push_back(TensorToJson(t, false));
    nlohmann::json j = {{"index", s.index},           {"file", s.file},
                        {"sha256", s.sha256},         {"num_nodes", s.num_nodes},
                        {"first_node", s.first_node}, {"last_node", s.last_node},
                        {"inputs", inputs},           {"outputs", outputs}};
    if (!s.external_data_file.empty()) {
      j["external_data_file"] = s.external_data_file;
      j["external_data_sha256"] = s.external_data_sha256;
    }
    segments.push_back(std::move(j));
  }
  return {{"schema", Manifest::kSchema},
          {"source_model", manifest.source_model},
          {"source_sha256", manifest.source_sha256},
          {"boundaries", manifest.boundaries},
          {"model_inputs", manifest.model_inputs},
          {"model_outputs", manifest.model_outputs},
          {"segments", segments}};
}

Result<Manifest> ManifestFromJson(const nlohmann::json& json, const std::string& where) {
  try {
    if (json.value("schema", "") != Manifest::kSchema) {
      return InvalidArgument(where + ": not a seam split manifest (schema is not '" +
                             std::string(Manifest::kSchema) + "')");
    }
    Manifest m;
    m.source_model = json.at("source_model").get<std::string>();
    m.source_sha256 = json.at("source_sha256").get<std::string>();
    m.boundaries = json.at("boundaries").get<std::vector<std::vector<std::string>>>();
    m.model_inputs = json.at("model_inputs").get<std::vector<std::string>>();
    m.model_outputs = json.at("model_outputs").get<std::vector<std::string>>();
    for (const auto& js : json.at("segments")) {
      SegmentInfo s;
      s.index = js.at("index").get<int>();
      s.file = js.at("file").get<std::string>();
      s.sha256 = js.at("sha256").get<std::string>();
      s.external_data_file = js.value("external_data_file", "");
      s.external_data_sha256 = js.value("external_data_sha256", "");
      s.num_nodes = js.at("num_nodes").get<int>();
      s.first_node = js.at("first_node").get<std::string>();
      s.last_node = js.at("last_node").get<std::string>();
      for (const auto& jt : js.at("inputs")) {
        s.inputs.push_back({jt.at("name"), jt.at("datatype"), jt.at("shape"), jt.at("from"), {}});
      }
      for (const auto& jt : js.at("outputs")) {
        s.outputs.push_back({jt.at("name"), jt.at("datatype"), jt.at("shape"), "", jt.at("to")});
      }
      if (s.index != static_cast<int>(m.segments.size())) {
        return InvalidArgument(where + ": segment " + std::to_string(m.segments.size()) +
                               " has index " + std::to_string(s.index));
      }
      m.segments.push_back(std::move(s));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(where + ": malformed manifest: " + e.what());
  }
}

Result<Manifest> ReadManifest(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgument(path + ": not valid JSON");
  return ManifestFromJson(json, path);
}

}  // namespace seam::graph
