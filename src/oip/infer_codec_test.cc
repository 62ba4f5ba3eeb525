// Request validation as a pure function: each rule broken once, with the message it gives.
#include "oip/infer_codec.h"

#include <gtest/gtest.h>

#include <cstring>

#include "transport/payload.h"

namespace seam::oip {
namespace {

using inference::ModelInferRequest;

// image FP32 [-1,3,2,2] and mask BOOL [-1,2] in; probs FP32 [-1,4] and ids INT64 [-1] out.
ModelMetadata Metadata(int max_batch_size = 8) {
  ModelMetadata m;
  m.inputs = {{"image", DType::kFloat32, {-1, 3, 2, 2}}, {"mask", DType::kBool, {-1, 2}}};
  m.outputs = {{"probs", DType::kFloat32, {-1, 4}}, {"ids", DType::kInt64, {-1}}};
  m.max_batch_size = max_batch_size;
  return m;
}

std::string FloatBytes(int n, float start = 0) {
  std::string bytes(n * 4, '\0');
  for (int i = 0; i < n; ++i) {
    const float v = start + i;
    std::memcpy(&bytes[i * 4], &v, 4);
  }
  return bytes;
}

// A valid raw request with batch `batch`.
ModelInferRequest RawRequest(int64_t batch = 1) {
  ModelInferRequest r;
  r.set_model_name("m");
  auto* image = r.add_inputs();
  image->set_name("image");
  image->set_datatype("FP32");
  for (int64_t d : {batch, int64_t{3}, int64_t{2}, int64_t{2}}) image->add_shape(d);
  auto* mask = r.add_inputs();
  mask->set_name("mask");
  mask->set_datatype("BOOL");
  mask->add_shape(batch);
  mask->add_shape(2);
  r.add_raw_input_contents(FloatBytes(static_cast<int>(batch) * 12));
  r.add_raw_input_contents(std::string(batch * 2, '\1'));
  return r;
}

// The same request with typed contents.
ModelInferRequest TypedRequest() {
  ModelInferRequest r = RawRequest();
  r.clear_raw_input_contents();
  for (int i = 0; i < 12; ++i) r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(i);
  r.mutable_inputs(1)->mutable_contents()->add_bool_contents(true);
  r.mutable_inputs(1)->mutable_contents()->add_bool_contents(true);
  return r;
}

void ExpectInvalid(const ModelInferRequest& request, const std::string& message,
                   const ModelMetadata& metadata = Metadata()) {
  auto decoded = DecodeInferRequest(request, metadata);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoded.status().message(), message);
}

TEST(InferCodecTest, RawAndTypedDecodeToTheSameTensors) {
  auto raw = DecodeInferRequest(RawRequest(), Metadata());
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  auto typed = DecodeInferRequest(TypedRequest(), Metadata());
  ASSERT_TRUE(typed.ok()) << typed.status().ToString();
  ASSERT_EQ(raw->inputs.size(), 2u);
  for (const auto& [name, tensor] : raw->inputs) {
    EXPECT_TRUE(tensor.BitwiseEquals(typed->inputs.at(name))) << name;
  }
  EXPECT_EQ(raw->inputs.at("image").shape, (std::vector<int64_t>{1, 3, 2, 2}));
  EXPECT_EQ(raw->outputs, (std::vector<std::string>{"probs", "ids"}));  // all, model order
}

TEST(InferCodecTest, RequestedOutputsInTheirOrder) {
  ModelInferRequest r = RawRequest();
  r.add_outputs()->set_name("ids");
  auto decoded = DecodeInferRequest(r, Metadata());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->outputs, (std::vector<std::string>{"ids"}));
  r.add_outputs()->set_name("nope");
  ExpectInvalid(r, "requested output 'nope': the model has no such output (it has: probs, ids)");
  r.mutable_outputs(1)->set_name("ids");
  ExpectInvalid(r, "requested output 'ids' is listed twice");
}

TEST(InferCodecTest, Names) {
  ModelInferRequest r = RawRequest();
  r.mutable_inputs(1)->set_name("masks");
  ExpectInvalid(r, "input 'masks': the model has no such input (it has: image, mask)");
  r.mutable_inputs(1)->set_name("image");
  ExpectInvalid(r, "input 'image' is given twice");
  r = RawRequest();
  r.mutable_inputs()->RemoveLast();
  r.mutable_raw_input_contents()->RemoveLast();
  ExpectInvalid(r, "input 'mask' is missing (the model's inputs: image, mask)");
}

TEST(InferCodecTest, Datatypes) {
  ModelInferRequest r = RawRequest();
  r.mutable_inputs(0)->set_datatype("FP64");
  ExpectInvalid(r, "input 'image': expected datatype FP32, got FP64");
  r.mutable_inputs(0)->set_datatype("FLOAT");
  ExpectInvalid(r, "input 'image': unknown or unsupported datatype 'FLOAT'");
  r.mutable_inputs(0)->set_datatype("BYTES");
  ExpectInvalid(r, "input 'image': unknown or unsupported datatype 'BYTES'");
}

TEST(InferCodecTest, Shapes) {
  ModelInferRequest r = RawRequest();
  r.mutable_inputs(0)->mutable_shape()->RemoveLast();
  ExpectInvalid(r, "input 'image': expected shape [-1,3,2,2], got [1,3,2]");
  r = RawRequest();
  r.mutable_inputs(0)->set_shape(1, 4);
  ExpectInvalid(r, "input 'image': expected shape [-1,3,2,2], got [1,4,2,2]");
  r = RawRequest();
  r.mutable_inputs(0)->set_shape(0, 0);
  ExpectInvalid(r, "input 'image': dimension 0 must be >= 1, got 0");
  r.mutable_inputs(0)->set_shape(0, -3);
  ExpectInvalid(r, "input 'image': dimension 0 must be >= 1, got -3");
  ExpectInvalid(RawRequest(9), "input 'image': batch size 9 exceeds the model's max_batch_size 8");
  EXPECT_TRUE(DecodeInferRequest(RawRequest(9), Metadata(0)).ok());  // no batching: no limit
  r = RawRequest(2);
  r.mutable_inputs(1)->set_shape(0, 1);
  r.set_raw_input_contents(1, std::string(2, '\1'));
  ExpectInvalid(r, "input 'mask': batch size 1 differs from input 'image' (2)");
  ModelMetadata dynamic = Metadata(0);
  dynamic.inputs[0].shape = {-1, -1, 2, 2};
  r = RawRequest();
  r.mutable_inputs(0)->set_shape(0, int64_t{1} << 40);
  r.mutable_inputs(0)->set_shape(1, int64_t{1} << 40);
  ExpectInvalid(r, "input 'image': shape [1099511627776,1099511627776,2,2] is too large", dynamic);
}

TEST(InferCodecTest, RawContents) {
  ModelInferRequest r = RawRequest();
  r.mutable_raw_input_contents()->RemoveLast();
  ExpectInvalid(r,
                "raw_input_contents has 1 entries for 2 inputs; give one per input, in the order "
                "of 'inputs'");
  r = RawRequest();
  r.set_raw_input_contents(0, FloatBytes(11));
  ExpectInvalid(r,
                "input 'image': shape [1,3,2,2] of FP32 needs 48 bytes, raw_input_contents[0] "
                "has 44");
  r = RawRequest();
  r.mutable_inputs(1)->mutable_contents()->add_bool_contents(true);
  ExpectInvalid(r,
                "input 'mask': has typed contents (bool_contents) but the request uses "
                "raw_input_contents; use one or the other");
}

TEST(InferCodecTest, TypedContents) {
  ModelInferRequest r = TypedRequest();
  r.mutable_inputs(0)->mutable_contents()->mutable_fp32_contents()->RemoveLast();
  ExpectInvalid(r, "input 'image': shape [1,3,2,2] has 12 elements, fp32_contents has 11");
  r = TypedRequest();
  r.mutable_inputs(0)->mutable_contents()->clear_fp32_contents();
  ExpectInvalid(r, "input 'image': no data (neither raw_input_contents nor fp32_contents)");
  for (int i = 0; i < 12; ++i) r.mutable_inputs(0)->mutable_contents()->add_int_contents(i);
  ExpectInvalid(r, "input 'image': datatype FP32 takes fp32_contents, got int_contents");
}

TEST(InferCodecTest, TypedRangesAndFp16) {
  ModelMetadata m;
  m.inputs = {{"q", DType::kInt8, {2}}, {"h", DType::kFloat16, {1}}};
  m.outputs = {{"y", DType::kFloat32, {1}}};
  ModelInferRequest r;
  auto* q = r.add_inputs();
  q->set_name("q");
  q->set_datatype("INT8");
  q->add_shape(2);
  q->mutable_contents()->add_int_contents(-128);
  q->mutable_contents()->add_int_contents(300);
  auto* h = r.add_inputs();
  h->set_name("h");
  h->set_datatype("FP16");
  h->add_shape(1);
  ExpectInvalid(r, "input 'q': int_contents[1] = 300 is out of range for INT8", m);
  q->mutable_contents()->set_int_contents(1, 127);
  ExpectInvalid(r, "input 'h': FP16 tensors must be sent in raw_input_contents", m);
}

TEST(InferCodecTest, EncodeWritesRawOutputsInOrder) {
  TensorMap outputs;
  outputs["probs"] = Tensor::Zeros(DType::kFloat32, {1, 4});
  outputs["probs"].data_as<float>()[3] = 2.5f;
  outputs["ids"] = Tensor::Zeros(DType::kInt64, {1});
  inference::ModelInferResponse response;
  ASSERT_TRUE(EncodeInferOutputs(outputs, {"ids", "probs"}, &response).ok());
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "ids");
  EXPECT_EQ(response.outputs(0).datatype(), "INT64");
  EXPECT_EQ(response.outputs(1).datatype(), "FP32");
  EXPECT_EQ(response.outputs(1).shape_size(), 2);
  ASSERT_EQ(response.raw_output_contents_size(), 2);
  EXPECT_EQ(response.raw_output_contents(0).size(), 8u);
  float v;
  std::memcpy(&v, response.raw_output_contents(1).data() + 12, 4);
  EXPECT_EQ(v, 2.5f);
  EXPECT_EQ(EncodeInferOutputs(outputs, {"nope"}, &response).code(), StatusCode::kInternal);
}

// A coded input (parameter seam_codec) decodes to the tensor it declares; a payload that does
// not match its declaration, or that is corrupt, is refused naming the input.
TEST(InferCodecTest, CodedInputsDecodeAndAreChecked) {
  ModelInferRequest r = RawRequest();
  Tensor image;
  image.dtype = DType::kFloat32;
  image.shape = {1, 3, 2, 2};
  const std::string raw = FloatBytes(12);
  image.data.resize(raw.size());
  std::memcpy(image.data.data(), raw.data(), raw.size());
  auto fp16 = transport::EncodePayload(image, "fp16+zstd");
  ASSERT_TRUE(fp16.ok());
  (*r.mutable_inputs(0)->mutable_parameters())["seam_codec"].set_string_param("fp16+zstd");
  *r.mutable_raw_input_contents(0) = *fp16;
  auto decoded = DecodeInferRequest(r, Metadata());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->inputs.at("image").BitwiseEquals(image));  // small integers: exact in fp16

  ModelInferRequest wrong_shape = r;
  wrong_shape.mutable_inputs(0)->set_shape(3, 1);
  wrong_shape.mutable_inputs(0)->set_shape(2, 4);
  auto refused = DecodeInferRequest(wrong_shape, Metadata());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("input 'image'"), std::string::npos)
      << refused.status().message();

  ModelInferRequest corrupt = r;
  corrupt.mutable_raw_input_contents(0)->resize(10);
  auto broken = DecodeInferRequest(corrupt, Metadata());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);  // the client's data is bad
  EXPECT_NE(broken.status().message().find("input 'image' (codec fp16+zstd)"), std::string::npos)
      << broken.status().message();

  // A few bytes claiming a huge tensor are refused before anything is allocated.
  ModelInferRequest huge = r;
  huge.mutable_inputs(0)->set_shape(0, int64_t{1} << 30);
  *huge.mutable_raw_input_contents(0) = fp16->substr(0, 40);
  auto bomb = DecodeInferRequest(huge, Metadata(1 << 30));
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.status().message().find("bytes cannot hold shape"), std::string::npos)
      << bomb.status().message();

  ModelInferRequest unknown = r;
  (*unknown.mutable_inputs(0)->mutable_parameters())["seam_codec"].set_string_param("gzip");
  EXPECT_FALSE(DecodeInferRequest(unknown, Metadata()).ok());
}

TEST(InferCodecTest, RequestedOutputsAreEncodedWithTheirCodec) {
  ModelInferRequest r = RawRequest();
  auto* out = r.add_outputs();
  out->set_name("probs");
  (*out->mutable_parameters())["seam_codec"].set_string_param("fp16");
  auto decoded = DecodeInferRequest(r, Metadata());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->output_codecs.at("probs"), "fp16");
  Tensor probs;
  probs.dtype = DType::kFloat32;
  probs.shape = {1, 4};
  const std::string raw = FloatBytes(4, 1);
  probs.data.resize(raw.size());
  std::memcpy(probs.data.data(), raw.data(), raw.size());
  inference::ModelInferResponse response;
  ASSERT_TRUE(
      EncodeInferOutputs({{"probs", probs}}, decoded->outputs, &response, decoded->output_codecs)
          .ok());
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).parameters().at("seam_codec").string_param(), "fp16");
  auto back = transport::DecodePayload(response.raw_output_contents(0), "fp16", DType::kFloat32,
                                       {1, 4}, "probs");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->BitwiseEquals(probs));

  ModelInferRequest bad = RawRequest();
  auto* bad_out = bad.add_outputs();
  bad_out->set_name("probs");
  (*bad_out->mutable_parameters())["seam_codec"].set_string_param("fp17");
  auto refused = DecodeInferRequest(bad, Metadata());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("requested output 'probs'"), std::string::npos);
}

// A tier that forwards a coded tensor keeps its bytes as they arrived: decoding the request keeps
// the input coded when asked, and writing it into the next request or an answer in the same
// codec moves those bytes untouched; a different codec asked for is re-encoded.
TEST(InferCodecTest, KeptCodedTensorsPassThroughBitwise) {
  Tensor image;
  image.dtype = DType::kFloat32;
  image.shape = {1, 3, 2, 2};
  const std::string raw = FloatBytes(12, 0.25f);
  image.data.resize(raw.size());
  std::memcpy(image.data.data(), raw.data(), raw.size());
  ModelInferRequest r;
  r.set_model_name("m");
  ASSERT_TRUE(AddInput("image", image, "fp16+zstd", &r).ok());
  Tensor mask{DType::kBool, {1, 2}, {std::byte{1}, std::byte{0}}};
  ASSERT_TRUE(AddInput("mask", mask, "", &r).ok());
  const std::string sent = r.raw_input_contents(0);

  std::vector<std::pair<std::string, std::string>> asked;
  auto decoded = DecodeInferRequest(r, Metadata(), [&](const std::string& n, const std::string& c) {
    asked.emplace_back(n, c);
    return true;
  });
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  // Only the coded input is offered; the plain one is decoded as always.
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], std::make_pair(std::string("image"), std::string("fp16+zstd")));
  ASSERT_TRUE(decoded->coded.contains("image"));
  EXPECT_FALSE(decoded->inputs.contains("image"));
  EXPECT_TRUE(decoded->inputs.at("mask").BitwiseEquals(mask));
  EXPECT_EQ(decoded->coded.at("image").bytes, sent);
  EXPECT_EQ(decoded->coded.at("image").shape, image.shape);

  // Forwarded up: the next request carries the very bytes that arrived.
  ModelInferRequest next;
  CodedTensor copy = decoded->coded.at("image");
  EXPECT_EQ(AddCodedInput("image", std::move(copy), &next), sent.size());
  EXPECT_EQ(next.raw_input_contents(0), sent);
  EXPECT_EQ(next.inputs(0).parameters().at("seam_codec").string_param(), "fp16+zstd");

  // Answered down in the same codec: moved untouched; in another codec: re-encoded.
  inference::ModelInferResponse same, other;
  CodedMap coded = decoded->coded;
  ASSERT_TRUE(EncodeInferOutputs({}, {"image"}, &same, {{"image", "fp16+zstd"}}, &coded).ok());
  EXPECT_EQ(same.raw_output_contents(0), sent);
  coded = decoded->coded;
  ASSERT_TRUE(EncodeInferOutputs({}, {"image"}, &other, {}, &coded).ok());
  auto plain = DecodeInferResponse(other, "cloud");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto direct = transport::DecodePayload(sent, "fp16+zstd", DType::kFloat32, {1, 3, 2, 2}, "x");
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(plain->outputs.at("image").BitwiseEquals(*direct));
}

// The client side: what AddInput and AddRequestedOutput build, a server decodes; what the server
// encodes, DecodeInferResponse gives back; a malformed answer is the peer's fault (DATA_LOSS).
TEST(InferCodecTest, ClientAndServerSidesRoundTrip) {
  Tensor probs{DType::kFloat32, {1, 4}, {}};
  const std::string raw = FloatBytes(4, 2);
  probs.data.resize(raw.size());
  std::memcpy(probs.data.data(), raw.data(), raw.size());
  ModelInferRequest r = RawRequest();
  AddRequestedOutput("probs", "int8", &r);
  auto decoded = DecodeInferRequest(r, Metadata());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  inference::ModelInferResponse response;
  ASSERT_TRUE(
      EncodeInferOutputs({{"probs", probs}}, decoded->outputs, &response, decoded->output_codecs)
          .ok());
  auto back = DecodeInferResponse(response, "edge");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->payload_bytes, response.raw_output_contents(0).size());
  EXPECT_EQ(back->outputs.at("probs").shape, probs.shape);
  // Kept coded on request, the answer's bytes are not decoded.
  auto kept = DecodeInferResponse(response, "edge", [](auto&, auto&) { return true; });
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->coded.at("probs").bytes, response.raw_output_contents(0));

  response.mutable_raw_output_contents(0)->resize(1);
  auto truncated = DecodeInferResponse(response, "edge");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("edge output 'probs'"), std::string::npos);
  response.add_raw_output_contents("extra");
  EXPECT_EQ(DecodeInferResponse(response, "edge").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace seam::oip
