// How far a decoded tensor is from the original: the figures the planner's accuracy budget is
// written in, measured on sample activations for each codec.
//
// Pure; thread-safe.
#pragma once

#include "common/tensor.h"

namespace seam::transport {

struct CodecError {
  double max_abs = 0;  // max_i |original_i - decoded_i|, in the tensor's units
  double rel_l2 = 0;   // ||original - decoded||_2 / ||original||_2 (0/0 = 0, x/0 = inf)
};

// Compares FP32 tensors element by element, in double. Elements that are the same non-finite
// value on both sides (inf and inf, NaN and NaN) count as equal; any other non-finite difference
// makes both figures inf. Tensors of another dtype count as exact when bitwise equal. Different
// dtypes, shapes or sizes give {inf, inf}: the decoded tensor is not an approximation at all.
CodecError MeasureError(const Tensor& original, const Tensor& decoded);

}  // namespace seam::transport
