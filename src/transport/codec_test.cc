// Encode/Decode round trips for every codec, their error bounds, edge tensors and misuse.
#include "transport/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "transport/codec_error.h"
#include "transport/half.h"
#include "transport/test_tensors.h"

namespace seam::transport {
namespace {

using testing::FloatTensor;
using testing::RandomTensor;
using testing::ReluTensor;
using testing::Values;

constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor RoundTrip(const Tensor& t, const std::string& spec_text) {
  Result<CodecSpec> spec = ParseCodec(spec_text);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  Result<EncodedTensor> encoded = Encode(t, *spec);
  EXPECT_TRUE(encoded.ok()) << spec_text << ": " << encoded.status().ToString();
  if (!encoded.ok()) return {};
  Result<Tensor> decoded = Decode(*encoded);
  EXPECT_TRUE(decoded.ok()) << spec_text << ": " << decoded.status().ToString();
  if (!decoded.ok()) return {};
  EXPECT_EQ(decoded->dtype, t.dtype);
  EXPECT_EQ(decoded->shape, t.shape);
  return std::move(decoded).value();
}

// Per-element bound for int8: half a step, plus FP32 rounding in the scale multiply.
float Int8Bound(float scale, float x) { return scale * 0.5f * (1 + 1e-5f) + std::fabs(x) * 1e-6f; }

TEST(CodecTest, IdentityAndLosslessStagesAreBitwise) {
  const Tensor t = RandomTensor({2, 3, 17, 5}, 1);
  for (const char* spec : {"identity", "identity+zstd", "identity+zstd:19", "identity+lz4"}) {
    SCOPED_TRACE(spec);
    EXPECT_TRUE(RoundTrip(t, spec).BitwiseEquals(t));
  }
}

TEST(CodecTest, LosslessStageDoesNotChangeWhatALossyCodecDecodesTo) {
  const Tensor t = ReluTensor({1, 8, 33, 7}, 2);
  for (const char* codec : {"fp16", "int8", "int8_per_channel"}) {
    SCOPED_TRACE(codec);
    const Tensor plain = RoundTrip(t, codec);
    EXPECT_TRUE(RoundTrip(t, std::string(codec) + "+zstd").BitwiseEquals(plain));
    EXPECT_TRUE(RoundTrip(t, std::string(codec) + "+lz4").BitwiseEquals(plain));
  }
}

TEST(CodecTest, Fp16WithinHalfPrecisionAndExactOnHalfValues) {
  const Tensor t = RandomTensor({4, 1000}, 3, 100.0f);
  const std::vector<float> x = Values(t);
  const std::vector<float> y = Values(RoundTrip(t, "fp16"));
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i]) < std::ldexp(1.0f, -14)) continue;  // subnormal halves: absolute error
    ASSERT_LE(std::fabs(y[i] - x[i]), std::ldexp(std::fabs(x[i]), -11)) << x[i];
  }
  // Values a half holds exactly come back exactly: the decoded tensor encodes to itself.
  const Tensor halves = FloatTensor({static_cast<int64_t>(y.size())}, y);
  EXPECT_TRUE(RoundTrip(halves, "fp16").BitwiseEquals(halves));
}

TEST(CodecTest, Fp16SpecialValues) {
  const float sub = std::ldexp(1.0f, -24);
  const std::vector<float> x = {0.0f,          -0.0f,    kInf,        -kInf,
                                std::nanf(""), 65520.0f, -70000.0f,   65504.0f,
                                1e-40f,        3 * sub,  -1000 * sub, std::ldexp(1.0f, -25)};
  const std::vector<float> y = Values(RoundTrip(FloatTensor({12}, x), "fp16+lz4"));
  EXPECT_EQ(half::FloatBits(y[0]), 0x00000000u);
  EXPECT_EQ(half::FloatBits(y[1]), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(y[2], kInf);
  EXPECT_EQ(y[3], -kInf);
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_EQ(y[5], kInf);  // 65520 overflows
  EXPECT_EQ(y[6], -kInf);
  EXPECT_EQ(y[7], 65504.0f);
  EXPECT_EQ(y[8], 0.0f);  // an FP32 subnormal underflows
  EXPECT_EQ(y[9], 3 * sub);
  EXPECT_EQ(y[10], -1000 * sub);  // half subnormals are exact
  EXPECT_EQ(y[11], 0.0f);         // half the smallest subnormal: a tie, to even
}

TEST(CodecTest, Int8ErrorWithinHalfAStepAndZeroExact) {
  for (const char* spec : {"int8", "int8+zstd"}) {
    SCOPED_TRACE(spec);
    for (const Tensor& t : {RandomTensor({3, 4, 50}, 4, 2.0f), ReluTensor({600}, 5)}) {
      Result<EncodedTensor> e = Encode(t, *ParseCodec(spec));
      ASSERT_TRUE(e.ok());
      ASSERT_EQ(e->scales.size(), 1u);
      const float scale = e->scales[0];
      const std::vector<float> x = Values(t);
      const std::vector<float> y = Values(*Decode(*e));
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_LE(std::fabs(y[i] - x[i]), Int8Bound(scale, x[i])) << i << ": " << x[i];
        if (x[i] == 0) {
          ASSERT_EQ(y[i], 0.0f);
        }
      }
    }
  }
}

TEST(CodecTest, Int8RangeCoversAllPositiveOrAllNegativeTensors) {
  const std::vector<float> pos = {3.0f, 4.5f, 7.25f, 10.0f};
  const std::vector<float> neg = {-3.0f, -4.5f, -7.25f, -10.0f};
  for (const auto& values : {pos, neg}) {
    Result<EncodedTensor> e = Encode(FloatTensor({4}, values), *ParseCodec("int8"));
    ASSERT_TRUE(e.ok());
    const std::vector<float> y = Values(*Decode(*e));
    for (size_t i = 0; i < y.size(); ++i) {
      EXPECT_LE(std::fabs(y[i] - values[i]), Int8Bound(e->scales[0], values[i]));
    }
  }
}

// Channel c of [2, 4, 6, 5] spans about 10^(2c - 3): one scale for all would flatten the small
// channels to a few steps.
Tensor MixedRangeTensor() {
  Tensor t = RandomTensor({2, 4, 6, 5}, 6);
  float* p = t.data_as<float>();
  for (size_t i = 0; i < t.data.size() / 4; ++i) {
    const int channel = static_cast<int>(i / 30 % 4);
    p[i] *= std::pow(10.0f, 2.0f * channel - 3.0f);
  }
  return t;
}

TEST(CodecTest, PerChannelErrorWithinEachChannelsHalfStep) {
  const Tensor t = MixedRangeTensor();
  Result<EncodedTensor> e = Encode(t, *ParseCodec("int8_per_channel"));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->scales.size(), 4u);
  const std::vector<float> x = Values(t);
  const std::vector<float> y = Values(*Decode(*e));
  for (size_t i = 0; i < x.size(); ++i) {
    const float scale = e->scales[i / 30 % 4];
    ASSERT_LE(std::fabs(y[i] - x[i]), Int8Bound(scale, x[i])) << i;
  }
  const Tensor per_channel = RoundTrip(t, "int8_per_channel");
  const Tensor per_tensor = RoundTrip(t, "int8");
  EXPECT_LT(MeasureError(t, per_channel).rel_l2, MeasureError(t, per_tensor).rel_l2);
  // The smallest channel (values ~1e-3 next to ~1e3) becomes all zeros with one scale for the
  // tensor, and keeps about two digits with its own.
  auto channel0 = [](const Tensor& whole) {
    std::vector<float> v;
    for (size_t i = 0; i < whole.data.size() / 4; ++i) {
      if (i / 30 % 4 == 0) v.push_back(whole.data_as<float>()[i]);
    }
    return FloatTensor({static_cast<int64_t>(v.size())}, v);
  };
  EXPECT_EQ(MeasureError(channel0(t), channel0(per_tensor)).rel_l2, 1.0);
  EXPECT_LT(MeasureError(channel0(t), channel0(per_channel)).rel_l2, 0.02);
}

// The same tensor laid out with its channels at each axis: the blocked loops (many contiguous
// elements per channel) and the row loops (few, e.g. channels last) must agree with a reference.
TEST(CodecTest, PerChannelEveryAxisMatchesAPerSliceReference) {
  const Tensor t = RandomTensor({3, 5, 7, 70}, 8);
  for (int axis : {0, 1, 2, 3, -1, -4}) {
    SCOPED_TRACE(axis);
    CodecSpec spec{.lossy = LossyStage::kInt8PerChannel, .axis = axis};
    Result<EncodedTensor> e = Encode(t, spec);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    const int resolved = axis < 0 ? axis + 4 : axis;
    EXPECT_EQ(e->codec.axis, resolved);
    ASSERT_EQ(e->scales.size(), static_cast<size_t>(t.shape[resolved]));
    const std::vector<float> x = Values(t);
    const std::vector<float> y = Values(*Decode(*e));
    size_t inner = 1;
    for (size_t d = resolved + 1; d < 4; ++d) inner *= t.shape[d];
    // Each channel's scale is what int8 chooses for that channel's values alone.
    std::vector<std::vector<float>> slices(e->scales.size());
    for (size_t i = 0; i < x.size(); ++i) slices[i / inner % slices.size()].push_back(x[i]);
    for (size_t c = 0; c < slices.size(); ++c) {
      const Tensor slice = FloatTensor({static_cast<int64_t>(slices[c].size())}, slices[c]);
      const EncodedTensor alone = *Encode(slice, {.lossy = LossyStage::kInt8});
      EXPECT_EQ(alone.scales[0], e->scales[c]);
      EXPECT_EQ(alone.zero_points[0], e->zero_points[c]);
    }
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_LE(std::fabs(y[i] - x[i]), Int8Bound(e->scales[i / inner % slices.size()], x[i]));
    }
  }
}

TEST(CodecTest, ConstantTensorsDecodeExactly) {
  for (float c : {0.0f, 3.25f, -7.5f, 1e-30f, 123456.0f}) {
    SCOPED_TRACE(c);
    const Tensor t = FloatTensor({2, 3, 4}, std::vector<float>(24, c));
    for (const char* spec : {"int8", "int8_per_channel", "int8+zstd"}) {
      const std::vector<float> y = Values(RoundTrip(t, spec));
      for (float v : y) ASSERT_EQ(v, c) << spec;
    }
  }
  // A channel that is constant while others are not.
  std::vector<float> x(24, 2.5f);
  for (int i = 12; i < 24; ++i) x[i] = static_cast<float>(i);
  const std::vector<float> y = Values(RoundTrip(FloatTensor({1, 2, 12}, x), "int8_per_channel"));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(y[i], 2.5f);
}

TEST(CodecTest, Int8SaturatesInfinitiesAndZeroesNan) {
  const std::vector<float> x = {-1.0f, 0.5f, 2.0f, kInf, -kInf, std::nanf(""), 0.0f, 1.0f};
  for (const char* spec : {"int8", "int8_per_channel:0"}) {
    SCOPED_TRACE(spec);
    Result<EncodedTensor> e = Encode(FloatTensor({1, 8}, x), *ParseCodec(spec));
    ASSERT_TRUE(e.ok());
    const float scale = e->scales[0];
    EXPECT_NEAR(scale, 3.0f / 255, 1e-6);  // the range is that of the finite values
    const std::vector<float> y = Values(*Decode(*e));
    EXPECT_GE(y[3], 2.0f - scale / 2);
    EXPECT_LE(y[4], -1.0f + scale / 2);
    EXPECT_EQ(y[5], 0.0f);
    EXPECT_EQ(y[6], 0.0f);
  }
  // Nothing finite at all: everything maps into an arbitrary range around 0, no NaN scale.
  Result<EncodedTensor> e =
      Encode(FloatTensor({3}, {kInf, -kInf, std::nanf("")}), *ParseCodec("int8"));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(std::isnormal(e->scales[0]));
  EXPECT_EQ(Values(*Decode(*e))[2], 0.0f);
}

TEST(CodecTest, ExtremeRangesKeepAFiniteNormalScale) {
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  for (const std::vector<float>& x : std::vector<std::vector<float>>{
           {-big, big, 0.0f, 1.0f}, {0.0f, tiny, 2 * tiny}, {big, big}, {-big, -big}}) {
    // One channel of [1, n] along axis 0: the per-channel row loops, as well as the plain ones.
    for (const char* spec : {"int8", "int8_per_channel:0"}) {
      SCOPED_TRACE(spec);
      Result<EncodedTensor> e =
          Encode(FloatTensor({1, static_cast<int64_t>(x.size())}, x), *ParseCodec(spec));
      ASSERT_TRUE(e.ok());
      EXPECT_TRUE(std::isnormal(e->scales[0]));
      const std::vector<float> y = Values(*Decode(*e));
      for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_TRUE(std::isfinite(y[i]));
        EXPECT_LE(std::fabs(static_cast<double>(y[i]) - x[i]), e->scales[0] * 0.5 * (1 + 1e-5));
      }
    }
  }
}

TEST(CodecTest, EmptyTensorsRoundTripWithEveryCodec) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{0, 5}, {2, 0, 3}, {0, 3, 4, 4}}) {
    const Tensor t = Tensor::Zeros(DType::kFloat32, shape);
    for (const char* spec : {"identity", "fp16", "int8", "int8_per_channel", "identity+zstd",
                             "fp16+lz4", "int8+zstd", "int8_per_channel+lz4"}) {
      SCOPED_TRACE(spec);
      Result<EncodedTensor> e = Encode(t, *ParseCodec(spec));
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      EXPECT_TRUE(e->scales.empty());
      EXPECT_TRUE(RoundTrip(t, spec).BitwiseEquals(t));
    }
  }
}

TEST(CodecTest, ScalarsTakeEveryCodecButPerChannel) {
  const Tensor t = FloatTensor({}, {2.75f});
  EXPECT_EQ(Values(RoundTrip(t, "fp16"))[0], 2.75f);
  EXPECT_EQ(Values(RoundTrip(t, "int8"))[0], 2.75f);
  Result<EncodedTensor> e = Encode(t, *ParseCodec("int8_per_channel"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.status().message(), "codec 'int8_per_channel': axis 1 is out of range for shape []");
}

TEST(CodecTest, OtherDtypesTakeOnlyIdentityAndLossless) {
  Tensor t = Tensor::Zeros(DType::kInt64, {3, 5});
  for (size_t i = 0; i < 15; ++i) t.data_as<int64_t>()[i] = static_cast<int64_t>(i * i) - 40;
  for (const char* spec : {"identity", "identity+zstd", "identity+lz4"}) {
    EXPECT_TRUE(RoundTrip(t, spec).BitwiseEquals(t)) << spec;
  }
  for (const char* spec : {"fp16", "int8+zstd", "int8_per_channel"}) {
    Result<EncodedTensor> e = Encode(t, *ParseCodec(spec));
    ASSERT_FALSE(e.ok()) << spec;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Encode(t, *ParseCodec("fp16")).status().message(),
            "codec 'fp16' needs an FP32 tensor, got INT64 (other dtypes take only 'identity', "
            "optionally with '+zstd' or '+lz4')");
  const Tensor halves = Tensor::Zeros(DType::kFloat16, {4});
  EXPECT_FALSE(Encode(halves, *ParseCodec("int8")).ok());
}

TEST(CodecTest, InconsistentTensorsAreRefused) {
  Tensor t = Tensor::Zeros(DType::kFloat32, {2, 3});
  t.data.resize(20);
  Result<EncodedTensor> e = Encode(t, {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "tensor to encode: shape [2,3] FP32 needs 24 bytes, its data has 20");
  t.shape = {-2, 3};
  EXPECT_EQ(Encode(t, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Encode(Tensor::Zeros(DType::kFloat32, {2}),
                      {.lossless = LosslessStage::kZstd, .zstd_level = 0})
                   .ok());
}

TEST(CodecTest, DecodeRefusesInconsistentEncodedTensors) {
  const EncodedTensor good = *Encode(RandomTensor({2, 3, 4}, 9), *ParseCodec("int8_per_channel"));
  ASSERT_TRUE(Decode(good).ok());
  auto expect_data_loss = [](const EncodedTensor& e) {
    Result<Tensor> t = Decode(e);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kDataLoss) << t.status().ToString();
  };
  EncodedTensor e = good;
  e.scales.pop_back();
  expect_data_loss(e);
  e = good;
  e.scales[1] = -1.0f;
  expect_data_loss(e);
  e = good;
  e.scales[0] = std::nanf("");
  expect_data_loss(e);
  e = good;
  e.payload.pop_back();
  expect_data_loss(e);
  e = good;
  e.codec.axis = 3;
  expect_data_loss(e);
  e = good;
  e.dtype = DType::kInt32;
  expect_data_loss(e);
  e = good;
  e.shape = {2, 3, 5};
  expect_data_loss(e);
  e = good;
  e.codec.lossless = LosslessStage::kLz4;  // raw bytes are not an lz4 block of this size
  expect_data_loss(e);
}

TEST(CodecTest, DecodeRespectsTheSizeLimit) {
  const EncodedTensor e =
      *Encode(Tensor::Zeros(DType::kFloat32, {1024, 1024}), *ParseCodec("identity+zstd"));
  EXPECT_LT(e.payload.size(), 1024u);  // 4 MiB of zeros: a tiny payload
  Result<Tensor> t = Decode(e, {.max_tensor_bytes = 1 << 20});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Decode(e, {.max_tensor_bytes = 4 << 20}).ok());
}

TEST(CodecTest, CorruptLosslessPayloadsAreDataLoss) {
  for (const char* spec : {"identity+zstd", "int8+lz4", "fp16+zstd", "identity+lz4"}) {
    SCOPED_TRACE(spec);
    EncodedTensor e = *Encode(ReluTensor({64, 64}, 10), *ParseCodec(spec));
    for (size_t i = 0; i < e.payload.size(); i += 7) {
      EncodedTensor bad = e;
      bad.payload[i] = static_cast<char>(bad.payload[i] ^ 0x5A);
      Result<Tensor> t = Decode(bad);  // either refused, or some tensor of the right shape
      if (t.ok()) {
        EXPECT_EQ(t->shape, e.shape);
      } else {
        EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
      }
    }
  }
}

TEST(CodecErrorTest, Figures) {
  const Tensor a = FloatTensor({4}, {3.0f, 4.0f, 0.0f, 0.0f});
  EXPECT_EQ(MeasureError(a, a).max_abs, 0.0);
  EXPECT_EQ(MeasureError(a, a).rel_l2, 0.0);
  const CodecError e = MeasureError(a, FloatTensor({4}, {3.0f, 4.0f, 0.5f, 0.0f}));
  EXPECT_DOUBLE_EQ(e.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(e.rel_l2, 0.1);  // 0.5 / 5
  const Tensor zeros = FloatTensor({2}, {0.0f, 0.0f});
  EXPECT_EQ(MeasureError(zeros, zeros).rel_l2, 0.0);
  EXPECT_TRUE(std::isinf(MeasureError(zeros, FloatTensor({2}, {0.0f, 1.0f})).rel_l2));
  const Tensor special = FloatTensor({3}, {kInf, std::nanf(""), 1.0f});
  EXPECT_EQ(MeasureError(special, special).max_abs, 0.0);
  EXPECT_TRUE(std::isinf(MeasureError(special, FloatTensor({3}, {kInf, 0.0f, 1.0f})).max_abs));
  EXPECT_TRUE(std::isinf(MeasureError(a, zeros).max_abs));  // different shapes
  const Tensor ints = Tensor::Zeros(DType::kInt32, {2});
  EXPECT_EQ(MeasureError(ints, ints).max_abs, 0.0);
}

}  // namespace
}  // namespace seam::transport
