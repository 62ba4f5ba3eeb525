#include "server_process.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "runtime/segment_chain.h"

namespace seam::testing {
namespace fs = std::filesystem;

namespace {

// waitpid with a deadline; the status, or nullopt on timeout.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::vector<std::string>& args,
                                                    std::string* error,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& stderr_file) {
  std::vector<std::string> argv_strings = {SEAM_BINARY, "serve", "--host", "127.0.0.1"};
  if (std::find(args.begin(), args.end(), "--grpc-port") == args.end()) {
    argv_strings.insert(argv_strings.end(), {"--grpc-port", "0"});  // ARGS may pick one
  }
  bool http = true;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--http-port" && args[i + 1] == "-1") http = false;
  }
  if (std::find(args.begin(), args.end(), "--http-port") == args.end()) {
    argv_strings.insert(argv_strings.end(), {"--http-port", "0"});
  }
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  int stderr_fd = -1;
  if (!stderr_file.empty()) {
    stderr_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (stderr_fd < 0) {
      *error = stderr_file + ": " + std::strerror(errno);
      ::close(fds[0]);
      ::close(fds[1]);
      return nullptr;
    }
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the test died before prctl took effect
    ::dup2(fds[1], STDOUT_FILENO);
    if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (stderr_fd >= 0) ::close(stderr_fd);
  if (pid < 0) {
    ::close(fds[0]);
    *error = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->pid_ = pid;
  server->stdout_fd_ = fds[0];

  // Read stdout until the "grpc listening on 127.0.0.1:PORT" line (and the HTTP one).
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto lines = [&out] { return std::count(out.begin(), out.end(), '\n'); };
  while (lines() < (http ? 2 : 1)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{server->stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      *error = "seam serve printed no port within " + std::to_string(timeout.count()) + " ms";
      return nullptr;  // the destructor kills it
    }
    char buffer[256];
    const ssize_t n = ::read(server->stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      const auto status = WaitFor(pid, std::chrono::seconds(5));
      *error = "seam serve exited before listening (status " +
               std::to_string(status ? DecodeWaitStatus(*status) : -1) + "); output: " + out;
      if (status) server->pid_ = -1;
      return nullptr;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  const std::string prefix = "grpc listening on 127.0.0.1:";
  if (out.rfind(prefix, 0) != 0) {
    *error = "unexpected first line from seam serve: " + out;
    return nullptr;
  }
  server->port_ = std::stoi(out.substr(prefix.size()));
  if (http) {
    const std::string http_prefix = "http listening on 127.0.0.1:";
    const size_t line = out.find('\n') + 1;
    if (out.compare(line, http_prefix.size(), http_prefix) != 0) {
      *error = "unexpected second line from seam serve: " + out.substr(line);
      return nullptr;
    }
    server->http_port_ = std::stoi(out.substr(line + http_prefix.size()));
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

int ServerProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto status = WaitFor(pid_, timeout);
  if (!status) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return DecodeWaitStatus(*status);
}

std::unique_ptr<inference::GRPCInferenceService::Stub> ServerProcess::NewStub() const {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

TestRepository::TestRepository() {
  static std::atomic<int> counter{0};
  root_ = (fs::temp_directory_path() /
           ("seam_server_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
              .string();
  fs::remove_all(root_);
  fs::create_directories(root_);
}

TestRepository::~TestRepository() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

void TestRepository::AddVersion(const std::string& model, int version,
                                const std::string& model_file) {
  std::ifstream in(model_file, std::ios::binary);
  AddVersionBytes(
      model, version,
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

void TestRepository::AddVersionBytes(const std::string& model, int version,
                                     const std::string& bytes) {
  const fs::path dir = fs::path(root_) / model / std::to_string(version);
  fs::create_directories(dir);
  const fs::path tmp = dir / "model.onnx.tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << bytes;
  fs::rename(tmp, dir / "model.onnx");
}

void TestRepository::WriteConfig(const std::string& model, const std::string& json) {
  fs::create_directories(fs::path(root_) / model);
  const fs::path path = fs::path(root_) / model / "config.json";
  std::ofstream(path.string() + ".tmp", std::ios::trunc) << json;
  fs::rename(path.string() + ".tmp", path);
}

std::string BundledModelPath(const std::string& name) {
  return (fs::path(SEAM_SOURCE_DIR) / "models" / name).string();
}

inference::ModelInferRequest RawInferRequest(const std::string& model, const TensorMap& inputs,
                                             const std::string& id) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  request.set_id(id);
  for (const auto& [name, tensor] : inputs) {
    auto* in = request.add_inputs();
    in->set_name(name);
    in->set_datatype(DTypeName(tensor.dtype));
    for (int64_t d : tensor.shape) in->add_shape(d);
    request.add_raw_input_contents(reinterpret_cast<const char*>(tensor.data.data()),
                                   tensor.data.size());
  }
  return request;
}

TensorMap ResponseTensors(const inference::ModelInferResponse& response) {
  TensorMap tensors;
  for (int i = 0; i < response.outputs_size() && i < response.raw_output_contents_size(); ++i) {
    const auto& out = response.outputs(i);
    Tensor t;
    t.dtype = DTypeFromName(out.datatype()).value_or(DType::kFloat32);
    t.shape.assign(out.shape().begin(), out.shape().end());
    const std::string& raw = response.raw_output_contents(i);
    t.data.resize(raw.size());
    std::memcpy(t.data.data(), raw.data(), raw.size());
    tensors[out.name()] = std::move(t);
  }
  return tensors;
}

Reference::Reference(const std::string& model_file) {
  auto session = runtime::Session::Open(model_file, runtime::SessionOptions{});
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (session.ok()) session_ = std::move(session).value();
}

TensorMap Reference::Inputs(uint64_t seed, int64_t batch) const {
  TensorMap inputs;
  for (const auto& spec : session_->inputs()) {
    inputs[spec.name] = runtime::RandomTensor(spec, seed, batch);
  }
  return inputs;
}

TensorMap Reference::Run(const TensorMap& inputs) const {
  auto outputs = session_->Run(inputs);
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  return outputs.ok() ? std::move(outputs).value() : TensorMap{};
}

::testing::AssertionResult BitwiseEqual(const TensorMap& expected, const TensorMap& got) {
  if (expected.size() != got.size()) {
    return ::testing::AssertionFailure()
           << expected.size() << " outputs expected, got " << got.size();
  }
  for (const auto& [name, tensor] : expected) {
    auto it = got.find(name);
    if (it == got.end()) return ::testing::AssertionFailure() << "no output '" << name << "'";
    if (!tensor.BitwiseEquals(it->second)) {
      return ::testing::AssertionFailure() << "output '" << name << "' differs";
    }
  }
  return ::testing::AssertionSuccess();
}

grpc::Status LoadModel(Stub& stub, const std::string& model) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  return stub.RepositoryModelLoad(&context, request, &response);
}

grpc::Status UnloadModel(Stub& stub, const std::string& model) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  inference::RepositoryModelUnloadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelUnloadResponse response;
  return stub.RepositoryModelUnload(&context, request, &response);
}

std::vector<std::string> ServedVersions(Stub& stub, const std::string& model) {
  grpc::ClientContext context;
  inference::ModelMetadataRequest request;
  request.set_name(model);
  inference::ModelMetadataResponse response;
  if (!stub.ModelMetadata(&context, request, &response).ok()) return {};
  return {response.versions().begin(), response.versions().end()};
}

std::map<std::string, std::pair<std::string, std::string>> IndexOf(Stub& stub,
                                                                   const std::string& model) {
  grpc::ClientContext context;
  inference::RepositoryIndexResponse response;
  std::map<std::string, std::pair<std::string, std::string>> entries;
  if (!stub.RepositoryIndex(&context, {}, &response).ok()) return entries;
  for (const auto& m : response.models()) {
    if (m.name() == model) entries[m.version()] = {m.state(), m.reason()};
  }
  return entries;
}

}  // namespace seam::testing
