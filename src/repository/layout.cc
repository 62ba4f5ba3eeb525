#include "repository/layout.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "repository/model_config.h"

namespace seam::repository {

const char* VersionFileName(const std::string& platform) {
  return platform == kStagePlatform ? "stage.json" : "model.onnx";
}

std::optional<int64_t> ParseVersionDir(const std::string& name) {
  if (name.empty() || name.size() > 18 || name[0] == '0') return std::nullopt;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return std::stoll(name);
}

std::vector<int64_t> ListVersions(const std::string& model_dir) {
  namespace fs = std::filesystem;
  std::vector<int64_t> versions;
  std::error_code ec;
  for (fs::directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    if (auto v = ParseVersionDir(it->path().filename().string())) versions.push_back(*v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace seam::repository
