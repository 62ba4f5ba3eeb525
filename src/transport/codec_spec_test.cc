#include "transport/codec_spec.h"

#include <gtest/gtest.h>

namespace seam::transport {
namespace {

TEST(CodecSpecTest, ParsesEveryStageAndRoundTrips) {
  for (const char* text : {"identity", "fp16", "int8", "int8_per_channel", "identity+zstd",
                           "identity+lz4", "fp16+zstd", "fp16+lz4", "int8+zstd", "int8+lz4",
                           "int8_per_channel+zstd", "int8_per_channel:0", "int8_per_channel:-1+lz4",
                           "int8+zstd:3", "fp16+zstd:-5", "identity+zstd:22"}) {
    SCOPED_TRACE(text);
    Result<CodecSpec> spec = ParseCodec(text);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_EQ(ToString(*spec), text);
    EXPECT_EQ(*ParseCodec(ToString(*spec)), *spec);
    EXPECT_TRUE(ValidateCodec(*spec).ok());
  }
}

TEST(CodecSpecTest, FieldsAndDefaults) {
  CodecSpec spec = *ParseCodec("int8_per_channel+zstd");
  EXPECT_EQ(spec.lossy, LossyStage::kInt8PerChannel);
  EXPECT_EQ(spec.lossless, LosslessStage::kZstd);
  EXPECT_EQ(spec.axis, 1);
  EXPECT_EQ(spec.zstd_level, 1);
  spec = *ParseCodec("int8_per_channel:3+zstd:7");
  EXPECT_EQ(spec.axis, 3);
  EXPECT_EQ(spec.zstd_level, 7);
  EXPECT_EQ(ToString(*ParseCodec("int8_per_channel:1+zstd:1")), "int8_per_channel+zstd");
  // Spaces around the parts are forgiven (specs come from config files).
  EXPECT_EQ(*ParseCodec(" int8 + zstd "), *ParseCodec("int8+zstd"));
}

TEST(CodecSpecTest, EqualityIgnoresParametersOfUnusedStages) {
  CodecSpec a{.lossy = LossyStage::kFp16, .zstd_level = 5, .axis = 0};
  CodecSpec b{.lossy = LossyStage::kFp16};
  EXPECT_EQ(a, b);
  a.lossless = b.lossless = LosslessStage::kZstd;
  EXPECT_FALSE(a == b);
}

void ExpectError(const char* text, const std::string& message) {
  SCOPED_TRACE(text);
  Result<CodecSpec> spec = ParseCodec(text);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), message);
}

TEST(CodecSpecTest, ErrorsNameTheProblem) {
  ExpectError("fp8",
              "unknown codec 'fp8' (known: identity, fp16, int8, int8_per_channel; lossless "
              "stages: zstd, lz4)");
  ExpectError("",
              "empty codec spec (expected e.g. 'fp16' or 'int8+zstd'; known: identity, fp16, "
              "int8, int8_per_channel; lossless stages: zstd, lz4)");
  ExpectError("int8+gzip", "codec 'int8+gzip': unknown lossless stage 'gzip' (known: zstd, lz4)");
  ExpectError("zstd",
              "codec 'zstd': 'zstd' is a lossless stage and goes after a codec, e.g. "
              "'identity+zstd'");
  ExpectError("fp16+zstd+lz4",
              "codec 'fp16+zstd+lz4': at most one lossless stage may follow the codec");
  ExpectError("fp16:3", "codec 'fp16:3': 'fp16' takes no parameter");
  ExpectError("int8+lz4:2", "codec 'int8+lz4:2': 'lz4' takes no parameter");
  ExpectError("int8+zstd:0",
              "codec 'int8+zstd:0': zstd level '0' is not an integer in [-128, 22] other than 0");
  ExpectError("int8+zstd:99",
              "codec 'int8+zstd:99': zstd level '99' is not an integer in [-128, 22] other than 0");
  ExpectError("int8_per_channel:x",
              "codec 'int8_per_channel:x': axis 'x' is not an integer in [-32, 31]");
  ExpectError("int8_per_channel:32",
              "codec 'int8_per_channel:32': axis '32' is not an integer in [-32, 31]");
  ExpectError("int8+", "codec 'int8+': unknown lossless stage '' (known: zstd, lz4)");
  ExpectError("FP16",
              "unknown codec 'FP16' (known: identity, fp16, int8, int8_per_channel; lossless "
              "stages: zstd, lz4)");
}

TEST(CodecSpecTest, ValidateRejectsOutOfRangeFields) {
  EXPECT_FALSE(ValidateCodec({.lossless = LosslessStage::kZstd, .zstd_level = 0}).ok());
  EXPECT_FALSE(ValidateCodec({.lossless = LosslessStage::kZstd, .zstd_level = 23}).ok());
  EXPECT_TRUE(ValidateCodec({.lossless = LosslessStage::kLz4, .zstd_level = 0}).ok());
  EXPECT_FALSE(ValidateCodec({.lossy = LossyStage::kInt8PerChannel, .axis = 40}).ok());
  EXPECT_FALSE(ValidateCodec({.lossy = static_cast<LossyStage>(9)}).ok());
}

}  // namespace
}  // namespace seam::transport
