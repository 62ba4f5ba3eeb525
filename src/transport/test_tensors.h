// Tensors for the transport tests: deterministic (seeded) random data of the kinds links carry.
#pragma once

#include <cstring>
#include <random>
#include <vector>

#include "common/tensor.h"

namespace seam::transport::testing {

inline Tensor FloatTensor(std::vector<int64_t> shape, const std::vector<float>& values) {
  Tensor t = Tensor::Zeros(DType::kFloat32, std::move(shape));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

inline std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.data.size() / 4);
}

// Normal(0, stddev) values.
inline Tensor RandomTensor(std::vector<int64_t> shape, uint32_t seed, float stddev = 1.0f) {
  Tensor t = Tensor::Zeros(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  float* p = t.data_as<float>();
  for (size_t i = 0; i < t.data.size() / 4; ++i) p[i] = normal(rng);
  return t;
}

// ReLU output: about half exact zeros, the rest half-normal.
inline Tensor ReluTensor(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = RandomTensor(std::move(shape), seed);
  float* p = t.data_as<float>();
  for (size_t i = 0; i < t.data.size() / 4; ++i) p[i] = p[i] > 0 ? p[i] : 0.0f;
  return t;
}

}  // namespace seam::transport::testing
