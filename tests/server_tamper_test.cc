// A server's model files changed behind its back, and models encrypted at rest:
//   - a restart with a tampered newest version serves the newest good one, and says why;
//   - a serving version whose file is changed in place (its modification time put back, so no
//     scan can notice) keeps serving what it verified when it loaded, and an explicit load reports
//     the change (DATA_LOSS), in the index and the metrics; restored, it reports nothing;
//   - a sealed model (seam seal) loads only with its key, bitwise the plain model's answers; a
//     changed byte or a missing key is refused, and the version before keeps serving.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/file_util.h"
#include "common/model_seal.h"
#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using testing::BitwiseEqual;
using testing::ServerProcess;
using testing::TestRepository;

class ServerTamperTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--repo", repo_.root(), "--log-level", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    auto server = ServerProcess::Start(args, &error);
    EXPECT_TRUE(server) << error;
    if (server) stub_ = server->NewStub();
    return server;
  }
  grpc::Status Load(const std::string& model) { return testing::LoadModel(*stub_, model); }
  std::vector<std::string> Versions(const std::string& model) {
    return testing::ServedVersions(*stub_, model);
  }
  std::map<std::string, std::pair<std::string, std::string>> Index(const std::string& model) {
    return testing::IndexOf(*stub_, model);
  }
  // The model answers, bitwise the plain model's answer.
  void ExpectAnswers(const std::string& model, const std::string& version = "") {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    auto request = testing::RawInferRequest(model, inputs_);
    request.set_model_version(version);
    const grpc::Status status = stub_->ModelInfer(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(BitwiseEqual(expected_, testing::ResponseTensors(response)));
  }
  // The value of seam_model_load_failures_total for one version and code, 0 if absent.
  double LoadFailures(const ServerProcess& server, const std::string& model,
                      const std::string& version, const std::string& code) {
    const std::string page = testing::Curl(server.http_url() + "/metrics").body;
    const std::string series = "seam_model_load_failures_total{code=\"" + code + "\",model=\"" +
                               model + "\",version=\"" + version + "\"} ";
    const size_t at = page.find(series);
    return at == std::string::npos ? 0 : std::stod(page.substr(at + series.size()));
  }
  std::string VersionFile(const std::string& model, int version) const {
    return repo_.root() + "/" + model + "/" + std::to_string(version) + "/model.onnx";
  }
  // Flips one byte in place and puts the file's times back: no stat-based poll can notice.
  static void FlipByteKeepingTimes(const std::string& path, size_t offset) {
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    file.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&c, 1);
    file.close();
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
  std::string Sha256Of(const std::string& path) { return Sha256Hex(*ReadFile(path)); }

  TestRepository repo_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  const std::string cnn_file_ = testing::BundledModelPath("cnn_chain.onnx");
  testing::Reference cnn_{cnn_file_};
  const TensorMap inputs_ = cnn_.Inputs(5, 1);
  const TensorMap expected_ = cnn_.Run(inputs_);
};

TEST_F(ServerTamperTest, ARestartWithATamperedNewestVersionServesTheNewestGoodOne) {
  const std::string sha = Sha256Of(cnn_file_);
  for (int v : {1, 2, 3}) repo_.AddVersion("cnn", v, cnn_file_);
  repo_.WriteConfig("cnn", R"({"versions": {"2": {"sha256": ")" + sha + R"("}, "3": {"sha256": ")" +
                               sha + R"("}}})");
  FlipByteKeepingTimes(VersionFile("cnn", 3), 100);
  auto server = Start();
  ASSERT_TRUE(server);
  // The policy (latest 1) would serve only 3: 3 is refused, 2 serves in its place.
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  ExpectAnswers("cnn");
  auto index = Index("cnn");
  EXPECT_EQ(index["3"].first, "UNAVAILABLE");
  EXPECT_NE(index["3"].second.find("sha256 is"), std::string::npos) << index["3"].second;
  EXPECT_EQ(index["2"].first, "READY");
  EXPECT_EQ(LoadFailures(*server, "cnn", "3", "DATA_LOSS"), 1);

  // An explicit load retries 3, reports it refused again, and 2 keeps serving.
  const grpc::Status status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(status.error_message().find("version 3: " + VersionFile("cnn", 3) + ": sha256 is"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("(still serving version 2)"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(LoadFailures(*server, "cnn", "3", "DATA_LOSS"), 2);
  ExpectAnswers("cnn");

  // 3 made good again (a new file: its fingerprint changes): it loads and takes over.
  repo_.AddVersion("cnn", 3, cnn_file_);
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServerTamperTest, AVersionChangedInPlaceKeepsServingWhatItVerifiedAndIsReported) {
  repo_.AddVersion("cnn", 1, cnn_file_);
  auto server = Start();
  ASSERT_TRUE(server);
  ASSERT_TRUE(Load("cnn").ok());
  // Same size, inode and times: no scan can tell; the server keeps serving what it loaded.
  FlipByteKeepingTimes(VersionFile("cnn", 1), 100);
  ExpectAnswers("cnn");
  // An explicit load reads the files again: the change is reported, the version serves on.
  const grpc::Status status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(status.error_message().find(VersionFile("cnn", 1) + " changed since it was loaded"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("(still serving version 1)"), std::string::npos)
      << status.error_message();
  auto index = Index("cnn");
  EXPECT_EQ(index["1"].first, "READY");
  EXPECT_NE(index["1"].second.find("changed since it was loaded"), std::string::npos);
  EXPECT_EQ(LoadFailures(*server, "cnn", "1", "DATA_LOSS"), 1);
  ExpectAnswers("cnn");
  // Put back: verified again, nothing to report.
  FlipByteKeepingTimes(VersionFile("cnn", 1), 100);
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Index("cnn")["1"].second, "");
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServerTamperTest, SealedModelsLoadOnlyWithTheirKeyAndRefuseAnyChange) {
  const std::string dir = ::testing::TempDir() + "seam-tamper-keys-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  auto key = ModelKeys::FromBytes(std::string(32, '\x2a'), "test key");
  auto other = ModelKeys::FromBytes(std::string(32, '\x17'), "other key");
  ASSERT_TRUE(key.ok() && other.ok());
  std::ofstream(dir + "/key") << std::string(32, '\x2a');
  std::ofstream(dir + "/other") << std::string(32, '\x17');
  const std::string plain = *ReadFile(cnn_file_);
  auto sealed = Seal(plain, *key);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->find(plain.substr(0, 64)), std::string::npos);  // no plaintext on disk
  repo_.AddVersionBytes("cnn", 1, *sealed);

  {  // Without a key: refused, and the message names the key id it needs.
    auto server = Start();
    ASSERT_TRUE(server);
    auto index = Index("cnn");
    EXPECT_EQ(index["1"].first, "UNAVAILABLE");
    EXPECT_NE(index["1"].second.find("is encrypted (key id " + key->id + ")"), std::string::npos)
        << index["1"].second;
    EXPECT_EQ(server->Stop(), 0);
  }
  {  // With another key only: refused, naming both ids.
    auto server = Start({"--model-key", "file:" + dir + "/other"});
    ASSERT_TRUE(server);
    const std::string reason = Index("cnn")["1"].second;
    EXPECT_NE(reason.find("encrypted with key id " + key->id +
                          ", which none of the keys given has (" + other->id + ")"),
              std::string::npos)
        << reason;
    EXPECT_EQ(server->Stop(), 0);
  }
  // With its key (among others): served, bitwise the plain model.
  auto server =
      Start({"--model-key", "file:" + dir + "/other", "--model-key", "file:" + dir + "/key"});
  ASSERT_TRUE(server);
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"1"}));
  ExpectAnswers("cnn");
  // Version 2, one ciphertext byte changed: refused as tampered; 1 keeps serving.
  std::string changed = *sealed;
  changed[changed.size() / 2] ^= 0x40;
  repo_.AddVersionBytes("cnn", 2, changed);
  grpc::Status status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(status.error_message().find("failed authentication with key " + key->id),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"1"}));
  ExpectAnswers("cnn");
  // Version 2 cut short by its tag: refused the same way.
  repo_.AddVersionBytes("cnn", 2, sealed->substr(0, sealed->size() - 16));
  status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
  ExpectAnswers("cnn");
  // A plain model in place of a sealed one: refused, as a server with keys opens only sealed ones.
  repo_.AddVersionBytes("cnn", 2, plain);
  status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
  EXPECT_NE(status.error_message().find("is not encrypted, and models are opened here only sealed"),
            std::string::npos)
      << status.error_message();
  ExpectAnswers("cnn");
  // Sealed properly: 2 serves.
  auto resealed = Seal(plain, *key);
  ASSERT_TRUE(resealed.ok());
  repo_.AddVersionBytes("cnn", 2, *resealed);
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  ExpectAnswers("cnn");
  EXPECT_EQ(server->Stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seam
