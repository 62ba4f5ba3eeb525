// Status <-> gRPC status, both directions; stream errors carry their code as a code.
#include "oip/grpc_status.h"

#include <gtest/gtest.h>

namespace seam::oip {
namespace {

TEST(GrpcStatusTest, EverySeamCodeSurvivesTheRoundTrip) {
  for (StatusCode code :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kFailedPrecondition,
        StatusCode::kUnimplemented, StatusCode::kDataLoss, StatusCode::kUnavailable,
        StatusCode::kInternal, StatusCode::kUnauthenticated, StatusCode::kDeadlineExceeded,
        StatusCode::kCancelled}) {
    const Status original(code, "input 'x': wrong");
    const grpc::Status wire = ToGrpcStatus(original);
    EXPECT_EQ(wire.error_message(), "input 'x': wrong");
    const Status back = FromGrpcStatus(wire, "edge");
    EXPECT_EQ(back.code(), code) << StatusCodeName(code);
    EXPECT_EQ(back.message(), "edge: input 'x': wrong");

    inference::ModelStreamInferResponse answer;
    SetStreamError(original, "r1", "m", "2", &answer);
    EXPECT_EQ(answer.error_message(), original.ToString());  // for people and plain clients
    EXPECT_EQ(answer.infer_response().id(), "r1");
    const Status streamed = StreamError(answer, "cloud");
    EXPECT_EQ(streamed.code(), code) << StatusCodeName(code);
    EXPECT_EQ(streamed.message(), "cloud: input 'x': wrong");
  }
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "edge").ok());
}

TEST(GrpcStatusTest, TransportFailuresAreUnavailable) {
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x"), "edge").code(),
            StatusCode::kUnavailable);
  // A bound reached (a message too large, a full queue) keeps its code both ways.
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "x"), "edge").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "x"), "edge").code(),
            StatusCode::kAborted);
  EXPECT_EQ(ToGrpcStatus(Aborted("x")).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(ResourceExhausted("full")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Running out of time is not a transport failure: it keeps its code both ways.
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "x"), "e").code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::CANCELLED, "x"), "e").code(),
            StatusCode::kCancelled);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "x"), "e").code(),
            StatusCode::kUnauthenticated);
}

// The text is never parsed for a code: a message that merely looks like one stays INTERNAL when
// no code travels with it (another OIP server's error), and the code parameter wins over text.
TEST(GrpcStatusTest, StreamCodesAreNotReadFromText) {
  inference::ModelStreamInferResponse foreign;
  foreign.set_error_message("NOT_FOUND: looks like a code");
  const Status s = StreamError(foreign, "edge");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "edge: NOT_FOUND: looks like a code");

  inference::ModelStreamInferResponse coded;
  SetStreamError(Unavailable("draining"), "r", "m", "1", &coded);
  coded.set_error_message("INVALID_ARGUMENT: text says otherwise");
  EXPECT_EQ(StreamError(coded, "edge").code(), StatusCode::kUnavailable);

  EXPECT_TRUE(StreamError(inference::ModelStreamInferResponse(), "edge").ok());
}

}  // namespace
}  // namespace seam::oip
