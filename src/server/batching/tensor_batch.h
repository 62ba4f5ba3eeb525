// Merging requests' tensors into one batch along dim 0 and cutting a batch's outputs back apart.
//
// A batching model (max_batch_size > 0) takes and returns tensors whose dim 0 is the batch: a
// request of b rows has every input shaped [b, ...]. Requests merge when their shape keys are
// equal: same input names, dtypes and dims after the first. Merging and splitting copy bytes
// exactly (one memcpy per request and tensor), so a batched run is bitwise the same data as the
// requests run one by one.
//
// All functions are pure and thread-safe; they never keep references to their arguments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"

namespace seam::batching {

// The rows of a request: dim 0, equal across all its inputs. INVALID_ARGUMENT naming the input
// for no inputs, a scalar input, or inputs that disagree on dim 0.
Result<int64_t> BatchSizeOf(const TensorMap& inputs);

// A string equal for two requests exactly when they can be merged: every input's name, dtype and
// dims after dim 0, unambiguously encoded. Its format is not stable; compare it, do not parse it.
std::string ShapeKey(const TensorMap& inputs);

// Concatenates the requests' inputs along dim 0, in the given order. The requests must have equal
// shape keys and byte sizes that match their shapes; INVALID_ARGUMENT names the request and the
// input otherwise. The pointers must be non-null and are only read during the call.
Result<TensorMap> MergeBatch(std::span<const TensorMap* const> requests);

// Checks that every output of a batched run carries the batch: rank >= 1, dim 0 == total_rows and
// a byte size matching its shape. FAILED_PRECONDITION names the output otherwise (the model does
// not batch along dim 0, so it must not be configured with max_batch_size > 0).
Status CheckBatchedOutputs(const TensorMap& outputs, int64_t total_rows);

// Cuts a batched run's outputs into one TensorMap per request: request i gets rows
// [sum(batch_sizes[0, i)), + batch_sizes[i]) of every output. Errors as CheckBatchedOutputs with
// total_rows = sum(batch_sizes); INVALID_ARGUMENT for a negative batch size.
Result<std::vector<TensorMap>> SplitBatch(const TensorMap& outputs,
                                          std::span<const int64_t> batch_sizes);

}  // namespace seam::batching
