// Whole-file reading and writing with errors that name the path and the reason.
#pragma once

#include <string>

#include "common/status.h"

namespace seam {

Result<std::string> ReadFile(const std::string& path);
// Writes through a temporary file and a rename, so readers never see a half-written file.
Status WriteFileAtomic(const std::string& path, const std::string& contents);
// Hex-encoded SHA-256 of the bytes (for integrity checks of models and segments).
std::string Sha256Hex(const std::string& bytes);

}  // namespace seam
