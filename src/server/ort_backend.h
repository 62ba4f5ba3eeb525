// The ONNX Runtime backend (platform "onnxruntime_onnx"): config.instance_count sessions (CPU
// provider) over REPO/MODEL/VERSION/model.onnx; each run goes to the least busy one.
#pragma once

#include <memory>
#include <string>

#include "server/backend.h"

namespace seam::server {

Result<std::unique_ptr<Backend>> OpenOrtBackend(const VersionFile& file,
                                                const repository::ModelConfig& config);

}  // namespace seam::server
