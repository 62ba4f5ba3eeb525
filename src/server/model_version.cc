#include "server/model_version.h"

#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "repository/layout.h"

namespace seam::server {

ModelVersion::~ModelVersion() = default;

Result<std::shared_ptr<const ModelVersion>> ModelVersion::Load(
    const VersionSource& source, const repository::ModelConfig& config, const ModelKeys& keys) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source.model_path, ec)) {
    return NotFound(source.model_path + ": no such file (a version directory holds " +
                    repository::VersionFileName(config.platform) + ")");
  }
  std::string expected;
  if (auto it = config.version_sha256.find(source.version); it != config.version_sha256.end()) {
    expected = it->second;
  }
  VersionFile file{source.model_path, ""};
  std::string stored_sha256;
  // A stage's own file (stage.json) holds no weights and is never sealed; its segments are, and
  // its backend opens them with the keys.
  static const ModelKeys kNoKeys;
  const ModelKeys& file_keys = config.platform == repository::kStagePlatform ? kNoKeys : keys;
  SEAM_ASSIGN_OR_RETURN(
      file.contents,
      ReadModelBytes(source.model_path, expected, source.config_path, file_keys, &stored_sha256));
  std::shared_ptr<ModelVersion> version(new ModelVersion());
  version->loaded_sha256_ = std::move(stored_sha256);
  version->source_ = source;
  version->config_ = config;
  auto backend = OpenBackend(file, config);
  Wipe(file.contents);
  SEAM_ASSIGN_OR_RETURN(version->backend_, std::move(backend));
  SEAM_ASSIGN_OR_RETURN(version->metadata_,
                        ResolveMetadata(config, source.config_path, version->backend_->inputs(),
                                        version->backend_->outputs()));
  return std::shared_ptr<const ModelVersion>(std::move(version));
}

Status ModelVersion::Verify() const {
  std::vector<Backend::CheckedFile> files = backend_->CheckedFiles();
  files.insert(files.begin(), {source_.model_path, loaded_sha256_});
  for (const auto& file : files) {
    Result<std::string> bytes = ReadFile(file.path);
    const std::string& where = file.path;  // the repository's report names model and version
    if (!bytes.ok()) {
      return DataLoss(where + " cannot be read any more (" + bytes.status().message() +
                      "); serving the copy read when it was loaded");
    }
    if (const std::string now = Sha256Hex(*bytes); now != file.sha256) {
      return DataLoss(where + " changed since it was loaded (sha256 " + now + ", loaded " +
                      file.sha256 + "); serving the copy read when it was loaded");
    }
  }
  return Status::Ok();
}

}  // namespace seam::server
