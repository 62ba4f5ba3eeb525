// Labelled image sets in the IDX format (MNIST, Fashion-MNIST: Debian's dataset-fashion-mnist
// installs them under /usr/share/datasets/fashion-mnist), gzip-compressed or not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"

namespace seam::cascade {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

struct LabelledImages {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major
  std::vector<uint8_t> labels;  // count
  size_t size() const { return labels.size(); }
  // Example i as the models take it: FP32 [1, 1, rows, cols], pixels / 255.
  Tensor Image(size_t i) const;
};

// Reads an images file and its labels file. Errors name the file and what is wrong (not IDX, a
// truncated body, counts that differ between the two files).
Result<LabelledImages> ReadIdx(const std::string& images_path, const std::string& labels_path);

// `split` "train" or "test" of the Fashion-MNIST files in `dir` (train-*, t10k-*).
Result<LabelledImages> ReadFashionMnist(const std::string& dir, const std::string& split);

// The examples [begin, end) of `set` (clamped).
LabelledImages Slice(const LabelledImages& set, size_t begin, size_t end);

}  // namespace seam::cascade
