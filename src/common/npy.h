// NumPy's .npy format (version 1.0/2.0), the way users hand tensors to `seam run`: read any
// little-endian C-order array of a dtype seam carries, write one back.
#pragma once

#include <string>

#include "common/status.h"
#include "common/tensor.h"

namespace seam {

// Errors name the file and what is wrong ("x.npy: fortran_order arrays are not supported").
Result<Tensor> ReadNpy(const std::string& path);
Result<Tensor> ParseNpy(const std::string& bytes, const std::string& where);
std::string SerializeNpy(const Tensor& tensor);

}  // namespace seam
