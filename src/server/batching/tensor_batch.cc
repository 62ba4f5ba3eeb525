#include "server/batching/tensor_batch.h"

#include <algorithm>
#include <optional>

namespace seam::batching {
namespace {

// "FP32 [2,3,4]" for messages.
std::string Describe(const Tensor& t) {
  return std::string(DTypeName(t.dtype)) + " " + ShapeToString(t.shape);
}

// Bytes of one row (dims after the first), or nullopt when the shape overflows.
std::optional<size_t> RowBytes(const Tensor& t) {
  const std::vector<int64_t> row(t.shape.begin() + 1, t.shape.end());
  const std::optional<int64_t> elements = CheckedElementCount(row);
  if (!elements) return std::nullopt;
  const std::optional<int64_t> bytes =
      CheckedMul(*elements, static_cast<int64_t>(DTypeSize(t.dtype)));
  if (!bytes) return std::nullopt;
  return static_cast<size_t>(*bytes);
}

// The byte size a tensor's shape calls for equals its data's size.
bool SizeMatchesShape(const Tensor& t) {
  if (t.shape.empty() || t.shape[0] < 0) return false;
  const std::optional<size_t> row = RowBytes(t);
  if (!row) return false;
  const std::optional<int64_t> total = CheckedMul(t.shape[0], static_cast<int64_t>(*row));
  return total && static_cast<size_t>(*total) == t.data.size();
}

bool SameRowShape(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.shape.size() == b.shape.size() &&
         std::equal(a.shape.begin() + 1, a.shape.end(), b.shape.begin() + 1);
}

}  // namespace

Result<int64_t> BatchSizeOf(const TensorMap& inputs) {
  if (inputs.empty()) return InvalidArgument("request has no inputs");
  const std::string* first_name = nullptr;
  int64_t rows = 0;
  for (const auto& [name, t] : inputs) {
    if (t.shape.empty()) {
      return InvalidArgument("input '" + name +
                             "': a batched model needs a batch dimension, got a scalar");
    }
    if (first_name == nullptr) {
      first_name = &name;
      rows = t.shape[0];
    } else if (t.shape[0] != rows) {
      return InvalidArgument("input '" + name + "': batch size (dim 0) " +
                             std::to_string(t.shape[0]) + " differs from input '" + *first_name +
                             "' (" + std::to_string(rows) + ")");
    }
  }
  return rows;
}

std::string ShapeKey(const TensorMap& inputs) {
  std::string key;
  for (const auto& [name, t] : inputs) {
    // Length-prefixed so that no name can imitate the separators.
    key += std::to_string(name.size());
    key += ':';
    key += name;
    key += DTypeName(t.dtype);
    for (size_t d = 1; d < t.shape.size(); ++d) {
      key += ',';
      key += std::to_string(t.shape[d]);
    }
    key += t.shape.empty() ? "|s;" : ";";  // a scalar differs from a rank-1 tensor
  }
  return key;
}

Result<TensorMap> MergeBatch(std::span<const TensorMap* const> requests) {
  if (requests.empty()) return InvalidArgument("no requests to merge");
  const TensorMap& first = *requests[0];
  for (size_t r = 0; r < requests.size(); ++r) {
    const TensorMap& request = *requests[r];
    const std::string where = "request " + std::to_string(r) + ": ";
    if (request.size() != first.size()) {
      return InvalidArgument(where + "has " + std::to_string(request.size()) +
                             " inputs, request 0 has " + std::to_string(first.size()));
    }
    for (const auto& [name, t] : request) {
      const auto it = first.find(name);
      if (it == first.end()) {
        return InvalidArgument(where + "input '" + name + "' is not an input of request 0");
      }
      if (!SizeMatchesShape(t)) {
        return InvalidArgument(where + "input '" + name + "': " + std::to_string(t.data.size()) +
                               " bytes do not match " + Describe(t));
      }
      if (!SameRowShape(t, it->second)) {
        return InvalidArgument(where + "input '" + name + "': " + Describe(t) +
                               " cannot merge with request 0's " + Describe(it->second) +
                               " (only dim 0 may differ)");
      }
    }
  }

  TensorMap merged;
  for (const auto& [name, head] : first) {
    int64_t rows = 0;
    size_t bytes = 0;
    for (const TensorMap* request : requests) {
      const Tensor& t = request->at(name);
      rows += t.shape[0];
      bytes += t.data.size();
    }
    Tensor out;
    out.dtype = head.dtype;
    out.shape = head.shape;
    out.shape[0] = rows;
    // reserve + insert copies each piece once, without first zero-filling the whole buffer.
    out.data.reserve(bytes);
    for (const TensorMap* request : requests) {
      const std::vector<std::byte>& piece = request->at(name).data;
      out.data.insert(out.data.end(), piece.begin(), piece.end());
    }
    merged.emplace(name, std::move(out));
  }
  return merged;
}

Status CheckBatchedOutputs(const TensorMap& outputs, int64_t total_rows) {
  for (const auto& [name, t] : outputs) {
    if (t.shape.empty() || t.shape[0] != total_rows) {
      return FailedPrecondition(
          "output '" + name + "': " + Describe(t) + " does not carry the batch of " +
          std::to_string(total_rows) +
          " rows in dim 0; a model batched by seam must return dim 0 = the sum of the "
          "requests' batch sizes (or be configured with max_batch_size 0)");
    }
    if (!SizeMatchesShape(t)) {
      return FailedPrecondition("output '" + name + "': " + std::to_string(t.data.size()) +
                                " bytes do not match " + Describe(t));
    }
  }
  return Status::Ok();
}

Result<std::vector<TensorMap>> SplitBatch(const TensorMap& outputs,
                                          std::span<const int64_t> batch_sizes) {
  int64_t total = 0;
  for (size_t i = 0; i < batch_sizes.size(); ++i) {
    if (batch_sizes[i] < 0) {
      return InvalidArgument("request " + std::to_string(i) + ": negative batch size " +
                             std::to_string(batch_sizes[i]));
    }
    total += batch_sizes[i];
  }
  SEAM_RETURN_IF_ERROR(CheckBatchedOutputs(outputs, total));

  std::vector<TensorMap> parts(batch_sizes.size());
  for (const auto& [name, t] : outputs) {
    const size_t row_bytes = *RowBytes(t);  // SizeMatchesShape checked it does not overflow
    size_t offset = 0;
    for (size_t i = 0; i < batch_sizes.size(); ++i) {
      const size_t bytes = static_cast<size_t>(batch_sizes[i]) * row_bytes;
      Tensor slice;
      slice.dtype = t.dtype;
      slice.shape = t.shape;
      slice.shape[0] = batch_sizes[i];
      slice.data.assign(t.data.begin() + offset, t.data.begin() + offset + bytes);
      offset += bytes;
      parts[i].emplace(name, std::move(slice));
    }
  }
  return parts;
}

}  // namespace seam::batching
