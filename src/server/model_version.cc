#include "server/model_version.h"

#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "repository/layout.h"

namespace seam::server {

ModelVersion::~ModelVersion() = default;

Result<std::shared_ptr<const ModelVersion>> ModelVersion::Load(
    const VersionSource& source, const repository::ModelConfig& config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source.model_path, ec)) {
    return NotFound(source.model_path + ": no such file (a version directory holds " +
                    repository::VersionFileName(config.platform) + ")");
  }
  if (auto it = config.version_sha256.find(source.version); it != config.version_sha256.end()) {
    SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(source.model_path));
    const std::string actual = Sha256Hex(bytes);
    if (actual != it->second) {
      return DataLoss(source.model_path + ": sha256 is " + actual + " but " + source.config_path +
                      " expects " + it->second + "; refusing to load it");
    }
  }
  std::shared_ptr<ModelVersion> version(new ModelVersion());
  version->source_ = source;
  version->config_ = config;
  SEAM_ASSIGN_OR_RETURN(version->backend_, OpenBackend(source.model_path, config));
  SEAM_ASSIGN_OR_RETURN(version->metadata_,
                        ResolveMetadata(config, source.config_path, version->backend_->inputs(),
                                        version->backend_->outputs()));
  return std::shared_ptr<const ModelVersion>(std::move(version));
}

}  // namespace seam::server
