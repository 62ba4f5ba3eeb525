#include "cascade/cascade_file.h"

#include <cmath>
#include <filesystem>

#include "common/file_util.h"

namespace seam::cascade {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The value of `key` in `object` as T; INVALID_ARGUMENT naming `where.key` when it is missing
// (and required) or of the wrong type.
template <typename T>
Status Read(const json& object, const std::string& where, const char* key, T& out, bool required) {
  if (!object.contains(key)) {
    return required ? InvalidArgument("'" + where + key + "' is missing") : Status::Ok();
  }
  try {
    out = object.at(key).get<T>();
  } catch (const json::exception&) {
    return InvalidArgument("'" + where + key + "' has the wrong type (" +
                           object.at(key).type_name() + ")");
  }
  return Status::Ok();
}

Status CheckKeys(const json& object, const std::string& where,
                 std::initializer_list<const char*> known) {
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) return InvalidArgument("unknown field '" + where + key + "'");
  }
  return Status::Ok();
}

Status Parse(const json& j, CascadeFile& c) {
  if (!j.is_object()) return InvalidArgument("a cascade file is a JSON object");
  SEAM_RETURN_IF_ERROR(
      CheckKeys(j, "", {"name", "small", "big", "send", "rule", "deadline_ms", "schema"}));
  SEAM_RETURN_IF_ERROR(Read(j, "", "name", c.name, false));
  for (const char* part : {"small", "big", "rule"}) {
    if (!j.contains(part) || !j.at(part).is_object()) {
      return InvalidArgument("'" + std::string(part) + "' is missing or not an object");
    }
  }
  const json& small = j.at("small");
  SEAM_RETURN_IF_ERROR(CheckKeys(small, "small.", {"model"}));
  SEAM_RETURN_IF_ERROR(Read(small, "small.", "model", c.small_model, true));
  const json& big = j.at("big");
  SEAM_RETURN_IF_ERROR(CheckKeys(big, "big.", {"address", "model", "version", "security"}));
  if (big.contains("security")) {
    SEAM_ASSIGN_OR_RETURN(c.big_security,
                          oip::HopSecurityFromJson(big.at("security"), "'big.security'"));
  }
  SEAM_RETURN_IF_ERROR(Read(big, "big.", "address", c.big_address, true));
  SEAM_RETURN_IF_ERROR(Read(big, "big.", "model", c.big_model, true));
  if (big.contains("version") && !big.at("version").is_number_integer()) {
    return InvalidArgument("'big.version' must be a whole number (0: the newest)");
  }
  SEAM_RETURN_IF_ERROR(Read(big, "big.", "version", c.big_version, false));
  if (c.big_version < 0) return InvalidArgument("'big.version' must be >= 0 (0: the newest)");
  SEAM_RETURN_IF_ERROR(Read(j, "", "send", c.send, false));
  if (c.send.empty()) return InvalidArgument("'send' is empty (\"input\" or an output's name)");
  SEAM_RETURN_IF_ERROR(Read(j, "", "deadline_ms", c.deadline_ms, false));
  if (!(c.deadline_ms > 0) || !(c.deadline_ms <= 86400e3)) {
    return InvalidArgument(
        "'deadline_ms' must be a positive number of milliseconds, at most a day");
  }
  const json& rule = j.at("rule");
  SEAM_RETURN_IF_ERROR(CheckKeys(
      rule, "rule.", {"kind", "output", "threshold", "softmax", "box_threshold", "low_score"}));
  std::string kind;
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "kind", kind, true));
  SEAM_ASSIGN_OR_RETURN(c.rule.kind, ParseRuleKind(kind));
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "output", c.rule.output, true));
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "threshold", c.rule.threshold, true));
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "softmax", c.rule.softmax, false));
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "box_threshold", c.rule.box_threshold, false));
  SEAM_RETURN_IF_ERROR(Read(rule, "rule.", "low_score", c.rule.low_score, false));
  return c.rule.Validate();
}

}  // namespace

Result<CascadeFile> ParseCascade(const json& j, const std::string& path) {
  CascadeFile c;
  c.path = fs::absolute(path).string();
  if (Status s = Parse(j, c); !s.ok()) return s.WithContext(path);
  if (c.name.empty()) c.name = fs::path(path).stem().string();
  if (fs::path(c.small_model).is_relative()) {
    c.small_model = (fs::path(c.path).parent_path() / c.small_model).lexically_normal().string();
  }
  c.big_security = oip::ResolveFiles(c.big_security, fs::path(c.path).parent_path().string());
  return c;
}

Result<CascadeFile> ReadCascadeFile(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": not JSON (" + e.what() + ")");
  }
  return ParseCascade(j, path);
}

json ToJson(const CascadeFile& c, const std::string& directory) {
  std::string small = c.small_model;
  const auto relative = fs::path(small).lexically_relative(fs::absolute(directory));
  if (!relative.empty() && *relative.begin() != "..") small = relative.string();
  json rule = {{"kind", RuleKindName(c.rule.kind)},
               {"output", c.rule.output},
               {"threshold", c.rule.threshold}};
  if (IsDetectorRule(c.rule.kind)) {
    rule["box_threshold"] = c.rule.box_threshold;
    rule["low_score"] = c.rule.low_score;
  } else {
    rule["softmax"] = c.rule.softmax;
  }
  json big = {{"address", c.big_address}, {"model", c.big_model}, {"version", c.big_version}};
  if (!c.big_security.empty()) big["security"] = oip::HopSecurityToJson(c.big_security);
  return {{"name", c.name}, {"small", {{"model", small}}}, {"big", big}, {"send", c.send},
          {"rule", rule},   {"deadline_ms", c.deadline_ms}};
}

}  // namespace seam::cascade
