// A plan executed across device, edge and cloud on loopback: the device client (include/seam/
// client.h) in this process, the edge and the cloud `seam serve` children. Results through the
// tiers equal the whole model's: bitwise with identity codecs (ORT optimisations off everywhere),
// within the accuracy budget (relative L2 <= 1e-2) with lossy ones.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "common/file_util.h"
#include "graph/model_loader.h"
#include "graph/test_models.h"
#include "pipeline/deployment.h"
#include "pipeline/stage_backend.h"
#include "pipeline/stage_spec.h"
#include "pipeline/trace.h"
#include "repository/layout.h"
#include "repository/model_config.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "seam/client.h"
#include "server/backend.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

client::Tensor ToClient(const Tensor& t) {
  return {DTypeName(t.dtype), t.shape,
          std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size())};
}

// These tests are about the tiers' path itself: every request goes up as the plan says, even
// where this machine would finish it faster on the device (adaptation is chaos_test's subject).
client::Options AsPlanned() {
  client::Options options;
  options.adaptive = false;
  return options;
}

double RelativeL2(const std::string& got, const Tensor& want) {
  const float* a = reinterpret_cast<const float*>(got.data());
  const float* b = want.data_as<float>();
  double num = 0, den = 0;
  for (size_t i = 0; i < want.data.size() / 4; ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

class TiersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    tiers_ = LoopbackTiers::Start(&error).release();
    ASSERT_NE(tiers_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete tiers_;
    tiers_ = nullptr;
  }

  // Runs `inputs_count` random inputs through the deployed plan and the whole model; checks the
  // outputs bitwise (`tolerance` 0) or by relative L2.
  void ExpectEqualToWholeModel(const std::string& model, const std::string& plan, double tolerance,
                               int inputs_count = 2) {
    ASSERT_NE(tiers_, nullptr);
    auto deployed = tiers_->Deploy(plan);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    std::string error;
    auto c = client::Client::Open(plan, AsPlanned(), &error);
    ASSERT_NE(c, nullptr) << error;
    runtime::SessionOptions options;
    options.optimize = false;
    auto whole = runtime::Session::Open(model, options);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    for (int i = 0; i < inputs_count; ++i) {
      TensorMap feed;
      client::Tensors inputs;
      for (const auto& spec : (*whole)->inputs()) {
        Tensor t = runtime::RandomTensor(spec, 17 + i);
        inputs[spec.name] = ToClient(t);
        feed[spec.name] = std::move(t);
      }
      client::Tensors outputs;
      client::Trace trace;
      ASSERT_TRUE(c->Infer(inputs, &outputs, &trace, &error)) << error;
      auto want = (*whole)->Run(feed);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(outputs.size(), want->size());
      for (const auto& [name, tensor] : *want) {
        ASSERT_TRUE(outputs.contains(name)) << name;
        const auto& got = outputs.at(name);
        EXPECT_EQ(got.shape, tensor.shape) << name;
        if (tolerance == 0) {
          EXPECT_EQ(got.data, std::string(reinterpret_cast<const char*>(tensor.data.data()),
                                          tensor.data.size()))
              << plan << ": output " << name << " differs from the whole model's";
        } else {
          EXPECT_LE(RelativeL2(got.data, tensor), tolerance) << plan << ": output " << name;
        }
      }
      // The trace covers every tier the request went through and every link it crossed.
      ASSERT_FALSE(trace.tiers.empty());
      EXPECT_EQ(trace.tiers.front().tier, "device");
      EXPECT_EQ(trace.links.size() + 1, trace.tiers.size());
      for (const auto& link : trace.links) EXPECT_GT(link.up_bytes, 0u) << link.to;
      EXPECT_GT(trace.total_ms, 0);
    }
  }

  static LoopbackTiers* tiers_;
};
LoopbackTiers* TiersTest::tiers_ = nullptr;

struct Placement {
  const char* name;
  int edge_from_percent, cloud_from_percent;  // of the compute nodes
};
constexpr Placement kPlacements[] = {
    {"device_only", 100, 100}, {"cloud_only", 0, 0},         {"edge_only", 0, 100},
    {"device_cloud", 50, 50},  {"device_edge", 50, 100},     {"edge_cloud", 0, 50},
    {"three_tiers", 33, 66},   {"three_tiers_late", 10, 90},
};

TEST_F(TiersTest, EveryPlacementOfEveryBundledModelIsBitwiseEqualToTheWholeModel) {
  for (const char* name :
       {"cnn_chain.onnx", "dag_blocks.onnx", "dag_blocks_external.onnx", "tiny_golden.onnx"}) {
    SCOPED_TRACE(name);
    const std::string model = graph::testing::BundledModel(name);
    const int n = ComputeNodeCount(model);
    ASSERT_GT(n, 0) << model;
    for (const auto& p : kPlacements) {
      SCOPED_TRACE(p.name);
      const std::string plan =
          WritePlacementPlan(model, ::testing::TempDir(), p.name, n * p.edge_from_percent / 100,
                             n * p.cloud_from_percent / 100);
      ExpectEqualToWholeModel(model, plan, 0, 2);
    }
  }
}

TEST_F(TiersTest, BlazeFaceAcrossThreeTiersIsBitwiseEqual) {
  const std::string model = graph::testing::BlazeFaceModel();
  const int n = ComputeNodeCount(model);
  ASSERT_GT(n, 0) << "run scripts/setup.sh to fetch " << model;
  for (auto [edge, cloud] : {std::pair{n / 3, 2 * n / 3}, std::pair{0, 0}, std::pair{n, n}}) {
    const std::string plan = WritePlacementPlan(model, ::testing::TempDir(),
                                                "blazeface_" + std::to_string(edge), edge, cloud);
    ExpectEqualToWholeModel(model, plan, 0, 1);
  }
}

TEST_F(TiersTest, LossyCodecsStayWithinTheAccuracyBudget) {
  for (const char* name : {"cnn_chain.onnx", "dag_blocks.onnx"}) {
    const std::string model = graph::testing::BundledModel(name);
    const int n = ComputeNodeCount(model);
    for (const auto& codecs : std::vector<std::map<std::string, std::string>>{
             {{"device-edge", "fp16"}, {"edge-cloud", "fp16+zstd"}},
             {{"device-edge", "fp16"}, {"edge-cloud", "int8_per_channel"}}}) {
      const std::string plan = WritePlacementPlan(
          model, ::testing::TempDir(), std::string("lossy_") + name, n / 3, 2 * n / 3, codecs);
      ExpectEqualToWholeModel(model, plan, 1e-2, 2);
    }
  }
}

// The client on caller-owned memory: inputs read in place, outputs written into the caller's
// buffers, bitwise what the Tensors form gives; a buffer too small fails naming the output.
TEST_F(TiersTest, CallerOwnedBuffersGiveTheSameAnswers) {
  ASSERT_NE(tiers_, nullptr);
  const std::string model = graph::testing::BundledModel("cnn_chain.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan =
      WritePlacementPlan(model, ::testing::TempDir(), "caller_buffers", n / 3, 2 * n / 3);
  ASSERT_TRUE(tiers_->Deploy(plan).ok());
  std::string error;
  auto c = client::Client::Open(plan, AsPlanned(), &error);
  ASSERT_NE(c, nullptr) << error;
  EXPECT_EQ(c->model_path(), model);  // what an application checks answers against
  EXPECT_FALSE(c->optimized());       // deployed bitwise (LoopbackTiers::Deploy's default)
  const client::InputInfo info = c->inputs().at(0);
  const Tensor input =
      runtime::RandomTensor({info.name, *DTypeFromName(info.datatype), info.shape}, 4);
  client::Tensors reference;
  ASSERT_TRUE(c->Infer({{info.name, ToClient(input)}}, &reference, nullptr, &error)) << error;
  ASSERT_EQ(reference.size(), 1u);
  const auto& [out_name, want] = *reference.begin();

  std::vector<char> memory(want.data.size() + 64, '\x7f');
  client::OutputBuffers outputs{{out_name, {memory.data(), memory.size()}}};
  const client::TensorViews inputs{
      {info.name, {info.datatype, input.shape, input.data.data(), input.data.size()}}};
  client::Tensors others;
  ASSERT_TRUE(c->Infer(inputs, &outputs, &others, nullptr, &error)) << error;
  EXPECT_TRUE(others.empty());
  const client::OutputBuffer& got = outputs.at(out_name);
  EXPECT_EQ(got.datatype, want.datatype);
  EXPECT_EQ(got.shape, want.shape);
  ASSERT_EQ(got.size, want.data.size());
  EXPECT_EQ(std::string(memory.data(), got.size), want.data);

  client::OutputBuffers small{{out_name, {memory.data(), want.data.size() - 1}}};
  EXPECT_FALSE(c->Infer(inputs, &small, nullptr, nullptr, &error));
  EXPECT_NE(error.find("output '" + out_name + "' needs " + std::to_string(want.data.size())),
            std::string::npos)
      << error;
}

// A device that keeps its client while its plan file is redeployed again and again (the oldest
// deployments stop being served) follows the file and loses no request.
TEST_F(TiersTest, AClientFollowsItsPlanFileAcrossRedeploys) {
  ASSERT_NE(tiers_, nullptr);
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan =
      WritePlacementPlan(model, ::testing::TempDir(), "followed", n / 3, 2 * n / 3);
  ASSERT_TRUE(tiers_->Deploy(plan).ok());
  std::string error;
  auto c = client::Client::Open(plan, AsPlanned(), &error);
  ASSERT_NE(c, nullptr) << error;
  const std::string first_id = c->plan_id();
  client::Tensors inputs, reference;
  runtime::IoSpec spec{c->inputs()[0].name, DType::kFloat32, c->inputs()[0].shape};
  inputs[spec.name] = ToClient(runtime::RandomTensor(spec, 9));
  ASSERT_TRUE(c->Infer(inputs, &reference, nullptr, &error)) << error;
  for (int k = 1; k <= 5; ++k) {
    // The same file, a new placement each time.
    WritePlacementPlan(model, ::testing::TempDir(), "followed", k, k + n / 2);
    auto deployed = tiers_->Deploy(plan);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    client::Tensors outputs;
    ASSERT_TRUE(c->Infer(inputs, &outputs, nullptr, &error))
        << "after redeploy " << k << ": " << error;
    EXPECT_EQ(outputs, reference) << "after redeploy " << k;
  }
  EXPECT_NE(c->plan_id(), first_id) << "the client never switched to a newer deployment";
}

// The cloud restarts (same address, same repository): the edge's stream to it breaks, and the
// next request reconnects through a fresh stream instead of failing.
TEST(TiersRestartTest, TheEdgeReconnectsToARestartedCloud) {
  TestRepository edge_repo, cloud_repo, scratch;
  std::string error;
  auto cloud = ServerProcess::Start(
      {"--repo", cloud_repo.root(), "--http-port", "-1", "--log-level", "warn"}, &error);
  ASSERT_NE(cloud, nullptr) << error;
  auto edge = ServerProcess::Start(
      {"--repo", edge_repo.root(), "--http-port", "-1", "--log-level", "warn"}, &error);
  ASSERT_NE(edge, nullptr) << error;
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan = WritePlacementPlan(model, scratch.root(), "restart", n / 3, 2 * n / 3);
  auto parsed = plan::ReadExecutablePlan(plan);
  ASSERT_TRUE(parsed.ok());
  auto loaded = graph::LoadModel(model);
  ASSERT_TRUE(loaded.ok());
  pipeline::DeployOptions options;
  options.name = "m";
  options.repositories = {{"edge", edge_repo.root()}, {"cloud", cloud_repo.root()}};
  options.addresses = {{"edge", edge->address()}, {"cloud", cloud->address()}};
  options.control = options.addresses;
  options.device_directory = scratch.root() + "/device";
  ASSERT_TRUE(pipeline::Deploy(*loaded, *parsed, options).ok());
  auto c = client::Client::Open(plan, AsPlanned(), &error);
  ASSERT_NE(c, nullptr) << error;
  client::Tensors inputs, before, after;
  runtime::IoSpec spec{c->inputs()[0].name, DType::kFloat32, c->inputs()[0].shape};
  inputs[spec.name] = ToClient(runtime::RandomTensor(spec, 5));
  ASSERT_TRUE(c->Infer(inputs, &before, nullptr, &error)) << error;

  const std::string port = std::to_string(cloud->port());
  ASSERT_EQ(cloud->Stop(), 0);
  cloud = ServerProcess::Start({"--repo", cloud_repo.root(), "--grpc-port", port, "--http-port",
                                "-1", "--log-level", "warn"},
                               &error);
  ASSERT_NE(cloud, nullptr) << error;
  ASSERT_TRUE(c->Infer(inputs, &after, nullptr, &error)) << error;
  EXPECT_EQ(after, before);
}

// A stage reports how long its request waited in the server before it ran (acceptance to run,
// decoding excluded): the device learns a tier's load from it.
TEST_F(TiersTest, AStageReportsTheTimeItsRequestWaitedInTheServer) {
  ASSERT_NE(tiers_, nullptr);
  const std::string model = graph::testing::BundledModel("cnn_chain.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan = WritePlacementPlan(model, ::testing::TempDir(), "queued", 0, n / 2);
  auto deployed = tiers_->Deploy(plan);
  ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  std::string cloud_dir;
  for (const auto& t : *deployed) {
    if (t.tier == "cloud") cloud_dir = t.directory;
  }
  ASSERT_FALSE(cloud_dir.empty());
  // The cloud's stage, opened in this process as its server opens it.
  pipeline::RegisterStageBackend();
  repository::ModelConfig config;
  config.platform = repository::kStagePlatform;
  const std::string stage_path =
      cloud_dir + "/" + repository::VersionFileName(repository::kStagePlatform);
  auto stage_bytes = ReadFile(stage_path);
  ASSERT_TRUE(stage_bytes.ok()) << stage_bytes.status().ToString();
  auto backend = server::OpenBackend({stage_path, *stage_bytes}, config);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  TensorMap inputs;
  for (const auto& spec : (*backend)->inputs()) {
    inputs[spec.name] = runtime::RandomTensor(spec, 3);
  }
  for (const double waited_ms : {0.0, 40.0}) {
    server::RequestContext context;
    context.accepted = std::chrono::steady_clock::now() -
                       std::chrono::microseconds(static_cast<int64_t>(waited_ms * 1e3));
    context.decode_ms = waited_ms / 4;  // of the wait, decoding: not queueing
    auto outputs = (*backend)->Run(inputs, &context);
    ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
    ASSERT_TRUE(context.finish);
    inference::ModelInferResponse response;
    context.finish(0, waited_ms, &response);
    auto trace =
        pipeline::TraceFromJson(response.parameters().at(pipeline::kTraceParameter).string_param());
    ASSERT_TRUE(trace.ok()) << trace.status().ToString();
    ASSERT_FALSE(trace->tiers.empty());
    EXPECT_EQ(trace->tiers.front().tier, "cloud");
    EXPECT_GE(trace->tiers.front().queue_ms, 0.75 * waited_ms);
    if (waited_ms > 0) {
      EXPECT_LT(trace->tiers.front().queue_ms, 0.75 * waited_ms + 1000);
    }
  }
}

// Many devices at once through the same edge and cloud stages: every answer is its own request's
// (requests share one stream per hop, matched by id).
TEST_F(TiersTest, ConcurrentDevicesEachGetTheirOwnAnswers) {
  ASSERT_NE(tiers_, nullptr);
  const std::string model = graph::testing::BundledModel("cnn_chain.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan =
      WritePlacementPlan(model, ::testing::TempDir(), "concurrent", n / 3, 2 * n / 3);
  ASSERT_TRUE(tiers_->Deploy(plan).ok());
  std::string error;
  std::shared_ptr<client::Client> c = client::Client::Open(plan, AsPlanned(), &error);
  ASSERT_NE(c, nullptr) << error;
  runtime::IoSpec spec{c->inputs()[0].name, DType::kFloat32, c->inputs()[0].shape};
  constexpr int kThreads = 8, kRequests = 10;
  std::vector<client::Tensors> inputs(kThreads), expected(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    inputs[t][spec.name] = ToClient(runtime::RandomTensor(spec, 100 + t));
    ASSERT_TRUE(c->Infer(inputs[t], &expected[t], nullptr, &error)) << error;
  }
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        client::Tensors outputs;
        std::string e;
        if (!c->Infer(inputs[t], &outputs, nullptr, &e)) {
          ++failed;
        } else if (outputs != expected[t]) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

// Plans are redeployed while a client keeps sending: every request is answered, and each
// deployment's client sees its own plan's results.
TEST_F(TiersTest, RedeployingUnderLoadLosesNoRequest) {
  ASSERT_NE(tiers_, nullptr);
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const int n = ComputeNodeCount(model);
  const std::string first =
      WritePlacementPlan(model, ::testing::TempDir(), "redeploy_a", n / 3, 2 * n / 3);
  ASSERT_TRUE(tiers_->Deploy(first).ok());
  std::string error;
  auto c = client::Client::Open(first, AsPlanned(), &error);
  ASSERT_NE(c, nullptr) << error;
  client::Tensors inputs;
  runtime::IoSpec spec{c->inputs()[0].name, DType::kFloat32, c->inputs()[0].shape};
  inputs[spec.name] = ToClient(runtime::RandomTensor(spec, 3));
  client::Tensors reference;
  ASSERT_TRUE(c->Infer(inputs, &reference, nullptr, &error)) << error;

  // The device switches to each new plan once it is deployed, as devices do; until then it
  // keeps sending on the previous one.
  std::mutex mu;
  std::shared_ptr<client::Client> current = std::move(c);
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::string first_failure;
  std::thread load([&] {
    while (!stop) {
      std::shared_ptr<client::Client> user;
      {
        std::lock_guard lock(mu);
        user = current;
      }
      client::Tensors outputs;
      std::string e;
      if (user->Infer(inputs, &outputs, nullptr, &e) && outputs == reference) {
        ++answered;
      } else if (failed++ == 0) {
        first_failure = e;
      }
    }
  });
  for (int k = 0; k < 4; ++k) {
    const std::string next =
        WritePlacementPlan(model, ::testing::TempDir(), "redeploy_" + std::to_string(k),
                           (k + 1) * n / 6, (k + 2) * n / 6 + 1);
    auto deployed = tiers_->Deploy(next);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    std::shared_ptr<client::Client> fresh = client::Client::Open(next, AsPlanned(), &error);
    ASSERT_NE(fresh, nullptr) << error;
    client::Tensors outputs;
    ASSERT_TRUE(fresh->Infer(inputs, &outputs, nullptr, &error)) << error;
    EXPECT_EQ(outputs, reference) << "plan " << k;
    std::lock_guard lock(mu);
    current = fresh;
  }
  stop = true;
  load.join();
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(answered.load(), 0);
}

}  // namespace
}  // namespace seam::testing
