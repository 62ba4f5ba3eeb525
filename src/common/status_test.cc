#include "common/status.h"

#include <gtest/gtest.h>

#include "common/dtype.h"

namespace seam {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  SEAM_ASSIGN_OR_RETURN(int half, Half(x));
  SEAM_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  EXPECT_EQ(ok.WithContext("ctx").ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeMessageAndContext) {
  Status s = NotFound("no tensor 'x'").WithContext("model.onnx");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "model.onnx: no tensor 'x'");
  EXPECT_EQ(s.ToString(), "NOT_FOUND: model.onnx: no tensor 'x'");
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(12), 3);
  EXPECT_EQ(Quarter(6).status().message(), "odd: 3");
  EXPECT_EQ(Quarter(5).status().message(), "odd: 5");
}

TEST(StatusTest, ResultFromOkStatusIsAnInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(DTypeTest, OnnxRoundTripAndSizes) {
  for (DType d : {DType::kFloat32, DType::kFloat16, DType::kInt64, DType::kUInt8, DType::kBool}) {
    EXPECT_EQ(*DTypeFromOnnx(DTypeToOnnx(d)), d);
    EXPECT_EQ(*DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_EQ(DTypeSize(DType::kFloat16), 2u);
  EXPECT_EQ(DTypeSize(DType::kInt64), 8u);
  auto string_type = DTypeFromOnnx(8);
  ASSERT_FALSE(string_type.ok());
  EXPECT_NE(string_type.status().message().find("STRING"), std::string::npos);
  EXPECT_EQ(ShapeToString({1, -1, 3}), "[1,?,3]");
  EXPECT_EQ(ElementCount({}), 1);
}

}  // namespace
}  // namespace seam
