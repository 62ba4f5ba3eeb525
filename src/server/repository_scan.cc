#include "server/repository_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "common/file_util.h"
#include "repository/layout.h"
#include "repository/model_config_pbtxt.h"

namespace seam::server {
namespace {
namespace fs = std::filesystem;

// Changes whenever the file is rewritten in place or replaced by a rename; "" if missing.
std::string FileFingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

// The version directory's fingerprint: its main file's, then every other file's in it (a stage's
// segment, its signature, external data), so that a file changed beside the main one reloads the
// version (and is verified again). "" when the main file is missing.
std::string VersionDirFingerprint(const fs::path& dir, const std::string& main_file) {
  std::string fingerprint = FileFingerprint((dir / main_file).string());
  if (fingerprint.empty()) return "";
  // Bounded: a version directory holds a few files; a huge tree is not walked on every poll.
  constexpr int kMaxFiles = 256;
  std::vector<std::string> others;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end;
       !ec && it != end && static_cast<int>(others.size()) < kMaxFiles; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string relative = fs::relative(it->path(), dir, type_ec).string();
    if (relative == main_file) continue;
    others.push_back(relative + "=" + FileFingerprint(it->path().string()));
  }
  std::sort(others.begin(), others.end());
  for (const auto& other : others) fingerprint += ";" + other;
  return fingerprint;
}

ScannedModel ScanModel(const fs::path& dir) {
  ScannedModel model;
  const std::string name = dir.filename().string();
  model.dir = dir.string();
  model.config_path = (dir / repository::kConfigFile).string();
  const std::string pbtxt_path = (dir / repository::kPbtxtConfigFile).string();
  std::error_code ec;
  const bool json = fs::exists(model.config_path, ec);
  const bool pbtxt = fs::exists(pbtxt_path, ec);
  if (json && pbtxt) {
    // Which one would win is not obvious to whoever edits one of them: neither does.
    model.config_status = InvalidArgument(
        model.dir + ": both config.json and config.pbtxt; keep one (they say the same things)");
    model.config_fingerprint = "both";
  } else if (json || pbtxt) {
    if (pbtxt) model.config_path = pbtxt_path;
    Result<std::string> text = ReadFile(model.config_path);
    if (!text.ok()) {
      model.config_status = text.status();
    } else {
      model.config_fingerprint = Sha256Hex(*text);
      Result<repository::ModelConfig> config =
          pbtxt ? repository::ParseModelConfigPbtxt(*text, model.config_path, name)
                : repository::ParseModelConfig(*text, model.config_path, name);
      if (config.ok()) {
        model.config = std::move(config).value();
      } else {
        model.config_status = config.status();
      }
    }
  } else {
    model.config = repository::DefaultModelConfig(name);
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    if (auto version = repository::ParseVersionDir(it->path().filename().string())) {
      model.versions[*version] = VersionDirFingerprint(
          it->path(), repository::VersionFileName(model.config ? model.config->platform
                                                               : repository::kOnnxPlatform));
    }
  }
  return model;
}

}  // namespace

Result<RepositoryScan> ScanRepository(const std::string& root,
                                      const std::optional<std::string>& only_model) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return NotFound("model repository '" + root + "' is not a directory");
  }
  RepositoryScan scan;
  if (only_model) {
    const fs::path dir = fs::path(root) / *only_model;
    if (only_model->empty() || (*only_model)[0] == '.' ||
        only_model->find('/') != std::string::npos || !fs::is_directory(dir, ec)) {
      return scan;
    }
    scan.models.emplace(*only_model, ScanModel(dir));
    return scan;
  }
  fs::directory_iterator it(root, ec);
  if (ec) return Unavailable("cannot read model repository '" + root + "': " + ec.message());
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.empty() || name[0] == '.' || !it->is_directory(type_ec)) continue;
    scan.models.emplace(name, ScanModel(it->path()));
  }
  if (ec) return Unavailable("cannot read model repository '" + root + "': " + ec.message());
  return scan;
}

std::vector<std::string> ListModelNames(const std::string& root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!name.empty() && name[0] != '.' && it->is_directory(type_ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ModelFilePath(const ScannedModel& model, int64_t version) {
  return (fs::path(model.dir) / std::to_string(version) /
          repository::VersionFileName(model.config ? model.config->platform
                                                   : repository::kOnnxPlatform))
      .string();
}

}  // namespace seam::server
