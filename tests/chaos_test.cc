// Faults under load, on loopback: a plan in thirds (device | edge | cloud), the device client in
// this process, edge and cloud `seam serve` children, and a shaped relay on the edge->cloud link.
// 1,000 requests with a deadline the device alone can meet, while the cloud is killed (-9) and
// restarted and the edge->cloud link is black-holed and restored. Nothing may be lost: every
// request is answered, none later than its deadline + 10%, every answer the device finished
// itself is flagged degraded (and still equals the whole model), and the three-tier path comes
// back after each fault.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "graph/model_loader.h"
#include "graph/test_models.h"
#include "lab/shaped_relay.h"
#include "oip/infer_codec.h"
#include "pipeline/deployment.h"
#include "pipeline/stage_spec.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "seam/client.h"
#include "tests/support/http_tools.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kDeadlineMs = 150;
constexpr auto kPeriod = std::chrono::milliseconds(10);

client::Tensor ToClient(const Tensor& t) {
  return {DTypeName(t.dtype), t.shape,
          std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size())};
}

struct Tally {
  int remote = 0, local = 0, degraded = 0, failed = 0, late = 0, wrong = 0;
  double worst_ms = 0;
};

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cloud_ = ServerProcess::Start(CloudArgs(0), &error);
    ASSERT_TRUE(cloud_) << error;
    cloud_port_ = cloud_->port();
    auto relay =
        lab::ShapedRelay::Start({.listen = {"127.0.0.1", 0}, .target = {"127.0.0.1", cloud_port_}});
    ASSERT_TRUE(relay.ok()) << relay.status().ToString();
    relay_ = std::move(relay).value();
    edge_ = ServerProcess::Start(
        {"--repo", edge_repo_.root(), "--http-port", "0", "--log-level", "error"}, &error);
    ASSERT_TRUE(edge_) << error;

    model_ = graph::testing::BundledModel("cnn_chain.onnx");
    const int n = ComputeNodeCount(model_);
    plan_ = WritePlacementPlan(model_, scratch_.root(), "chaos", n / 3, 2 * n / 3);
    auto plan = plan::ReadExecutablePlan(plan_);
    ASSERT_TRUE(plan.ok());
    auto loaded = graph::LoadModel(model_);
    ASSERT_TRUE(loaded.ok());
    pipeline::DeployOptions options;
    options.name = "chaos";
    options.repositories = {{"edge", edge_repo_.root()}, {"cloud", cloud_repo_.root()}};
    options.addresses = {{"edge", edge_->address()},
                         {"cloud", "127.0.0.1:" + std::to_string(relay_->port())}};
    options.control = {{"edge", edge_->address()}, {"cloud", cloud_->address()}};
    options.device_directory = scratch_.root() + "/device";
    options.optimize = false;
    auto deployed = pipeline::Deploy(*loaded, *plan, options);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
    device_stage_ = deployed->front().directory + "/stage.json";

    runtime::SessionOptions so;
    so.optimize = false;
    auto whole = runtime::Session::Open(model_, so);
    ASSERT_TRUE(whole.ok());
    for (const auto& spec : (*whole)->inputs()) {
      Tensor t = runtime::RandomTensor(spec, 5);
      inputs_[spec.name] = ToClient(t);
      feed_[spec.name] = std::move(t);
    }
    auto want = (*whole)->Run(feed_);
    ASSERT_TRUE(want.ok());
    want_ = std::move(want).value();
  }

  std::vector<std::string> CloudArgs(int port) {
    return {"--repo", cloud_repo_.root(), "--http-port",       "-1", "--log-level",
            "error",  "--grpc-port",      std::to_string(port)};
  }

  bool EdgeReady() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    inference::ModelReadyRequest request;
    request.set_name("chaos-edge");
    request.set_version("1");
    inference::ModelReadyResponse response;
    const grpc::Status status = edge_->NewStub()->ModelReady(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.ready();
  }

  // Sends `count` requests, one every kPeriod (as frames of a camera), and tallies them.
  void Send(client::Client& c, int count, Tally& tally) {
    auto next = Clock::now();
    for (int i = 0; i < count; ++i) {
      std::this_thread::sleep_until(next);
      next += kPeriod;
      client::Tensors outputs;
      client::Trace trace;
      std::string error;
      const auto start = Clock::now();
      const bool ok = c.Infer(inputs_, &outputs, &trace, &error);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      tally.worst_ms = std::max(tally.worst_ms, ms);
      if (ms > kDeadlineMs * 1.1) ++tally.late;
      if (!ok) {
        ++tally.failed;
        ADD_FAILURE() << "request failed: " << error;
        continue;
      }
      // Answered by the tiers above, or finished on the device (by choice or as a fallback).
      (trace.links.empty() ? tally.local : tally.remote)++;
      if (trace.degraded) ++tally.degraded;
      if (trace.degraded && trace.degraded_reason.empty()) ADD_FAILURE() << "degraded, no reason";
      if (trace.route.empty()) ADD_FAILURE() << "no route in the trace";
      for (const auto& [name, t] : want_) {
        const auto& got = outputs.at(name).data;
        if (got.size() != t.data.size() || std::memcmp(got.data(), t.data.data(), got.size()) != 0)
          ++tally.wrong;
      }
    }
  }

  TestRepository edge_repo_, cloud_repo_, scratch_;
  std::unique_ptr<ServerProcess> cloud_, edge_;
  std::unique_ptr<lab::ShapedRelay> relay_;
  int cloud_port_ = 0;
  std::string model_, plan_, device_stage_;
  client::Tensors inputs_;
  TensorMap feed_, want_;
};

TEST_F(ChaosTest, KillRestartAndBlackHoleLoseNothingAndMissNoDeadline) {
  client::Options options;
  options.deadline_ms = kDeadlineMs;
  // A device 150x slower than this machine (cnn_chain then takes ~45 ms on it, its third ~15 ms):
  // sending is faster than finishing locally, as on a real weak device, so the tiers above are
  // used whenever they work.
  options.device_slowdown = 150;
  std::string error;
  auto c = client::Client::Open(plan_, options, &error);
  ASSERT_NE(c, nullptr) << error;

  Tally healthy, killed, restarted, holed, restored;
  Send(*c, 100, healthy);
  ASSERT_EQ(::kill(cloud_->pid(), SIGKILL), 0);
  Send(*c, 200, killed);
  // The edge's stage says it cannot serve while the cloud is down (readiness sees the next hop).
  EXPECT_FALSE(EdgeReady());
  cloud_ = ServerProcess::Start(CloudArgs(cloud_port_), &error);
  ASSERT_TRUE(cloud_) << error;
  Send(*c, 250, restarted);
  ASSERT_TRUE(relay_->SetLink({.rate_bps = 1}, {.rate_bps = 1}).ok());  // a black hole
  Send(*c, 200, holed);
  ASSERT_TRUE(relay_->SetLink({}, {}).ok());
  Send(*c, 250, restored);
  EXPECT_TRUE(EdgeReady());

  const Tally* phases[] = {&healthy, &killed, &restarted, &holed, &restored};
  const char* names[] = {"healthy", "cloud killed", "cloud restarted", "black hole", "restored"};
  int total = 0;
  for (int p = 0; p < 5; ++p) {
    const Tally& t = *phases[p];
    std::printf("%-16s remote %3d  local %3d (degraded %3d)  failed %d  late %d  worst %.1f ms\n",
                names[p], t.remote, t.local, t.degraded, t.failed, t.late, t.worst_ms);
    EXPECT_EQ(t.failed, 0) << names[p];
    EXPECT_EQ(t.late, 0) << names[p] << ": worst " << t.worst_ms << " ms";
    EXPECT_EQ(t.wrong, 0) << names[p];
    total += t.remote + t.local + t.failed;
  }
  EXPECT_EQ(total, 1000);
  EXPECT_GT(healthy.remote, 50);
  EXPECT_EQ(healthy.degraded, 0);
  // The dead cloud and the black hole: the device answered by itself.
  EXPECT_GT(killed.local, 150);
  EXPECT_GT(holed.local, 150);
  EXPECT_GT(killed.degraded, 0);
  EXPECT_GT(holed.degraded, 0);
  // The three-tier path came back after each fault: the device probes a failed tier at least
  // once a second, the edge reconnects to the restarted cloud and redials through the link that
  // swallowed its stream. (How much it is used then is the estimates' call: on a loaded machine
  // the tiers can be barely faster than this emulated device.)
  EXPECT_GT(restarted.remote, 0);
  EXPECT_GT(restored.remote, 0);

  c.reset();
  EXPECT_EQ(edge_->Stop(), 0);
  EXPECT_EQ(cloud_->Stop(), 0);
  relay_->Stop();
}

// A caller that cancels its call: the edge stops waiting on a cloud that does not answer (the
// edge->cloud link black-holed) within moments, instead of holding the request, a stage worker
// and its memory until the call's deadline (20 s here).
TEST_F(ChaosTest, ACallerCancellingStopsTheWaitOnTheTierAbove) {
  auto stage = pipeline::ReadStage(device_stage_);
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  inference::ModelInferRequest request;
  request.set_model_name("chaos-edge");
  request.set_model_version("1");
  for (const auto& t : stage->next->send) {
    std::vector<int64_t> shape = t.shape;
    for (auto& d : shape) d = d < 0 ? 1 : d;
    ASSERT_TRUE(oip::AddInput(t.name, Tensor::Zeros(t.dtype, shape), t.codec, &request).ok());
  }
  for (const auto& t : stage->next->receive) oip::AddRequestedOutput(t.name, t.codec, &request);
  auto inflight = [&] {
    const auto page = Curl(edge_->http_url() + "/metrics").body;
    return MetricValue(page, "seam_inference_inflight_requests",
                       {{"model", "chaos-edge"}, {"version", "1"}});
  };
  ASSERT_TRUE(relay_->SetLink({.rate_bps = 1}, {.rate_bps = 1}).ok());  // a black hole
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::Status status;
  auto stub = edge_->NewStub();
  std::thread call([&] {
    inference::ModelInferResponse response;
    status = stub->ModelInfer(&context, request, &response);
  });
  // The request reaches the edge and waits there on the cloud.
  const auto sent = Clock::now();
  while (inflight() < 1 && Clock::now() - sent < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(inflight(), 1);
  context.TryCancel();
  const auto cancelled = Clock::now();
  while (inflight() > 0 && Clock::now() - cancelled < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double released_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - cancelled).count();
  EXPECT_EQ(inflight(), 0);
  EXPECT_LT(released_ms, 3000) << "the edge held a cancelled request " << released_ms << " ms";
  call.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  ASSERT_TRUE(relay_->SetLink({}, {}).ok());
}

// A late answer that still beats the device: the tiers above have not answered when the device
// gives up waiting on them (its prediction was for a fast link), so it starts the request itself,
// but keeps waiting, and the tiers' answer, arriving before the device's own run ends, is the one
// returned (not degraded). Without the hedge the device would have abandoned it and answered
// degraded, later. A device 1000x slower than this machine: its third of the model ~60 ms, the
// rest ~110 ms, so it gives up on the tiers at ~2x their predicted ~90 ms and would finish ~170 ms
// later; the edge->cloud link then gets 80 ms each way, and the answer arrives at ~250 ms, inside
// that window.
TEST_F(ChaosTest, ALateAnswerThatBeatsTheDeviceIsStillTaken) {
  client::Options options;
  options.deadline_ms = 2000;
  options.device_slowdown = 1000;
  std::string error;
  auto c = client::Client::Open(plan_, options, &error);
  ASSERT_NE(c, nullptr) << error;
  client::Tensors outputs;
  client::Trace trace;
  for (int i = 0; i < 20; ++i) {  // the remote estimate learns the fast link
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
  }
  ASSERT_FALSE(trace.links.empty()) << "the tiers above were not used: " << trace.route;
  ASSERT_TRUE(relay_->SetLink({.delay_ms = 80}, {.delay_ms = 80}).ok());
  const auto start = Clock::now();
  ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_FALSE(trace.degraded) << trace.degraded_reason << " after " << ms << " ms";
  EXPECT_FALSE(trace.links.empty()) << trace.route;
  EXPECT_NE(trace.route.find("the device had started the request too"), std::string::npos)
      << trace.route << " (" << ms << " ms)";
  for (const auto& [name, t] : want_) {
    const auto& got = outputs.at(name).data;
    ASSERT_EQ(got.size(), t.data.size());
    EXPECT_EQ(std::memcmp(got.data(), t.data.data(), got.size()), 0) << name;
  }
  ASSERT_TRUE(relay_->SetLink({}, {}).ok());
  c.reset();  // waits for the device's own run, no longer needed, to end
}

// A slow but live link is not a dead tier. With the edge->cloud link at 150 ms each way, the
// device (~85 ms alone) is the better route; its background probes are cut once they can no
// longer change that (adapt::ProbeCapMs) and must not count as failures: the circuit stays
// closed, so requests stay local by choice (not degraded, not "circuit open"), and the link's
// recovery is noticed by the next probe.

TEST_F(ChaosTest, ASlowLinkIsNotTakenForADeadOneAndItsRecoveryIsNoticed) {
  client::Options options;
  options.deadline_ms = 2000;
  // ~85 ms alone: the tiers above win by far on loopback, however busy the machine.
  options.device_slowdown = 1000;
  std::string error;
  auto c = client::Client::Open(plan_, options, &error);
  ASSERT_NE(c, nullptr) << error;
  client::Tensors outputs;
  client::Trace trace;
  // Until the tiers above are in use (a busy machine can make the first answers slow).
  for (int i = 0; i < 200 && (i < 20 || trace.links.empty()); ++i) {
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
  }
  ASSERT_FALSE(trace.links.empty()) << "the tiers above were not used: " << trace.route;

  ASSERT_TRUE(relay_->SetLink({.delay_ms = 150}, {.delay_ms = 150}).ok());
  // The first requests learn the slow link (one is given up and answered by the device).
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
  int degraded = 0, sent = 0, requests = 0;
  std::string last_degraded;
  // Long enough for three probes of the slow link even if each were paced at 1 s.
  const auto slow_until = Clock::now() + std::chrono::milliseconds(3000);
  while (Clock::now() < slow_until) {
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
    ++requests;
    sent += !trace.links.empty();
    if (trace.degraded) {
      ++degraded;
      last_degraded = trace.degraded_reason + " / " + trace.route;
    }
  }
  EXPECT_EQ(degraded, 0) << "of " << requests << "; last: " << last_degraded;
  EXPECT_EQ(sent, 0) << "of " << requests;
  EXPECT_NE(trace.route.find("predicted faster"), std::string::npos) << trace.route;

  ASSERT_TRUE(relay_->SetLink({}, {}).ok());
  bool back = false;
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (!back && Clock::now() < give_up) {
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
    back = !trace.links.empty();
  }
  EXPECT_TRUE(back) << "still local 5 s after the link recovered: " << trace.route;
}

}  // namespace
}  // namespace seam::testing
