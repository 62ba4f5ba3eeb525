// The wire format: exact layout, round trips, and strict refusal of malformed buffers.
#include "transport/wire_format.h"

#include <gtest/gtest.h>

#include "transport/codec.h"
#include "transport/test_tensors.h"

namespace seam::transport {
namespace {

using testing::FloatTensor;
using testing::RandomTensor;
using testing::ReluTensor;

const char* const kSpecs[] = {"identity",      "fp16",     "int8",        "int8_per_channel",
                              "identity+zstd", "fp16+lz4", "int8+zstd:5", "int8_per_channel:0+lz4"};

TEST(WireFormatTest, GoldenLayoutOfASmallInt8Tensor) {
  // [1, 2] = {0, 2}: range [0, 2], scale 2/255, zero point 0, q = {0, 255}.
  const EncodedTensor e = *Encode(FloatTensor({1, 2}, {0.0f, 2.0f}), *ParseCodec("int8"));
  const std::string bytes = Serialize(e);
  const std::string expected_header =
      std::string("SMTC") + std::string("\x01\x02\x00\x00\x01\x02\x00\x00", 8) +  // v1 int8 FLOAT
      std::string("\x01\x00\x00\x00", 4) +                                        // 1 parameter
      std::string("\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16);                    // [1, 2]
  ASSERT_EQ(bytes.size(), expected_header.size() + 4 + 1 + 8 + 2);
  EXPECT_EQ(bytes.substr(0, expected_header.size()), expected_header);
  float scale;
  std::memcpy(&scale, bytes.data() + 32, 4);
  EXPECT_EQ(scale, e.scales[0]);
  EXPECT_EQ(bytes.substr(36), std::string("\x00\x02\0\0\0\0\0\0\0\x00\xFF", 11));
}

TEST(WireFormatTest, RoundTripsEveryCodec) {
  const Tensor t = ReluTensor({2, 3, 9, 11}, 1);
  for (const char* spec : kSpecs) {
    SCOPED_TRACE(spec);
    const EncodedTensor e = *Encode(t, *ParseCodec(spec));
    Result<EncodedTensor> parsed = ParseEncoded(Serialize(e));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->codec, e.codec);
    EXPECT_EQ(ToString(parsed->codec), ToString(e.codec));
    EXPECT_EQ(parsed->dtype, e.dtype);
    EXPECT_EQ(parsed->shape, e.shape);
    EXPECT_EQ(parsed->scales, e.scales);
    EXPECT_EQ(parsed->zero_points, e.zero_points);
    EXPECT_EQ(parsed->payload, e.payload);
    EXPECT_TRUE(Decode(*parsed)->BitwiseEquals(*Decode(e)));
  }
  Tensor ints = Tensor::Zeros(DType::kUInt16, {7});
  ints.data[3] = std::byte{9};
  const EncodedTensor e = *Encode(ints, *ParseCodec("identity+zstd"));
  EXPECT_TRUE(Decode(*ParseEncoded(Serialize(e)))->BitwiseEquals(ints));
}

TEST(WireFormatTest, EveryTruncationIsDataLoss) {
  for (const char* spec : kSpecs) {
    SCOPED_TRACE(spec);
    const std::string bytes = Serialize(*Encode(RandomTensor({2, 3, 5}, 2), *ParseCodec(spec)));
    for (size_t n = 0; n < bytes.size(); ++n) {
      Result<EncodedTensor> parsed = ParseEncoded(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(parsed.ok()) << n;
      ASSERT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status().ToString();
    }
    Result<EncodedTensor> longer = ParseEncoded(bytes + '\0');
    ASSERT_FALSE(longer.ok());
    EXPECT_EQ(longer.status().code(), StatusCode::kDataLoss);
  }
}

// Every byte of several encodings set to values that break fields in different ways: each
// buffer is refused or parses into a tensor that then decodes cleanly. Nothing may crash,
// read out of bounds (run under ASan to see) or allocate much more than the buffer.
TEST(WireFormatTest, CorruptedBytesNeverCrash) {
  for (const char* spec : kSpecs) {
    SCOPED_TRACE(spec);
    const std::string bytes = Serialize(*Encode(ReluTensor({1, 3, 4, 4}, 3), *ParseCodec(spec)));
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t v : {0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFF}) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(v);
        Result<EncodedTensor> parsed = ParseEncoded(bad);
        if (!parsed.ok()) {
          const StatusCode code = parsed.status().code();
          ASSERT_TRUE(code == StatusCode::kDataLoss || code == StatusCode::kInvalidArgument)
              << parsed.status().ToString();
          continue;
        }
        Result<Tensor> t = Decode(*parsed);
        if (t.ok()) {
          EXPECT_EQ(t->data.size(), ElementCount(t->shape) * DTypeSize(t->dtype));
        } else {
          EXPECT_EQ(t.status().code(), StatusCode::kDataLoss) << t.status().ToString();
        }
      }
    }
  }
}

std::string Int8Bytes() {
  return Serialize(*Encode(RandomTensor({2, 3}, 4), *ParseCodec("int8_per_channel+zstd")));
}

void Poke64(std::string& s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

TEST(WireFormatTest, HeadersThatLieAreRefusedBeforeAllocating) {
  const std::string good = Int8Bytes();
  ASSERT_TRUE(ParseEncoded(good).ok());
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(ParseEncoded(bad).status().message(),
            "not a seam encoded tensor (magic is not \"SMTC\")");
  bad = good;
  bad[4] = 2;
  EXPECT_EQ(ParseEncoded(bad).status().message(),
            "encoded tensor has wire version 2; this build reads version 1");
  bad = good;
  bad[9] = 33;  // rank
  EXPECT_EQ(ParseEncoded(bad).status().message(),
            "encoded tensor corrupt at byte 9: rank 33 is over 32");
  bad = good;
  Poke64(bad, 16, uint64_t{1} << 40);  // a dimension of 2^40: over any sane limit
  EXPECT_EQ(ParseEncoded(bad).status().code(), StatusCode::kInvalidArgument);
  bad = good;
  Poke64(bad, 16, uint64_t{1} << 63);  // negative
  EXPECT_EQ(ParseEncoded(bad).status().message(),
            "encoded tensor corrupt at byte 16: negative dimension -9223372036854775808");
  bad = good;
  Poke64(bad, 24, uint64_t{1} << 62);  // 2 * 2^62 elements: over the limit without overflowing
  EXPECT_EQ(ParseEncoded(bad).status().code(), StatusCode::kInvalidArgument);
  bad = good;
  bad[12] = bad[13] = bad[14] = bad[15] = '\xFF';  // 2^32 - 1 parameters
  EXPECT_EQ(ParseEncoded(bad).status().code(), StatusCode::kDataLoss);
  bad = good;
  Poke64(bad, 16 + 2 * 8 + 3 * 5, ~uint64_t{0});  // the payload size, after 2 dims and 3 pairs
  EXPECT_EQ(ParseEncoded(bad).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseEncoded(bad).status().message(),
            "encoded tensor truncated: payload at byte 55 needs 18446744073709551615 bytes, "
            "15 remain");
}

TEST(WireFormatTest, DecompressionBombsStopAtTheLimit) {
  const Tensor zeros = Tensor::Zeros(DType::kFloat32, {4, 1024, 1024});  // 16 MiB
  for (const char* spec : {"identity+zstd", "identity+lz4", "int8+zstd"}) {
    SCOPED_TRACE(spec);
    const std::string bytes = Serialize(*Encode(zeros, *ParseCodec(spec)));
    EXPECT_LT(bytes.size(), 100'000u);
    Result<EncodedTensor> parsed = ParseEncoded(bytes, {.max_tensor_bytes = 1 << 20});
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(ParseEncoded(bytes, {.max_tensor_bytes = 16 << 20}).ok());
  }
}

TEST(WireFormatTest, ZstdFrameMustDeclareTheTensorsSize) {
  EncodedTensor e = *Encode(RandomTensor({4, 4}, 5), *ParseCodec("identity+zstd"));
  e.shape = {4, 3};  // the frame still says 64 bytes
  Result<EncodedTensor> parsed = ParseEncoded(Serialize(e));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "zstd payload: frame declares 64 content bytes, the tensor needs 48");
}

}  // namespace
}  // namespace seam::transport
