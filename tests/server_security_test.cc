// TLS and bearer tokens on both ports of `seam serve`, with certificates the test makes with the
// openssl command: a gRPC client trusting the certificate succeeds and a plaintext one fails;
// curl --cacert works over HTTPS; with a client CA, a client without a certificate (or with one
// the CA did not sign) is refused; tokens missing, wrong and right (UNAUTHENTICATED / 401, health
// probes open); unreadable or mismatched credential files are one error line and exit 1.
// Skipped when curl or openssl is not installed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using nlohmann::json;
using testing::Curl;
using testing::ReadFile;
using testing::ServerProcess;
using testing::TestRepository;
using Stub = inference::GRPCInferenceService::Stub;

struct ClientCredentials {
  std::string root;       // PEM of the CA (here: the server's self-signed certificate) to trust
  std::string key, cert;  // optional client certificate
};

std::unique_ptr<Stub> TlsStub(const ServerProcess& server, const ClientCredentials& c) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = c.root;
  ssl.pem_private_key = c.key;
  ssl.pem_cert_chain = c.cert;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateCustomChannel(server.address(), grpc::SslCredentials(ssl), args));
}

// ServerLive with a short deadline and optional metadata.
grpc::Status Live(Stub& stub, const std::string& authorization = "") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  inference::ServerLiveResponse response;
  return stub.ServerLive(&context, {}, &response);
}

class ServerSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::FindProgram("openssl").empty() || testing::FindProgram("curl").empty()) return;
    dir_ = new TestRepository();  // a temporary directory for the certificates
    certificates_error_ = testing::MakeCertificates(dir_->root());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "openssl or curl is not installed";
    ASSERT_EQ(certificates_error_, "");
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", R"({"max_batch_size": 8})");
  }
  static std::string File(const std::string& name) { return dir_->root() + "/" + name; }
  void StartServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--repo", repo_.root(), "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(args, &error);
    ASSERT_TRUE(server_) << error;
  }
  std::string InferBody() const {
    json data = json::array();
    for (int i = 0; i < 3 * 32 * 32; ++i) data.push_back(0.5);
    return json({{"inputs",
                  {{{"name", "image"},
                    {"datatype", "FP32"},
                    {"shape", {1, 3, 32, 32}},
                    {"data", data}}}}})
        .dump();
  }
  // `seam serve ARGS` that must fail before serving: its exit code and output.
  testing::ProcessResult FailToStart(std::vector<std::string> args) {
    std::vector<std::string> argv = {SEAM_BINARY,   "serve", "--repo",      repo_.root(),
                                     "--grpc-port", "0",     "--http-port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv);
  }

  static inline TestRepository* dir_ = nullptr;
  static inline std::string certificates_error_;
  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerSecurityTest, TlsOnBothPorts) {
  StartServer({"--tls-cert", File("server.pem"), "--tls-key", File("server.key")});
  const ClientCredentials trusting{ReadFile(File("server.pem")), "", ""};
  auto stub = TlsStub(*server_, trusting);
  EXPECT_TRUE(Live(*stub).ok());
  {
    testing::Reference cnn(testing::BundledModelPath("cnn_chain.onnx"));
    const TensorMap inputs = cnn.Inputs(3, 2);
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    ASSERT_TRUE(
        stub->ModelInfer(&context, testing::RawInferRequest("cnn", inputs), &response).ok());
    EXPECT_TRUE(testing::BitwiseEqual(cnn.Run(inputs), testing::ResponseTensors(response)));
  }
  auto plaintext = server_->NewStub();
  EXPECT_EQ(Live(*plaintext).error_code(), grpc::StatusCode::UNAVAILABLE);

  const std::vector<std::string> cacert = {"--cacert", File("server.pem")};
  auto r = Curl(server_->http_url(true) + "/v2/health/ready", cacert);
  EXPECT_EQ(r.status, 200) << r.curl_error;
  r = Curl(server_->http_url(true) + "/v2/models/cnn/infer", cacert, InferBody());
  EXPECT_EQ(r.status, 200) << r.curl_error << r.body;
  // Not trusting the certificate, or not speaking TLS: no answer.
  EXPECT_EQ(Curl(server_->http_url(true) + "/v2/health/ready").curl_exit, 60);
  EXPECT_NE(Curl(server_->http_url(false) + "/v2/health/ready").curl_exit, 0);
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerSecurityTest, MutualTlsRefusesClientsWithoutACertificateTheCaSigned) {
  StartServer({"--tls-cert", File("server.pem"), "--tls-key", File("server.key"), "--tls-client-ca",
               File("ca.pem")});
  const std::string root = ReadFile(File("server.pem"));
  EXPECT_TRUE(
      Live(*TlsStub(*server_, {root, ReadFile(File("client.key")), ReadFile(File("client.pem"))}))
          .ok());
  EXPECT_EQ(Live(*TlsStub(*server_, {root, "", ""})).error_code(), grpc::StatusCode::UNAVAILABLE);
  // A certificate the CA did not sign (the server's own, self-signed).
  EXPECT_EQ(
      Live(*TlsStub(*server_, {root, ReadFile(File("server.key")), ReadFile(File("server.pem"))}))
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);

  const std::string url = server_->http_url(true) + "/v2/health/live";
  auto r = Curl(url, {"--cacert", File("server.pem"), "--cert", File("client.pem"), "--key",
                      File("client.key")});
  EXPECT_EQ(r.status, 200) << r.curl_error;
  EXPECT_NE(Curl(url, {"--cacert", File("server.pem")}).curl_exit, 0);
  EXPECT_NE(Curl(url, {"--cacert", File("server.pem"), "--cert", File("server.pem"), "--key",
                       File("server.key")})
                .curl_exit,
            0);
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerSecurityTest, BearerTokensMissingWrongAndRight) {
  const std::string tokens = File("tokens.txt");
  std::ofstream(tokens) << "# test tokens\nright-token\n\nsecond-token\n";
  StartServer({"--auth-tokens", tokens});
  auto stub = server_->NewStub();
  testing::Reference cnn(testing::BundledModelPath("cnn_chain.onnx"));
  const auto request = testing::RawInferRequest("cnn", cnn.Inputs(1, 1));
  auto infer = [&](const std::string& authorization) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    inference::ModelInferResponse response;
    return stub->ModelInfer(&context, request, &response);
  };
  grpc::Status s = infer("");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "missing bearer token (send 'authorization: Bearer <token>')");
  s = infer("Bearer wrong-token");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid bearer token");
  EXPECT_TRUE(infer("Bearer right-token").ok());
  EXPECT_TRUE(infer("Bearer second-token").ok());
  // Liveness stays open; metadata and streams do not.
  EXPECT_TRUE(Live(*stub).ok());
  {
    grpc::ClientContext context;
    inference::ModelMetadataRequest metadata_request;
    metadata_request.set_name("cnn");
    inference::ModelMetadataResponse metadata;
    EXPECT_EQ(stub->ModelMetadata(&context, metadata_request, &metadata).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    auto stream = stub->ModelStreamInfer(&context);
    stream->WritesDone();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }

  const std::string base = server_->http_url();
  EXPECT_EQ(Curl(base + "/v2/health/ready").status, 200);
  EXPECT_EQ(Curl(base + "/v2/health/live").status, 200);
  for (const char* path : {"/v2/models/cnn", "/metrics", "/v2"}) {
    auto r = Curl(base + path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.body,
              R"j({"error":"missing bearer token (send 'authorization: Bearer <token>')"})j");
  }
  auto r = Curl(base + "/v2/models/cnn/infer", {"-H", "Authorization: Bearer wrong"}, InferBody());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"invalid bearer token"})");
  r = Curl(base + "/v2/models/cnn/infer", {"-H", "Authorization: Bearer right-token"}, InferBody());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Curl(base + "/metrics", {"-H", "Authorization: Bearer right-token"}).status, 200);
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerSecurityTest, BadCredentialFilesAreOneErrorLine) {
  const std::string missing = File("missing.pem");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls-cert", missing, "--tls-key", File("server.key")},
       "--tls-cert " + missing + ": cannot read it: No such file or directory"},
      {{"--tls-cert", File("server.pem"), "--tls-key", missing},
       "--tls-key " + missing + ": cannot read it: No such file or directory"},
      {{"--tls-cert", File("server.pem"), "--tls-key", File("other.key")},
       "--tls-key " + File("other.key") + ": does not match the certificate in --tls-cert " +
           File("server.pem")},
      {{"--tls-cert", File("server.key"), "--tls-key", File("server.key")},
       "--tls-cert " + File("server.key") + ": no PEM certificate in it"},
      {{"--tls-cert", File("server.pem"), "--tls-key", File("server.pem")},
       "--tls-key " + File("server.pem") + ": no unencrypted PEM private key in it"},
      {{"--tls-cert", File("server.pem"), "--tls-key", File("server.key"), "--tls-client-ca",
        missing},
       "--tls-client-ca " + missing + ": cannot read it: No such file or directory"},
      {{"--tls-cert", File("server.pem")}, "--tls-cert and --tls-key: give both or neither"},
      {{"--auth-tokens", missing},
       "--auth-tokens " + missing + ": cannot read it: No such file or directory"},
  };
  for (const auto& [args, message] : cases) {
    const auto result = FailToStart(args);
    EXPECT_EQ(result.exit_code, 1) << message;
    EXPECT_EQ(result.output, "seam: error: " + message + "\n");
  }
}

// A port another server holds is an error, not shared (gRPC and httplib set SO_REUSEPORT by
// default, and a second server used to start and take part of the traffic).
TEST_F(ServerSecurityTest, APortInUseIsRefused) {
  StartServer({});
  const auto serve = [&](const std::string& grpc, const std::string& http) {
    // `timeout`: a server that wrongly starts must not hang the test.
    return testing::RunProcess({"timeout", "20", SEAM_BINARY, "serve", "--repo", repo_.root(),
                                "--grpc-port", grpc, "--http-port", http, "--log-level", "error"});
  };
  auto grpc = serve(std::to_string(server_->port()), "0");
  EXPECT_EQ(grpc.exit_code, 1) << grpc.output;
  EXPECT_NE(grpc.output.find("seam: error: cannot listen on 127.0.0.1:" +
                             std::to_string(server_->port()) + " (address in use"),
            std::string::npos)
      << grpc.output;
  auto http = serve("0", std::to_string(server_->http_port()));
  EXPECT_EQ(http.exit_code, 1) << http.output;
  EXPECT_NE(
      http.output.find("HTTP: cannot listen on 127.0.0.1:" + std::to_string(server_->http_port())),
      std::string::npos)
      << http.output;
  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace seam
