// Light link probes (adapt/light_probe.h), on loopback: BlazeFace's 786 KB input sent whole to an
// edge `seam serve` through a shaped relay, the device emulated slow. While a slow uplink keeps
// requests on the device, the device measures the link with light probes (a few KB to a model
// the edge does not have) instead of copies of the request, says what it found in the route's
// reason, and sends requests again once the link recovers.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>

#include "graph/model_loader.h"
#include "graph/test_models.h"
#include "lab/shaped_relay.h"
#include "pipeline/deployment.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "seam/client.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

using Clock = std::chrono::steady_clock;

class LightProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = graph::testing::BlazeFaceModel();
    const int n = ComputeNodeCount(model_);
    ASSERT_GT(n, 0) << "run scripts/setup.sh to fetch " << model_;
    std::string error;
    edge_ = ServerProcess::Start(
        {"--repo", edge_repo_.root(), "--http-port", "-1", "--log-level", "error"}, &error);
    ASSERT_TRUE(edge_) << error;
    auto relay = lab::ShapedRelay::Start(
        {.listen = {"127.0.0.1", 0}, .target = {"127.0.0.1", edge_->port()}});
    ASSERT_TRUE(relay.ok()) << relay.status().ToString();
    relay_ = std::move(relay).value();
    // Every node on the edge: the device sends the whole frame.
    plan_ = WritePlacementPlan(model_, scratch_.root(), "light", 0, n);
    auto plan = plan::ReadExecutablePlan(plan_);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    auto loaded = graph::LoadModel(model_);
    ASSERT_TRUE(loaded.ok());
    pipeline::DeployOptions options;
    options.name = "light";
    options.repositories = {{"edge", edge_repo_.root()}};
    options.addresses = {{"edge", "127.0.0.1:" + std::to_string(relay_->port())}};
    options.control = {{"edge", edge_->address()}};
    options.device_directory = scratch_.root() + "/device";
    auto deployed = pipeline::Deploy(*loaded, *plan, options);
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();

    auto session = runtime::Session::Open(model_, {});
    ASSERT_TRUE(session.ok());
    for (const auto& spec : (*session)->inputs()) {
      const Tensor t = runtime::RandomTensor(spec, 3);
      inputs_[spec.name] = {
          DTypeName(t.dtype), t.shape,
          std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size())};
    }
  }

  TestRepository edge_repo_, scratch_;
  std::unique_ptr<ServerProcess> edge_;
  std::unique_ptr<lab::ShapedRelay> relay_;
  std::string model_, plan_;
  client::Tensors inputs_;
};

TEST_F(LightProbeTest, ASlowUplinkIsWatchedWithLightProbesAndItsRecoveryIsUsed) {
  client::Options options;
  options.deadline_ms = 5000;
  // BlazeFace's ~7 ms run 40x slower (~300 ms): sending wins on loopback, not at 2 Mbit/s.
  options.device_slowdown = 40;
  std::string error;
  auto c = client::Client::Open(plan_, options, &error);
  ASSERT_NE(c, nullptr) << error;
  client::Tensors outputs;
  client::Trace trace;
  for (int i = 0; i < 30 && (i < 3 || trace.links.empty()); ++i) {
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
  }
  ASSERT_FALSE(trace.links.empty()) << "the edge was not used on a fast link: " << trace.route;

  // 2 Mbit/s: the 786 KB frame would take 3.1 s. The device learns it (one request is given up
  // and finished on the device) and stays local by choice.
  ASSERT_TRUE(relay_->SetLink({.rate_bps = 2e6}, {}).ok());
  int local = 0;
  for (int i = 0; i < 20 && local < 3; ++i) {
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
    local = trace.links.empty() && !trace.degraded ? local + 1 : 0;
  }
  ASSERT_EQ(local, 3) << trace.route;
  // Light probes (a few KB, sized to the link) and no copy while the device watches the link.
  // Measured once what the given-up request left in the relay's buffers has drained (2.5 s).
  int sent = 0, degraded = 0;
  std::string seen;
  std::vector<double> rates;  // of every light probe's note
  uint64_t before = 0;
  const auto measure_from = Clock::now() + std::chrono::milliseconds(2500);
  const auto slow_until = measure_from + std::chrono::seconds(3);
  while (Clock::now() < slow_until) {
    if (before == 0 && Clock::now() >= measure_from) before = relay_->up_bytes();
    ASSERT_TRUE(c->Infer(inputs_, &outputs, &trace, &error)) << error;
    sent += !trace.links.empty();
    degraded += trace.degraded;
    std::smatch m;
    if (std::regex_search(trace.route, m,
                          std::regex("light probe found the link at ([0-9.e+]+) Mbit/s")) &&
        (rates.empty() || trace.route != seen)) {
      seen = trace.route;
      rates.push_back(std::stod(m[1]));
    }
  }
  const uint64_t probed = relay_->up_bytes() - before;
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(degraded, 0) << trace.route;
  ASSERT_FALSE(rates.empty()) << "no light probe measured the link: " << trace.route;
  // The rate they report is a rate of this link (2 Mbit/s), not above it. How close it comes is a
  // timing figure, measured by bench/adapt_bench --scenario probes: here a first reading taken
  // while the given-up request still drains (0.11-0.22 Mbit/s in about a third of runs) can stand
  // for the whole window, because probes are paced by the rate they last read.
  std::sort(rates.begin(), rates.end());
  const double mbps = rates[rates.size() / 2];
  EXPECT_GT(mbps, 0.05) << seen;
  EXPECT_LT(mbps, 6.0) << seen;
  // 3 s at 2 Mbit/s is 750 KB, which copies of the request filled (726 KB with light_probes =
  // false: a copy cut once it cannot win still drains from the buffers); light probes take a
  // tenth of the link's time (50-67 KB here, 102 KB once on a loaded machine). The bound tells
  // light probes from copies of the request; how close they keep to a tenth is adapt_bench's.
  EXPECT_LT(probed, 250000u) << "bytes put on the link by probes while local";

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
