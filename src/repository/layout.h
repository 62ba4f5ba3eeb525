// The model repository's layout on disk, Triton's: REPO/MODEL/config.json and
// REPO/MODEL/VERSION/<version file>, VERSION a positive decimal number without leading zeros.
// The one place that names these files and reads version directories; the server scans with it,
// `seam deploy` writes with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seam::repository {

inline constexpr char kConfigFile[] = "config.json";

// The file a version directory is recognised, fingerprinted and hash-checked by: model.onnx for
// ONNX Runtime models, stage.json for a stage of a deployed plan (platform seam_stage).
const char* VersionFileName(const std::string& platform);

// The version a directory name stands for; nullopt for anything else ("01", "1a", "").
std::optional<int64_t> ParseVersionDir(const std::string& name);

// The version directories in `model_dir`, ascending; empty if there are none or it is missing.
std::vector<int64_t> ListVersions(const std::string& model_dir);

}  // namespace seam::repository
