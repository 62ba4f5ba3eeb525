#include "cascade/idx_dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace seam::cascade {
namespace {

struct Idx {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads a whole IDX file of unsigned bytes (zlib reads plain files as they are).
Result<Idx> ReadIdxFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return NotFound(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  int n = 0;
  while ((n = gzread(f, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) return DataLoss(path + ": corrupt gzip stream");
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return InvalidArgument(path + ": not an IDX file (no IDX magic number)");
  }
  if (bytes[2] != 0x08) {
    return InvalidArgument(path + ": IDX data of type 0x" + std::to_string(bytes[2]) +
                           "; only unsigned bytes (0x08) are read");
  }
  Idx idx;
  const size_t dims = bytes[3];
  if (dims == 0 || bytes.size() < 4 + 4 * dims) return InvalidArgument(path + ": truncated header");
  int64_t count = 1;
  for (size_t d = 0; d < dims; ++d) {
    const uint8_t* p = &bytes[4 + 4 * d];
    idx.dims.push_back((int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
    // Dimensions beyond what the file holds are refused before their product can overflow.
    if (idx.dims.back() > static_cast<int64_t>(bytes.size()) ||
        count > static_cast<int64_t>(bytes.size())) {
      return DataLoss(path + ": the header's dimensions describe more data than the file holds");
    }
    count *= idx.dims.back();
  }
  const size_t header = 4 + 4 * dims;
  if (bytes.size() - header != static_cast<size_t>(count)) {
    return DataLoss(path + ": the header says " + std::to_string(count) +
                    " bytes of data, the file has " + std::to_string(bytes.size() - header));
  }
  idx.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return idx;
}

}  // namespace

Tensor LabelledImages::Image(size_t i) const {
  Tensor t = Tensor::Zeros(DType::kFloat32, {1, 1, rows, cols});
  float* out = t.data_as<float>();
  const uint8_t* in = &pixels[i * static_cast<size_t>(rows * cols)];
  for (int64_t k = 0; k < rows * cols; ++k) out[k] = static_cast<float>(in[k]) / 255.0f;
  return t;
}

Result<LabelledImages> ReadIdx(const std::string& images_path, const std::string& labels_path) {
  SEAM_ASSIGN_OR_RETURN(Idx images, ReadIdxFile(images_path));
  SEAM_ASSIGN_OR_RETURN(Idx labels, ReadIdxFile(labels_path));
  if (images.dims.size() != 3) {
    return InvalidArgument(images_path + ": images are [count, rows, cols]; this has " +
                           std::to_string(images.dims.size()) + " dimension(s)");
  }
  if (labels.dims.size() != 1) {
    return InvalidArgument(labels_path + ": labels are [count]; this has " +
                           std::to_string(labels.dims.size()) +
                           " dimensions (is it an images file?)");
  }
  if (images.dims[0] != labels.dims[0]) {
    return InvalidArgument(images_path + " holds " + std::to_string(images.dims[0]) +
                           " images but " + labels_path + " " + std::to_string(labels.dims[0]) +
                           " labels");
  }
  LabelledImages set;
  set.rows = images.dims[1];
  set.cols = images.dims[2];
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

Result<LabelledImages> ReadFashionMnist(const std::string& dir, const std::string& split) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test" || split == "t10k") {
    prefix = "t10k";
  } else {
    return InvalidArgument("unknown split '" + split + "' (train or test)");
  }
  auto set = ReadIdx(dir + "/" + prefix + "-images-idx3-ubyte.gz",
                     dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  if (!set.ok() && set.status().code() == StatusCode::kNotFound && dir == kFashionMnistDir) {
    return NotFound(set.status().message() +
                    " (install Debian's dataset-fashion-mnist: ./scripts/setup.sh does)");
  }
  return set;
}

LabelledImages Slice(const LabelledImages& set, size_t begin, size_t end) {
  end = std::min(end, set.size());
  begin = std::min(begin, end);
  LabelledImages out;
  out.rows = set.rows;
  out.cols = set.cols;
  const size_t px = static_cast<size_t>(set.rows * set.cols);
  out.pixels.assign(set.pixels.begin() + static_cast<std::ptrdiff_t>(begin * px),
                    set.pixels.begin() + static_cast<std::ptrdiff_t>(end * px));
  out.labels.assign(set.labels.begin() + static_cast<std::ptrdiff_t>(begin),
                    set.labels.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

}  // namespace seam::cascade
