// Test support for the inference server: a `seam serve` child process on 127.0.0.1 with an
// ephemeral port, a model repository in a temporary directory, and an in-process reference.
//
// A server is always stopped: the ServerProcess destructor kills it (SIGKILL) if the test did not
// stop it (an assertion failed), and the child is also killed by the kernel if the test process
// itself dies (PR_SET_PDEATHSIG).
#pragma once

#include <gtest/gtest.h>
#include <inference.grpc.pb.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "runtime/session.h"

namespace seam::testing {

class ServerProcess {
 public:
  // Starts `seam serve --host 127.0.0.1 --grpc-port 0 --http-port 0 ARGS...` and reads the ports
  // from its "grpc listening on" and "http listening on" lines (ARGS may give a --grpc-port, or
  // turn HTTP off with --http-port -1). nullptr (and *error) if it did not print them within
  // `timeout`.
  // With `stderr_file`, the server's logs go to that file (truncated) instead of the test's.
  static std::unique_ptr<ServerProcess> Start(
      const std::vector<std::string>& args, std::string* error,
      std::chrono::milliseconds timeout = std::chrono::seconds(20),
      const std::string& stderr_file = "");
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The HTTP port, -1 when HTTP is off.
  int http_port() const { return http_port_; }
  // "http://127.0.0.1:PORT" (https:// with `tls`), for curl.
  std::string http_url(bool tls = false) const {
    return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(http_port_);
  }
  pid_t pid() const { return pid_; }

  // Sends SIGTERM and waits up to `timeout`. Returns the exit code, 128 + the signal that ended
  // it, or -1 if it had to be killed after the timeout.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub() const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  int http_port_ = -1;
};

// A model repository under the system's temporary directory, removed by the destructor.
class TestRepository {
 public:
  TestRepository();
  ~TestRepository();
  const std::string& root() const { return root_; }
  // REPO/MODEL/VERSION/model.onnx: a copy of `model_file`, or `bytes`. Written through a rename,
  // as a deployment should, so a scan never sees half a file.
  void AddVersion(const std::string& model, int version, const std::string& model_file);
  void AddVersionBytes(const std::string& model, int version, const std::string& bytes);
  void WriteConfig(const std::string& model, const std::string& json);

 private:
  std::string root_;
};

// models/<name> in the source tree.
std::string BundledModelPath(const std::string& name);

// A ModelInferRequest carrying `inputs` as raw_input_contents.
inference::ModelInferRequest RawInferRequest(const std::string& model, const TensorMap& inputs,
                                             const std::string& id = "");

// The outputs of a response by name (raw_output_contents), for bitwise comparison.
TensorMap ResponseTensors(const inference::ModelInferResponse& response);

// The in-process reference: the model in ONNX Runtime with the options of a served instance.
class Reference {
 public:
  explicit Reference(const std::string& model_file);
  // Deterministic inputs (runtime::RandomTensor) with `batch` for dynamic dimensions.
  TensorMap Inputs(uint64_t seed, int64_t batch) const;
  TensorMap Run(const TensorMap& inputs) const;

 private:
  std::unique_ptr<runtime::Session> session_;
};

// Same names, dtypes, shapes and bytes.
::testing::AssertionResult BitwiseEqual(const TensorMap& expected, const TensorMap& got);

// Repository control and state as a client sees them.
using Stub = inference::GRPCInferenceService::Stub;
grpc::Status LoadModel(Stub& stub, const std::string& model);    // RepositoryModelLoad
grpc::Status UnloadModel(Stub& stub, const std::string& model);  // RepositoryModelUnload
// The versions ModelMetadata lists (empty when it fails).
std::vector<std::string> ServedVersions(Stub& stub, const std::string& model);
// version -> (state, reason) for `model` in RepositoryIndex.
std::map<std::string, std::pair<std::string, std::string>> IndexOf(Stub& stub,
                                                                   const std::string& model);

}  // namespace seam::testing
