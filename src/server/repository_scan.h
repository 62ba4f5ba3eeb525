// Reading the repository directory, Triton's layout:
//
//   REPO/MODEL/config.json           optional; docs/server.md has the schema
//   REPO/MODEL/VERSION/model.onnx    VERSION: a positive decimal integer without leading zeros
//
// Every directory directly under REPO whose name does not start with '.' is a model. The scan
// reads config.json (small) and stat()s the model files; it never reads a model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/repository_plan.h"

namespace seam::server {

// Scans every model, or only `only_model` (absent from the result if its directory is missing).
// Fails only when REPO itself cannot be read; a model's problems (a bad config.json) are recorded
// in its ScannedModel.
Result<RepositoryScan> ScanRepository(const std::string& root,
                                      const std::optional<std::string>& only_model = std::nullopt);

// The model names in REPO (directory names), without reading anything inside them; sorted.
std::vector<std::string> ListModelNames(const std::string& root);

// REPO/MODEL/VERSION/model.onnx
std::string ModelFilePath(const ScannedModel& model, int64_t version);

}  // namespace seam::server
