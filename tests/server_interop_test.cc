// Interoperability with a client seam did not write: tests/interop/oip_client.py generates
// Python stubs from proto/inference.proto with Debian's grpc_tools, and checks live, ready,
// metadata and inference against `seam serve`, the outputs byte for byte against ONNX Runtime
// run here in process. Skipped, saying why, when python3-grpcio / python3-grpc-tools are missing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "server_process.h"

namespace seam {
namespace {

using testing::Reference;
using testing::ServerProcess;
using testing::TestRepository;

void WriteBytes(const std::string& path, const Tensor& tensor) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(tensor.data.data()),
             static_cast<std::streamsize>(tensor.data.size()));
}

TEST(ServerInteropTest, PythonGrpcClientFromTheProto) {
  TestRepository repo;
  const std::string model = testing::BundledModelPath("cnn_chain.onnx");
  repo.AddVersion("cnn", 1, model);
  repo.WriteConfig("cnn", R"({"max_batch_size": 4})");
  std::string error;
  auto server = ServerProcess::Start({"--repo", repo.root(), "--log-level", "warn"}, &error);
  ASSERT_TRUE(server) << error;

  Reference cnn(model);
  const TensorMap inputs = cnn.Inputs(42, 2);
  const TensorMap outputs = cnn.Run(inputs);
  const std::string input_file = repo.root() + "/input.bin";
  const std::string expected_file = repo.root() + "/expected.bin";
  WriteBytes(input_file, inputs.at("image"));
  WriteBytes(expected_file, outputs.at("probs"));

  const std::string command = std::string("/usr/bin/python3 ") + SEAM_SOURCE_DIR +
                              "/tests/interop/oip_client.py --address " + server->address() +
                              " --proto " + SEAM_SOURCE_DIR + "/proto/inference.proto" +
                              " --model cnn --input-name image --shape 2,3,32,32 --input-file " +
                              input_file + " --output-name probs --expected-file " + expected_file +
                              " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 77) GTEST_SKIP() << output;
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("interop OK"), std::string::npos) << output;
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace seam
