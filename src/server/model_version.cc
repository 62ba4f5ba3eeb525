#include "server/model_version.h"

#include <filesystem>
#include <system_error>

#include "common/file_util.h"

namespace seam::server {

ModelVersion::~ModelVersion() = default;

Result<std::shared_ptr<const ModelVersion>> ModelVersion::Load(const VersionSource& source,
                                                               const ModelConfig& config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source.model_path, ec)) {
    return NotFound(source.model_path + ": no such file (a version directory holds " +
                    VersionFileName(config.platform) + ")");
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
  if (config.platform == kStagePlatform) {
    SEAM_ASSIGN_OR_RETURN(pipeline::StageSpec spec, pipeline::ReadStage(source.model_path));
    const std::string directory = std::filesystem::path(source.model_path).parent_path().string();
    SEAM_ASSIGN_OR_RETURN(version->stage_, pipeline::StageRunner::Open(spec, directory));
    std::vector<runtime::IoSpec> inputs, outputs;
    for (const auto& t : spec.inputs) inputs.push_back({t.name, t.dtype, t.shape});
    for (const auto& t : spec.outputs) outputs.push_back({t.name, t.dtype, t.shape});
    SEAM_ASSIGN_OR_RETURN(version->metadata_,
                          ResolveMetadata(config, source.config_path, inputs, outputs));
    return std::shared_ptr<const ModelVersion>(std::move(version));
  }
  runtime::SessionOptions options;
  options.intra_op_threads = config.intra_op_threads;
  for (int i = 0; i < config.instance_count; ++i) {
    SEAM_ASSIGN_OR_RETURN(auto session, runtime::Session::Open(source.model_path, options));
    auto instance = std::make_unique<Instance>();
    instance->session = std::move(session);
    version->instances_.push_back(std::move(instance));
  }
  const runtime::Session& first = *version->instances_.front()->session;
  SEAM_ASSIGN_OR_RETURN(version->metadata_, ResolveMetadata(config, source.config_path,
                                                            first.inputs(), first.outputs()));
  return std::shared_ptr<const ModelVersion>(std::move(version));
}

Result<TensorMap> ModelVersion::Run(const TensorMap& inputs, pipeline::RequestTrace* trace,
                                    double decode_ms) const {
  if (stage_) return stage_->Run(inputs, trace, decode_ms);
  // Least busy instance, scanning from a rotating start so that ties spread round-robin. Two
  // callers may pick the same instance at once; ORT sessions allow concurrent runs, so that only
  // costs a little balance.
  const size_t n = instances_.size();
  const size_t start = next_.fetch_add(1, std::memory_order_relaxed) % n;
  const Instance* chosen = instances_[start].get();
  for (size_t k = 1; k < n; ++k) {
    const Instance* candidate = instances_[(start + k) % n].get();
    if (candidate->in_flight.load(std::memory_order_relaxed) <
        chosen->in_flight.load(std::memory_order_relaxed)) {
      chosen = candidate;
    }
  }
  chosen->in_flight.fetch_add(1, std::memory_order_relaxed);
  Result<TensorMap> outputs = chosen->session->Run(inputs);
  chosen->in_flight.fetch_sub(1, std::memory_order_relaxed);
  return outputs;
}

}  // namespace seam::server
