#include "runtime/segment_chain.h"

#include <cstring>
#include <filesystem>
#include <random>

#include "common/file_util.h"

namespace seam::runtime {
namespace fs = std::filesystem;

Result<SegmentChain> SegmentChain::Open(const std::string& manifest_path,
                                        const SessionOptions& options) {
  SegmentChain chain;
  SEAM_ASSIGN_OR_RETURN(chain.manifest_, graph::ReadManifest(manifest_path));
  const fs::path directory = fs::path(manifest_path).parent_path();
  for (const auto& info : chain.manifest_.segments) {
    const std::string path = (directory / info.file).string();
    SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    if (Sha256Hex(bytes) != info.sha256) {
      return DataLoss(path +
                      ": sha256 does not match the manifest; the segment was changed or "
                      "corrupted after the split");
    }
    if (!info.external_data_file.empty()) {
      const std::string data_path = (directory / info.external_data_file).string();
      SEAM_ASSIGN_OR_RETURN(std::string data, ReadFile(data_path));
      if (Sha256Hex(data) != info.external_data_sha256) {
        return DataLoss(data_path +
                        ": sha256 does not match the manifest; the weights were "
                        "changed or corrupted after the split");
      }
    }
    SEAM_ASSIGN_OR_RETURN(auto session, Session::Open(path, options));
    chain.sessions_.push_back(std::move(session));
  }
  return chain;
}

Result<TensorMap> SegmentChain::Run(const TensorMap& model_inputs) const {
  TensorMap available = model_inputs;
  TensorMap result;
  for (size_t k = 0; k < sessions_.size(); ++k) {
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, sessions_[k]->Run(available));
    for (const auto& out : manifest_.segments[k].outputs) {
      auto it = outputs.find(out.name);
      if (it == outputs.end()) {
        return Internal("segment " + std::to_string(k) + " did not produce '" + out.name + "'");
      }
      for (const auto& to : out.to) {
        if (to == "model_output") result[out.name] = it->second;
      }
      available[out.name] = std::move(it->second);
    }
  }
  return result;
}

Tensor RandomTensor(const IoSpec& spec, uint64_t seed, int64_t dynamic_dim) {
  std::vector<int64_t> shape = spec.shape;
  for (auto& d : shape) {
    if (d < 0) d = dynamic_dim;
  }
  Tensor t = Tensor::Zeros(spec.dtype, shape);
  std::mt19937_64 rng(seed);
  const int64_t n = ElementCount(shape);
  auto fill = [&](auto* p, auto make) {
    for (int64_t i = 0; i < n; ++i) p[i] = make();
  };
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 7);
  switch (spec.dtype) {
    case DType::kFloat32:
      fill(t.data_as<float>(), [&] { return static_cast<float>(real(rng)); });
      break;
    case DType::kFloat64:
      fill(t.data_as<double>(), [&] { return real(rng); });
      break;
    case DType::kInt64:
      fill(t.data_as<int64_t>(), [&] { return static_cast<int64_t>(small(rng)); });
      break;
    case DType::kInt32:
      fill(t.data_as<int32_t>(), [&] { return static_cast<int32_t>(small(rng)); });
      break;
    case DType::kBool:
      fill(t.data_as<uint8_t>(), [&] { return static_cast<uint8_t>(small(rng) & 1); });
      break;
    default:  // other integer and 16-bit float types: small non-negative bytes are valid values
      for (auto& b : t.data) b = static_cast<std::byte>(small(rng) & 3);
  }
  return t;
}

}  // namespace seam::runtime
