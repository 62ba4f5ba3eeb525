// Triton parity: the same repository with a config.pbtxt and with the equivalent config.json
// behaves the same (the batch limit enforced with the same answer, the same instance count, the
// same metadata), and a field seam does not support is reported, naming it, in the index.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server_process.h"

namespace seam {
namespace {

using testing::ServerProcess;
using testing::TestRepository;

struct Observed {
  std::string metadata;      // ModelMetadataResponse, as text
  grpc::StatusCode too_big;  // batch 9 with max_batch_size 8
  std::string too_big_message;
  bool batch_of_8_ok = false;
  std::string load_line;  // the model_loaded log line
};

Observed Observe(const std::string& config_file, const std::string& config_text) {
  TestRepository repo;
  const std::string model = testing::BundledModelPath("cnn_chain.onnx");
  repo.AddVersion("cnn", 1, model);
  std::ofstream(repo.root() + "/cnn/" + config_file) << config_text;
  const std::string log = repo.root() + "/../seam-triton-" + config_file + ".log";
  std::string error;
  auto server = ServerProcess::Start({"--repo", repo.root(), "--log-level", "info"}, &error,
                                     std::chrono::seconds(20), log);
  Observed seen;
  EXPECT_TRUE(server) << error;
  if (!server) return seen;
  auto stub = server->NewStub();
  {
    grpc::ClientContext context;
    inference::ModelMetadataRequest request;
    request.set_name("cnn");
    inference::ModelMetadataResponse response;
    EXPECT_TRUE(stub->ModelMetadata(&context, request, &response).ok());
    seen.metadata = response.ShortDebugString();
  }
  testing::Reference reference(model);
  for (int batch : {8, 9}) {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    const grpc::Status status = stub->ModelInfer(
        &context, testing::RawInferRequest("cnn", reference.Inputs(1, batch)), &response);
    if (batch == 8) seen.batch_of_8_ok = status.ok();
    if (batch == 9) {
      seen.too_big = status.error_code();
      seen.too_big_message = status.error_message();
    }
  }
  EXPECT_EQ(server->Stop(), 0);
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("event=model_loaded") != std::string::npos) {
      seen.load_line = line.substr(line.find("event="));
      seen.load_line = seen.load_line.substr(0, seen.load_line.find(" load_ms="));
    }
  }
  std::remove(log.c_str());
  return seen;
}

TEST(ServerTritonConfigTest, APbtxtAndItsJsonEquivalentServeTheSame) {
  const Observed json = Observe("config.json", R"({"max_batch_size": 8, "instance_count": 2,
      "dynamic_batching": {"preferred_batch_size": [4], "max_queue_delay_us": 100}})");
  const Observed pbtxt = Observe("config.pbtxt", R"(
    max_batch_size: 8
    instance_group [ { count: 2 kind: KIND_CPU } ]
    dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100 })");
  EXPECT_TRUE(json.batch_of_8_ok);
  EXPECT_TRUE(pbtxt.batch_of_8_ok);
  EXPECT_EQ(json.too_big, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(pbtxt.too_big, json.too_big);
  EXPECT_EQ(pbtxt.too_big_message, json.too_big_message);
  EXPECT_NE(json.too_big_message.find("8"), std::string::npos) << json.too_big_message;
  EXPECT_EQ(json.load_line, "event=model_loaded model=cnn version=1 instances=2");
  EXPECT_EQ(pbtxt.load_line, json.load_line);
  EXPECT_EQ(pbtxt.metadata, json.metadata);
}

TEST(ServerTritonConfigTest, AnUnsupportedFieldOrTwoConfigsAreReportedInTheIndex) {
  TestRepository repo;
  const std::string model = testing::BundledModelPath("cnn_chain.onnx");
  repo.AddVersion("seq", 1, model);
  std::ofstream(repo.root() + "/seq/config.pbtxt")
      << "max_batch_size: 8\nsequence_batching { max_sequence_idle_microseconds: 5000000 }\n";
  repo.AddVersion("both", 1, model);
  repo.WriteConfig("both", "{}");
  std::ofstream(repo.root() + "/both/config.pbtxt") << "max_batch_size: 8\n";
  std::string error;
  auto server = ServerProcess::Start({"--repo", repo.root(), "--log-level", "off"}, &error);
  ASSERT_TRUE(server) << error;
  auto stub = server->NewStub();
  grpc::ClientContext context;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub->RepositoryIndex(&context, {}, &index).ok());
  std::map<std::string, std::string> reasons;
  for (const auto& m : index.models()) reasons[m.name()] = m.reason();
  EXPECT_EQ(reasons["seq"].rfind(repo.root() + "/seq/config.pbtxt:2:", 0), 0u) << reasons["seq"];
  EXPECT_NE(reasons["seq"].find("'sequence_batching': a field of Triton's model configuration "
                                "that seam does not support"),
            std::string::npos)
      << reasons["seq"];
  EXPECT_EQ(reasons["both"], repo.root() +
                                 "/both: both config.json and config.pbtxt; keep one (they say "
                                 "the same things)");
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace seam
