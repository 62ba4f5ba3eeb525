#include "common/npy.h"

#include <cstring>
#include <regex>

#include "common/file_util.h"

namespace seam {
namespace {

struct NpyType {
  const char* descr;
  DType dtype;
};
constexpr NpyType kTypes[] = {
    {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<f2", DType::kFloat16},
    {"|i1", DType::kInt8},    {"<i2", DType::kInt16},   {"<i4", DType::kInt32},
    {"<i8", DType::kInt64},   {"|u1", DType::kUInt8},   {"<u2", DType::kUInt16},
    {"<u4", DType::kUInt32},  {"<u8", DType::kUInt64},  {"|b1", DType::kBool},
};

}  // namespace

Result<Tensor> ParseNpy(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    return InvalidArgument(where + ": not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return InvalidArgument(where + ": truncated header");
    for (int i = 3; i >= 0; --i)
      header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    return InvalidArgument(where + ": unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset) return InvalidArgument(where + ": truncated header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr':\s*'([^']*)')"))) {
    return InvalidArgument(where + ": header has no 'descr'");
  }
  const std::string descr = m[1];
  std::optional<DType> dtype;
  for (const auto& t : kTypes) {
    if (descr == t.descr) dtype = t.dtype;
  }
  if (!dtype) {
    return InvalidArgument(where + ": dtype '" + descr +
                           "' is not supported (little-endian numbers and bool only)");
  }
  if (std::regex_search(header, std::regex(R"('fortran_order':\s*True)"))) {
    return InvalidArgument(where + ": fortran_order arrays are not supported (use C order)");
  }
  if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))"))) {
    return InvalidArgument(where + ": header has no 'shape'");
  }
  Tensor tensor;
  tensor.dtype = *dtype;
  const std::string dims = m[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    tensor.shape.push_back(std::stoll(it->str()));
  }
  auto count = CheckedElementCount(tensor.shape);
  auto size = count ? CheckedMul(*count, static_cast<int64_t>(DTypeSize(*dtype))) : std::nullopt;
  const size_t data_offset = offset + header_len;
  if (!size || static_cast<size_t>(*size) != bytes.size() - data_offset) {
    return InvalidArgument(where + ": the header's shape needs " +
                           (size ? std::to_string(*size) : std::string("too many")) +
                           " bytes of data, the file has " +
                           std::to_string(bytes.size() - data_offset));
  }
  tensor.data.resize(*size);
  if (*size) std::memcpy(tensor.data.data(), bytes.data() + data_offset, *size);
  return tensor;
}

Result<Tensor> ReadNpy(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseNpy(bytes, path);
}

std::string SerializeNpy(const Tensor& tensor) {
  const char* descr = "<f4";
  for (const auto& t : kTypes) {
    if (t.dtype == tensor.dtype) descr = t.descr;
  }
  std::string shape;
  for (int64_t d : tensor.shape) shape += std::to_string(d) + ",";
  if (tensor.shape.size() > 1) shape.pop_back();
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes; end with a newline.
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(reinterpret_cast<const char*>(tensor.data.data()), tensor.data.size());
  return out;
}

}  // namespace seam
