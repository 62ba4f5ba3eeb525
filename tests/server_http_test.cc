// `seam serve` over HTTP/REST as curl sees it: health, readiness, metadata, inference (numbers
// equal to ONNX Runtime in process, bit for bit after parsing the JSON), errors as {"error"} with
// their HTTP status, /metrics counting gRPC and HTTP requests alike, and health probes answered
// while slow clients hold connections. Skipped when curl is not installed.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using nlohmann::json;
using testing::Curl;
using testing::MetricValue;
using testing::Reference;
using testing::ServerProcess;
using testing::TestRepository;

// A float as the shortest-enough decimal that reads back as the same float.
std::string FloatText(float v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(v));
  return buffer;
}

// FP32 tensor data as JSON: nested per `shape` (row-major), or flat.
std::string FloatData(const Tensor& t, bool nested) {
  const float* v = t.data_as<float>();
  const int64_t count = static_cast<int64_t>(t.data.size() / 4);
  std::string out;
  if (!nested) {
    out = "[";
    for (int64_t i = 0; i < count; ++i) {
      if (i > 0) out += ',';
      out += FloatText(v[i]);
    }
    return out + "]";
  }
  // The array of dimension d holds span[d] elements: open it when the index is a multiple of
  // span[d], close it after the last one.
  std::vector<int64_t> span(t.shape.size() + 1, 1);
  for (size_t d = t.shape.size(); d-- > 0;) span[d] = span[d + 1] * t.shape[d];
  span.pop_back();
  const std::vector<int64_t>& stride = span;
  for (int64_t i = 0; i < count; ++i) {
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (i % stride[d] == 0) out += "[";
    }
    out += FloatText(v[i]);
    size_t closing = 0;
    for (size_t d = 0; d < t.shape.size(); ++d) closing += (i + 1) % stride[d] == 0;
    out += std::string(closing, ']');
    if (i + 1 < count) out += ",";
  }
  return out;
}

std::string InferBody(const TensorMap& inputs, bool nested, const std::string& id = "") {
  std::string body = "{" + (id.empty() ? "" : "\"id\":\"" + id + "\",") + "\"inputs\":[";
  bool first = true;
  for (const auto& [name, t] : inputs) {
    json shape = t.shape;
    body += std::string(first ? "" : ",") + R"({"name":")" + name + R"(","datatype":")" +
            DTypeName(t.dtype) + R"(","shape":)" + shape.dump() + R"(,"data":)" +
            FloatData(t, nested) + "}";
    first = false;
  }
  return body + "]}";
}

// The outputs of a JSON response, rebuilt as FP32 tensors for a bitwise comparison.
TensorMap JsonOutputs(const json& response) {
  TensorMap outputs;
  for (const json& out : response.at("outputs")) {
    Tensor t;
    t.dtype = DType::kFloat32;
    t.shape = out.at("shape").get<std::vector<int64_t>>();
    const json& data = out.at("data");
    t.data.resize(data.size() * 4);
    for (size_t i = 0; i < data.size(); ++i) {
      const float v = static_cast<float>(data[i].get<double>());
      std::memcpy(t.data.data() + i * 4, &v, 4);
    }
    outputs[out.at("name").get<std::string>()] = std::move(t);
  }
  return outputs;
}

class ServerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", R"({"max_batch_size": 8, "instance_count": 2})");
    std::string error;
    server_ = ServerProcess::Start({"--repo", repo_.root(), "--log-level", "warn"}, &error);
    ASSERT_TRUE(server_) << error;
    ASSERT_GT(server_->http_port(), 0);
  }
  testing::HttpResult Get(const std::string& path) { return Curl(server_->http_url() + path); }
  testing::HttpResult Post(const std::string& path, const std::string& body) {
    return Curl(server_->http_url() + path, {}, body);
  }
  void ExpectError(const testing::HttpResult& r, int status, const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body << r.curl_error;
    EXPECT_EQ(r.body, json({{"error", message}}).dump());
  }

  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
};

TEST_F(ServerHttpTest, HealthReadinessAndMetadata) {
  auto r = Get("/v2/health/live");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"live":true})"));
  r = Get("/v2/health/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"ready":true})"));
  for (const char* path : {"/v2/models/cnn/ready", "/v2/models/cnn/versions/1/ready"}) {
    r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"name":"cnn","ready":true})")) << path;
  }
  r = Get("/v2/models/cnn/versions/2/ready");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"name":"cnn","ready":false,"error":"model 'cnn' has no version 2"})"));

  r = Get("/v2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"name":"seam","version":"0.1.0","extensions":["model_repository"]})"));
  const json expected = json::parse(R"({"name":"cnn","versions":["1"],
      "platform":"onnxruntime_onnx",
      "inputs":[{"name":"image","datatype":"FP32","shape":[-1,3,32,32]}],
      "outputs":[{"name":"probs","datatype":"FP32","shape":[-1,10]}]})");
  for (const char* path : {"/v2/models/cnn", "/v2/models/cnn/versions/1"}) {
    r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(json::parse(r.body), expected) << path;
  }
  ExpectError(Get("/v2/models/nope"), 404, "model 'nope' is not in the repository");
  ExpectError(Get("/v2/models/cnn/versions/x"), 400,
              "model 'cnn': version 'x' is not a version number (a positive integer without "
              "leading zeros)");
  ExpectError(Get("/v2/nothing"), 404, "no such endpoint: GET /v2/nothing");
  EXPECT_EQ(server_->Stop(), 0);
}

// Triton's REST repository API: the index, load and unload of one model, and their errors.
TEST_F(ServerHttpTest, RepositoryIndexLoadAndUnloadOverRest) {
  auto r = Post("/v2/repository/index", "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"name":"cnn","version":"1","state":"READY"}])"));
  EXPECT_EQ(Post("/v2/repository/models/cnn/unload", "{}").status, 200);
  r = Curl(server_->http_url() + "/v2/repository/index", {"-X", "POST", "-H", "Content-Length: 0"});
  EXPECT_EQ(
      json::parse(r.body),
      json::parse(
          R"([{"name":"cnn","version":"1","state":"UNAVAILABLE","reason":"unloaded by request"}])"));
  EXPECT_EQ(json::parse(Post("/v2/repository/index", R"({"ready": true})").body), json::array());
  EXPECT_EQ(Get("/v2/models/cnn/ready").status, 503);
  EXPECT_EQ(Post("/v2/repository/models/cnn/load", " ").status, 200);
  EXPECT_EQ(Get("/v2/models/cnn/ready").status, 200);
  ExpectError(Post("/v2/repository/models/nope/load", "{}"), 404,
              "model 'nope' is not in the repository '" + repo_.root() + "'");
  ExpectError(Post("/v2/repository/models/cnn/load", R"({"parameters": {"config": "{}"}})"), 400,
              "repository load: the body must be {} (parameters are not supported)");
  ExpectError(Post("/v2/repository/index", R"({"ready": "yes"})"), 400,
              "repository index: 'ready' must be true or false");
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerHttpTest, InferMatchesOnnxRuntimeBitForBit) {
  for (bool nested : {false, true}) {
    SCOPED_TRACE(nested ? "nested data" : "flat data");
    const TensorMap inputs = cnn_.Inputs(nested ? 7 : 8, 3);
    const auto r = Post("/v2/models/cnn/infer", InferBody(inputs, nested, "req-1"));
    ASSERT_EQ(r.status, 200) << r.body;
    const json response = json::parse(r.body);
    EXPECT_EQ(response["model_name"], "cnn");
    EXPECT_EQ(response["model_version"], "1");
    EXPECT_EQ(response["id"], "req-1");
    EXPECT_EQ(response["outputs"][0]["datatype"], "FP32");
    EXPECT_TRUE(testing::BitwiseEqual(cnn_.Run(inputs), JsonOutputs(response)));
  }
  // An explicit version and requested output.
  const TensorMap inputs = cnn_.Inputs(9, 1);
  std::string body = InferBody(inputs, false);
  body.insert(body.size() - 1, R"(,"outputs":[{"name":"probs"}])");
  auto r = Post("/v2/models/cnn/versions/1/infer", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(testing::BitwiseEqual(cnn_.Run(inputs), JsonOutputs(json::parse(r.body))));
  // curl -d without a JSON content type (the form type, limited to 8 KiB by cpp-httplib's own
  // body reader) is read as JSON all the same.
  r = Curl(server_->http_url() + "/v2/models/cnn/infer",
           {"-H", "Content-Type: application/x-www-form-urlencoded"}, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(testing::BitwiseEqual(cnn_.Run(inputs), JsonOutputs(json::parse(r.body))));
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerHttpTest, BadRequestsAre400UnknownModels404) {
  ExpectError(Post("/v2/models/cnn/infer", "{\"inputs\": ["), 400, "request body: not valid JSON");
  ExpectError(Post("/v2/models/cnn/infer", R"({"inputs": [{"name": "image"}]})"), 400,
              "input 'image': 'datatype' must be a string such as \"FP32\"");
  // The same validation as gRPC: shape, datatype, unknown input.
  Tensor wrong = Tensor::Zeros(DType::kFloat32, {1, 3, 31, 32});
  ExpectError(Post("/v2/models/cnn/infer", InferBody({{"image", wrong}}, false)), 400,
              "input 'image': expected shape [-1,3,32,32], got [1,3,31,32]");
  ExpectError(
      Post("/v2/models/cnn/infer", InferBody({{"img", cnn_.Inputs(1, 1).at("image")}}, false)), 400,
      "input 'img': the model has no such input (it has: image)");
  ExpectError(
      Post("/v2/models/cnn/infer",
           R"({"inputs":[{"name":"image","datatype":"FP32","shape":[1,3,32,32],"data":[1]}]})"),
      400, "input 'image': shape [1,3,32,32] has 3072 elements, 'data' has 1");
  const std::string good = InferBody(cnn_.Inputs(1, 1), false);
  ExpectError(Post("/v2/models/nope/infer", good), 404, "model 'nope' is not in the repository");
  ExpectError(Post("/v2/models/cnn/versions/4/infer", good), 404, "model 'cnn' has no version 4");
  // After all that, it still answers.
  EXPECT_EQ(Post("/v2/models/cnn/infer", good).status, 200);
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerHttpTest, MetricsCountGrpcAndHttpRequestsAndBatchSizes) {
  const std::map<std::string, std::string> cnn = {{"model", "cnn"}, {"version", "1"}};
  auto with = [&](const char* key, const char* value) {
    auto labels = cnn;
    labels[key] = value;
    return labels;
  };
  auto scrape = [&] {
    const auto r = Get("/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  };
  // Nothing has run yet: the model has no series.
  EXPECT_EQ(MetricValue(scrape(), "seam_inference_requests_total", with("outcome", "success")), -1);

  auto stub = server_->NewStub();
  for (int i = 0; i < 2; ++i) {  // gRPC: two requests of batch 2
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    ASSERT_TRUE(
        stub->ModelInfer(&context, testing::RawInferRequest("cnn", cnn_.Inputs(i, 2)), &response)
            .ok());
  }
  std::string page = scrape();
  EXPECT_EQ(MetricValue(page, "seam_inference_requests_total", with("outcome", "success")), 2);

  for (int i = 0; i < 3; ++i) {  // HTTP: three requests of batch 3
    ASSERT_EQ(Post("/v2/models/cnn/infer", InferBody(cnn_.Inputs(10 + i, 3), false)).status, 200);
  }
  Tensor wrong = Tensor::Zeros(DType::kFloat32, {1, 3, 31, 32});
  EXPECT_EQ(Post("/v2/models/cnn/infer", InferBody({{"image", wrong}}, false)).status, 400);

  page = scrape();
  EXPECT_EQ(MetricValue(page, "seam_inference_requests_total", with("outcome", "success")), 5)
      << page;
  EXPECT_EQ(MetricValue(page, "seam_inference_requests_total", with("outcome", "failure")), 1);
  EXPECT_EQ(MetricValue(page, "seam_inference_inflight_requests", cnn), 0);
  EXPECT_EQ(MetricValue(page, "seam_inference_request_duration_seconds_count", cnn), 6);
  EXPECT_EQ(MetricValue(page, "seam_inference_queue_duration_seconds_count", cnn), 5);
  EXPECT_EQ(MetricValue(page, "seam_inference_compute_duration_seconds_count", cnn), 5);
  EXPECT_GT(MetricValue(page, "seam_inference_compute_duration_seconds_sum", cnn), 0);
  // Rows are 2+2+3+3+3 however the scheduler grouped them into executions.
  EXPECT_EQ(MetricValue(page, "seam_inference_batch_size_sum", cnn), 13);
  const double executions = MetricValue(page, "seam_inference_batch_size_count", cnn);
  EXPECT_GE(executions, 1);
  EXPECT_LE(executions, 5);
  EXPECT_EQ(MetricValue(page, "seam_inference_batch_size_bucket", with("le", "+Inf")), executions);
  EXPECT_NE(page.find("# TYPE seam_inference_batch_size histogram"), std::string::npos);
  EXPECT_EQ(server_->Stop(), 0);
}

// Every HTTP request gets 200 (admitted before the signal), 503 (after it, while draining), or no
// answer at all once the port closes; the server exits 0.
TEST_F(ServerHttpTest, SigtermAnswersHttpRequestsInFlightThenExitsZero) {
  const std::string body = InferBody(cnn_.Inputs(4, 2), false);
  std::atomic<int> ok{0}, refused{0}, closed{0}, other{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        const auto r = Post("/v2/models/cnn/infer", body);
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 503) {
          ++refused;
        } else if (r.curl_exit == 7 || r.curl_exit == 52 || r.curl_exit == 55 ||
                   r.curl_exit == 56) {
          // The port closed (refused, or a connection not yet read is closed without an answer:
          // the request was never received). Never a wrong answer.
          ++closed;
          return;
        } else {
          ++other;
          ADD_FAILURE() << "status " << r.status << " curl " << r.curl_exit << ": " << r.body
                        << r.curl_error;
        }
      }
    });
  }
  while (ok < 8) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server_->Stop(), 0);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(other, 0);
  EXPECT_GE(ok, 8);
}

}  // namespace
}  // namespace seam

namespace seam {
namespace {

// Sockets that trickle a request's headers, one byte per 200 ms, never finishing them: each holds
// an HTTP connection thread until its read times out, as a slowloris client does.
class Tricklers {
 public:
  Tricklers(int port, int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(port));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        continue;
      }
      const std::string start = "GET /v2/health/live HTTP/1.1\r\nHost: seam\r\nX-Slow: ";
      if (::send(fd, start.data(), start.size(), MSG_NOSIGNAL) > 0) fds_.push_back(fd);
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        for (int fd : fds_) ::send(fd, "a", 1, MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  ~Tricklers() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) ::close(fd);
  }
  size_t connected() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Health probes answer within a second while more sockets trickle their headers than the server
// keeps HTTP threads. With connections limited to the threads kept (the old fixed pool), the same
// probes wait: the test can tell the two apart.
TEST(ServerSlowClientsTest, HealthAnswersWhileMoreSocketsTrickleThanThereAreThreads) {
  if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
  TestRepository repo;
  repo.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
  for (const bool limited : {false, true}) {
    std::vector<std::string> args = {"--repo", repo.root(),      "--log-level",
                                     "warn",   "--http-threads", "2"};
    if (limited) args.insert(args.end(), {"--http-max-connections", "2"});
    std::string error;
    auto server = ServerProcess::Start(args, &error);
    ASSERT_TRUE(server) << error;
    Tricklers slow(server->http_port(), 20);
    ASSERT_EQ(slow.connected(), 20u);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // every one of them accepted
    for (const char* path : {"/v2/health/live", "/v2/health/ready"}) {
      const auto r = Curl(server->http_url() + path, {"--max-time", "1"});
      if (limited) {
        EXPECT_NE(r.status, 200) << "a fixed pool of 2 threads answered " << path;
      } else {
        EXPECT_EQ(r.status, 200) << path << ": " << r.curl_error;
      }
    }
  }
}

}  // namespace
}  // namespace seam
