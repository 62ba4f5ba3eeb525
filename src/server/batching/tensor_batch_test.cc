// MergeBatch / SplitBatch: byte-exact round trips across dtypes and the errors they give.
#include "server/batching/tensor_batch.h"

#include <gtest/gtest.h>

#include <random>

namespace seam::batching {
namespace {

// A tensor of random bytes (any dtype is just bytes to merge and split).
Tensor Random(DType dtype, std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = Tensor::Zeros(dtype, std::move(shape));
  std::mt19937 rng(seed);
  for (std::byte& b : t.data) b = static_cast<std::byte>(rng());
  return t;
}

TensorMap Request(int64_t rows, uint32_t seed) {
  return {{"image", Random(DType::kFloat32, {rows, 3, 4, 5}, seed)},
          {"ids", Random(DType::kInt64, {rows, 7}, seed + 1)},
          {"mask", Random(DType::kBool, {rows}, seed + 2)},
          {"half", Random(DType::kFloat16, {rows, 2, 3}, seed + 3)},
          {"bytes", Random(DType::kUInt8, {rows, 9}, seed + 4)}};
}

std::vector<const TensorMap*> Pointers(const std::vector<TensorMap>& maps) {
  std::vector<const TensorMap*> p;
  for (const TensorMap& m : maps) p.push_back(&m);
  return p;
}

TEST(TensorBatchTest, BatchSizeIsDimZeroOfEveryInput) {
  EXPECT_EQ(*BatchSizeOf(Request(3, 1)), 3);
  EXPECT_EQ(BatchSizeOf({}).status().message(), "request has no inputs");
  EXPECT_EQ(BatchSizeOf({{"s", Tensor::Zeros(DType::kFloat32, {})}}).status().message(),
            "input 's': a batched model needs a batch dimension, got a scalar");
  const TensorMap mixed = {{"a", Tensor::Zeros(DType::kFloat32, {2, 3})},
                           {"b", Tensor::Zeros(DType::kFloat32, {3, 3})}};
  EXPECT_EQ(BatchSizeOf(mixed).status().message(),
            "input 'b': batch size (dim 0) 3 differs from input 'a' (2)");
}

TEST(TensorBatchTest, ShapeKeyIgnoresOnlyTheBatchDimension) {
  EXPECT_EQ(ShapeKey(Request(1, 1)), ShapeKey(Request(5, 9)));
  const auto key = [](const std::string& name, DType dtype, std::vector<int64_t> shape) {
    return ShapeKey({{name, Tensor::Zeros(dtype, std::move(shape))}});
  };
  const std::string base = key("x", DType::kFloat32, {2, 3, 4});
  EXPECT_EQ(base, key("x", DType::kFloat32, {7, 3, 4}));
  EXPECT_NE(base, key("x", DType::kFloat32, {2, 4, 3}));
  EXPECT_NE(base, key("x", DType::kFloat16, {2, 3, 4}));
  EXPECT_NE(base, key("y", DType::kFloat32, {2, 3, 4}));
  EXPECT_NE(base, key("x", DType::kFloat32, {2, 3, 4, 1}));
  EXPECT_NE(key("x", DType::kFloat32, {}), key("x", DType::kFloat32, {1}));
  // A name cannot pose as another input's encoding.
  const TensorMap two = {{"a", Tensor::Zeros(DType::kFloat32, {1})},
                         {"b", Tensor::Zeros(DType::kFloat32, {1})}};
  EXPECT_NE(ShapeKey(two), key("1:aFP32;1:b", DType::kFloat32, {1}));
}

TEST(TensorBatchTest, MergeThenSplitIsBitwiseTheRequestsForEveryDtype) {
  const std::vector<int64_t> rows = {1, 3, 2, 1, 4};
  std::vector<TensorMap> requests;
  for (size_t i = 0; i < rows.size(); ++i) requests.push_back(Request(rows[i], 10 * i));
  Result<TensorMap> merged = MergeBatch(Pointers(requests));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();

  // The merged tensor is the plain concatenation of the pieces.
  for (const auto& [name, t] : *merged) {
    SCOPED_TRACE(name);
    EXPECT_EQ(t.shape[0], 11);
    EXPECT_EQ(t.dtype, requests[0].at(name).dtype);
    std::vector<std::byte> expected;
    for (const TensorMap& r : requests) {
      expected.insert(expected.end(), r.at(name).data.begin(), r.at(name).data.end());
    }
    EXPECT_EQ(t.data, expected);
  }

  Result<std::vector<TensorMap>> parts = SplitBatch(*merged, rows);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_EQ((*parts)[i].size(), requests[i].size());
    for (const auto& [name, t] : requests[i]) {
      EXPECT_TRUE((*parts)[i].at(name).BitwiseEquals(t)) << "request " << i << " " << name;
    }
  }
}

TEST(TensorBatchTest, OneRequestMergesToItself) {
  const std::vector<TensorMap> one = {Request(2, 5)};
  Result<TensorMap> merged = MergeBatch(Pointers(one));
  ASSERT_TRUE(merged.ok());
  for (const auto& [name, t] : one[0]) EXPECT_TRUE(merged->at(name).BitwiseEquals(t)) << name;
}

TEST(TensorBatchTest, SplitAllowsEmptySlices) {
  const Tensor t = Random(DType::kInt32, {3, 2}, 1);
  const std::vector<int64_t> rows = {0, 3, 0};
  Result<std::vector<TensorMap>> parts = SplitBatch({{"y", t}}, rows);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ((*parts)[0].at("y").shape, (std::vector<int64_t>{0, 2}));
  EXPECT_TRUE((*parts)[1].at("y").BitwiseEquals(t));
}

TEST(TensorBatchTest, MergeNamesTheRequestAndInputThatDoNotFit) {
  const auto merge_error = [](std::vector<TensorMap> requests) {
    return MergeBatch(Pointers(requests)).status();
  };
  EXPECT_EQ(MergeBatch({}).status().message(), "no requests to merge");

  const TensorMap x = {{"x", Tensor::Zeros(DType::kFloat32, {1, 3})}};
  Status s = merge_error({x, {{"y", Tensor::Zeros(DType::kFloat32, {1, 3})}}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request 1: input 'y' is not an input of request 0");

  s = merge_error({x,
                   {{"x", Tensor::Zeros(DType::kFloat32, {1, 3})},
                    {"z", Tensor::Zeros(DType::kFloat32, {1, 3})}}});
  EXPECT_EQ(s.message(), "request 1: has 2 inputs, request 0 has 1");

  s = merge_error({x, {{"x", Tensor::Zeros(DType::kInt32, {2, 3})}}});
  EXPECT_EQ(s.message(),
            "request 1: input 'x': INT32 [2,3] cannot merge with request 0's FP32 [1,3] (only "
            "dim 0 may differ)");

  s = merge_error({x, {{"x", Tensor::Zeros(DType::kFloat32, {2, 4})}}});
  EXPECT_EQ(s.message(),
            "request 1: input 'x': FP32 [2,4] cannot merge with request 0's FP32 [1,3] (only "
            "dim 0 may differ)");

  TensorMap short_data = x;
  short_data["x"].data.resize(8);
  s = merge_error({x, short_data});
  EXPECT_EQ(s.message(), "request 1: input 'x': 8 bytes do not match FP32 [1,3]");

  s = merge_error({{{"x", Tensor::Zeros(DType::kFloat32, {})}}});
  EXPECT_EQ(s.message(), "request 0: input 'x': 4 bytes do not match FP32 []");
}

TEST(TensorBatchTest, SplitRefusesOutputsThatDoNotCarryTheBatch) {
  const std::vector<int64_t> rows = {2, 3};
  Status s = SplitBatch({{"y", Tensor::Zeros(DType::kFloat32, {1, 10})}}, rows).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "output 'y': FP32 [1,10] does not carry the batch of 5 rows in dim 0; a model batched "
            "by seam must return dim 0 = the sum of the requests' batch sizes (or be configured "
            "with max_batch_size 0)");

  s = SplitBatch({{"loss", Tensor::Zeros(DType::kFloat32, {})}}, rows).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("output 'loss': FP32 []"), std::string::npos);

  Tensor truncated = Tensor::Zeros(DType::kFloat32, {5, 2});
  truncated.data.pop_back();
  s = SplitBatch({{"y", truncated}}, rows).status();
  EXPECT_EQ(s.message(), "output 'y': 39 bytes do not match FP32 [5,2]");

  const std::vector<int64_t> negative = {6, -1};
  s = SplitBatch({{"y", Tensor::Zeros(DType::kFloat32, {5, 2})}}, negative).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request 1: negative batch size -1");
}

}  // namespace
}  // namespace seam::batching
