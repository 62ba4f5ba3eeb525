// Plan sets: the terms re-predict a placement exactly as the planner prices it, the set covers the
// sampled conditions within its tolerance, and its breakpoints are where the best plan changes.
#include "plan/plan_set.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/file_util.h"
#include "plan/plan_file.h"
#include "plan/plan_fixture.h"
#include "plan/plan_output.h"
#include "plan/plan_set_file.h"
#include "plan/request_builder.h"

namespace seam::plan {
namespace {

// A feature extractor whose tensors shrink as it goes: cheap on the cloud, costly on the device,
// with a large input, so that the best cut moves with both links and the device's speed.
constexpr const char* kThreeTiers = R"(
input image 600000
node stem reads image writes s:400000
node block1 reads s writes b1:100000
node block2 reads b1 writes b2:20000
node head reads b2 writes logits:4000:output
tier device overhead 0.2 boundary 0.000001 times stem=3 block1=6 block2=10 head=4
tier edge   overhead 0.5 boundary 0.0000005 times stem=1 block1=2 block2=3 head=1.5
tier cloud  overhead 0.8 times stem=0.2 block1=0.4 block2=0.6 head=0.3
link device-edge 50mbit,2ms,0.1
link edge-cloud 200mbit,15ms,0.1
)";

PlanRequest ThreeTiers() {
  auto fixture = ParsePlanFixture(kThreeTiers);
  EXPECT_TRUE(fixture.ok()) << fixture.status().ToString();
  PlanRequest r = fixture->request;
  // A lossless codec every tier knows, so that codecs and their CPU time are in the terms.
  for (auto& tier : r.tiers) {
    tier.codecs.push_back({.codec = "identity+zstd",
                           .encode_gbps = 0.4,
                           .decode_gbps = 1.2,
                           .ratio = 0.45,
                           .lossy = false});
  }
  return r;
}

PlanConditions Random(const PlanRequest& r, std::mt19937& rng) {
  std::uniform_real_distribution<double> speed(0.3, 10), scale(-5, 5), rtt(0.1, 40);
  PlanConditions c = NominalConditions(r);
  for (double& f : c.tier_speed) f = speed(rng);
  for (size_t k = 0; k < c.bandwidth_bps.size(); ++k) {
    c.bandwidth_bps[k] *= std::exp2(scale(rng));
    c.rtt_ms[k] = rtt(rng);
  }
  return c;
}

TEST(PlanSetTest, TermsPredictWhatThePlannerPrices) {
  const PlanRequest r = ThreeTiers();
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_GE(set->members.size(), 2u);
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const PlanConditions c = Random(r, rng);
    for (const auto& m : set->members) {
      auto priced = PricePlan(ScaledRequest(r, c), m.plan);
      ASSERT_TRUE(priced.ok()) << priced.status().ToString();
      EXPECT_NEAR(PredictLatencyMs(m.terms, c), priced->latency_ms,
                  1e-9 * std::max(1.0, priced->latency_ms))
          << m.label;
    }
  }
}

// A server's reported queueing delay is paid by every plan whose requests reach that tier (even
// one that only relays there), and by no other.
TEST(PlanSetTest, AQueueAtATierCostsThePlansThatReachIt) {
  const PlanRequest r = ThreeTiers();
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const PlanConditions nominal = NominalConditions(r);
  PlanConditions queued = nominal;
  queued.queue_ms = {0, 7, 30};
  bool saw_local = false, saw_edge = false;
  for (const auto& m : set->members) {
    const auto& used = m.terms.link_used;
    const double extra = (used[0] ? 7.0 : 0.0) + (used[1] ? 30.0 : 0.0);
    saw_local |= !used[0];
    saw_edge |= used[0];
    EXPECT_NEAR(PredictLatencyMs(m.terms, queued), PredictLatencyMs(m.terms, nominal) + extra, 1e-9)
        << m.label;
  }
  EXPECT_TRUE(saw_local && saw_edge);
}

TEST(PlanSetTest, PricingThePlannersOwnPlanGivesItsPredictions) {
  const PlanRequest r = ThreeTiers();
  auto plan = MakePlan(r);
  ASSERT_TRUE(plan.ok());
  auto priced = PricePlan(r, *plan);
  ASSERT_TRUE(priced.ok());
  EXPECT_DOUBLE_EQ(priced->latency_ms, plan->latency_ms);
  EXPECT_EQ(priced->compute_ms, plan->compute_ms);
  EXPECT_EQ(priced->link_ms, plan->link_ms);
  ASSERT_EQ(priced->moves.size(), plan->moves.size());
  for (size_t i = 0; i < plan->moves.size(); ++i) {
    EXPECT_EQ(priced->moves[i].codec, plan->moves[i].codec);
  }
}

TEST(PlanSetTest, FirstMemberIsTheOptimumAndTheAllDevicePlanIsKept) {
  const PlanRequest r = ThreeTiers();
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok());
  auto optimum = MakePlan(r);
  ASSERT_TRUE(optimum.ok());
  EXPECT_EQ(set->members[0].plan.tier_of_node, optimum->tier_of_node);
  EXPECT_NEAR(set->members[0].plan.latency_ms, optimum->latency_ms, 1e-9);
  int all_device = 0;
  for (const auto& m : set->members) all_device += m.all_device;
  EXPECT_EQ(all_device, 1);
  EXPECT_TRUE(set->note.empty()) << set->note;
}

TEST(PlanSetTest, EverySampledPointIsCoveredWithinTheTolerance) {
  const PlanRequest r = ThreeTiers();
  PlanSetOptions options;
  options.tolerance = 0.02;
  options.max_plans = 12;
  auto set = MakePlanSet(r, options);
  ASSERT_TRUE(set.ok());
  EXPECT_LE(set->worst_regret, 1.02);
  EXPECT_EQ(set->points, 4 * 2 * 2 * 9 * 9);
  // Off the grid too, the set stays close to the optimum (it is not exact between points).
  std::mt19937 rng(11);
  double worst = 1;
  for (int i = 0; i < 200; ++i) {
    PlanConditions c = NominalConditions(r);
    std::uniform_real_distribution<double> speed(1, 8), scale(-4, 4);
    c.tier_speed[0] = speed(rng);
    for (double& bps : c.bandwidth_bps) bps *= std::exp2(scale(rng));
    auto optimum = MakePlan(ScaledRequest(r, c));
    ASSERT_TRUE(optimum.ok());
    double best = INFINITY;
    for (const auto& m : set->members) best = std::min(best, PredictLatencyMs(m.terms, c));
    worst = std::max(worst, best / optimum->latency_ms);
  }
  EXPECT_LE(worst, 1.10);
  // A smaller budget of plans covers less, and the regret it reports says so.
  options.max_plans = 2;
  auto two = MakePlanSet(r, options);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->members.size(), 2u);
  EXPECT_GT(two->worst_regret, set->worst_regret);
}

TEST(PlanSetTest, BreakpointsAreWhereTheBestPlanChanges) {
  const PlanRequest r = ThreeTiers();
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->breakpoints.size(), 2u);
  const auto& ranges = set->breakpoints[0];
  ASSERT_GE(ranges.size(), 2u) << "the device-edge bandwidth should move the best plan";
  const PlanConditions nominal = NominalConditions(r);
  for (size_t i = 1; i < ranges.size(); ++i) {
    const double at = ranges[i].from_bps;
    EXPECT_DOUBLE_EQ(ranges[i - 1].to_bps, at);
    EXPECT_NE(ranges[i - 1].member, ranges[i].member);
    // At the breakpoint both plans predict the same latency.
    PlanConditions c = nominal;
    c.bandwidth_bps[0] = at;
    const double before = PredictLatencyMs(set->members[ranges[i - 1].member].terms, c);
    const double after = PredictLatencyMs(set->members[ranges[i].member].terms, c);
    EXPECT_NEAR(before, after, 1e-6 * before);
  }
  // The slowest link keeps everything on the device.
  EXPECT_TRUE(set->members[ranges.front().member].all_device);
}

TEST(PlanSetTest, ADeviceThatCannotHoldTheModelHasNoAllDevicePlanAndSaysSo) {
  PlanRequest r = ThreeTiers();
  r.graph.nodes[3].param_bytes = 5e6;
  r.tiers[0].memory_limit_bytes = 1e6;
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  for (const auto& m : set->members) EXPECT_FALSE(m.all_device) << m.label;
  EXPECT_NE(set->note.find("no all-device plan"), std::string::npos) << set->note;
  EXPECT_NE(set->note.find("memory"), std::string::npos) << set->note;
}

TEST(PlanSetTest, ThePlanFileSaysWhetherTheDeviceCanHoldItsFallback) {
  PlanRequest r = ThreeTiers();
  r.graph.nodes[3].param_bytes = 5e6;
  auto plan = MakePlan(r);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(PlanToJson(r, *plan).at("device_fallback").at("fits").get<bool>());
  EXPECT_EQ(PlanToTable(r, *plan).find("cannot hold"), std::string::npos);
  r.tiers[0].memory_limit_bytes = 1e6;
  plan = MakePlan(r);
  ASSERT_TRUE(plan.ok());
  const auto json = PlanToJson(r, *plan);
  EXPECT_FALSE(json.at("device_fallback").at("fits").get<bool>());
  EXPECT_EQ(json.at("device_fallback").at("param_bytes").get<double>(), 5e6);
  EXPECT_NE(PlanToTable(r, *plan).find("the device cannot hold the whole model"),
            std::string::npos);
}

TEST(PlanSetTest, SettingsOutOfRangeAreRefused) {
  const PlanRequest r = ThreeTiers();
  auto refused = [&](PlanSetOptions o, const std::string& words) {
    auto set = MakePlanSet(r, o);
    ASSERT_FALSE(set.ok());
    EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(set.status().message().find(words), std::string::npos) << set.status().message();
  };
  refused({.bandwidth_range = 1}, "bandwidth range");
  refused({.bandwidth_points = 1}, "bandwidth points");
  refused({.device_speeds = {}}, "tier speed");
  refused({.server_speeds = {0}}, "positive");
  refused({.tolerance = -0.1}, "tolerance");
  refused({.max_plans = 0}, "at least one");
  PlanRequest energy = r;
  energy.objective = Objective::kDeviceEnergy;
  auto set = MakePlanSet(energy, {});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("latency"), std::string::npos);
}

TEST(PlanSetTest, ConditionsBeyondTheSampledRangeAreNamed) {
  const PlanRequest r = ThreeTiers();
  const std::vector<std::string> tiers = {"device", "edge", "cloud"};
  const PlanConditions nominal = NominalConditions(r);
  const PlanSetOptions options;  // bandwidth x/16..x16, device speeds 1..8, servers 1..3
  PlanConditions c = nominal;
  c.bandwidth_bps[0] = nominal.bandwidth_bps[0] / 10;
  c.tier_speed[0] = 11;
  EXPECT_EQ(OutsideRange(tiers, nominal, options, c), "");
  c.bandwidth_bps[0] = nominal.bandwidth_bps[0] / 20;  // 50 Mbit/s / 20
  c.tier_speed[2] = 5;
  EXPECT_EQ(OutsideRange(tiers, nominal, options, c),
            "device-edge at 2.5 Mbit/s (the set covers 3.12-800), cloud 5x its profile's time "
            "(the set covers 0.667-4.5x)");
}

TEST(PlanSetFileTest, ASetWrittenReadsBackAndRefusesChangedOrForeignPlans) {
  PlanRequest r = ThreeTiers();
  r.graph.model_path = "model.onnx";
  r.graph.model_sha256 = std::string(64, 'a');
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok());
  const auto dir =
      std::filesystem::temp_directory_path() / ("plan_set_file_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "set.json").string();
  auto json = WritePlanSetMembers(path, r, *set, {});
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(path, json->dump(2)).ok());

  auto read = ReadPlanSet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->is_set);
  ASSERT_EQ(read->members.size(), set->members.size());
  const PlanConditions nominal = NominalConditions(r);
  EXPECT_EQ(read->nominal.bandwidth_bps, nominal.bandwidth_bps);
  for (size_t i = 0; i < set->members.size(); ++i) {
    EXPECT_EQ(read->members[i].terms.cpu_ms, set->members[i].terms.cpu_ms);
    EXPECT_EQ(read->members[i].all_device, set->members[i].all_device);
    auto plan = ReadExecutablePlan(read->members[i].plan_path);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->id, read->members[i].id);
  }
  // A lone plan reads as a set of one.
  auto lone = ReadPlanSet(read->members[1].plan_path);
  ASSERT_TRUE(lone.ok()) << lone.status().ToString();
  EXPECT_FALSE(lone->is_set);
  EXPECT_EQ(lone->members.size(), 1u);

  // A member replaced by a plan of another model is named.
  const std::string member = read->members[1].plan_path;
  auto text = ReadFile(member);
  ASSERT_TRUE(text.ok());
  auto changed = nlohmann::json::parse(*text);
  changed["model"]["sha256"] = std::string(64, 'b');
  ASSERT_TRUE(WriteFileAtomic(member, changed.dump()).ok());
  auto foreign = ReadPlanSet(path);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("another model"), std::string::npos)
      << foreign.status().message();
  // One whose placement changed since the set was written, too.
  changed["model"]["sha256"] = std::string(64, 'a');
  changed["placement"][0]["tier"] = "cloud";
  ASSERT_TRUE(WriteFileAtomic(member, changed.dump()).ok());
  auto moved = ReadPlanSet(path);
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.status().message().find("changed since"), std::string::npos)
      << moved.status().message();
  // And a file that is neither.
  ASSERT_TRUE(WriteFileAtomic(member, "{\"schema\": \"other\"}").ok());
  auto other = ReadPlanSet(member);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("neither a plan nor a plan set"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The set records what `seam plan` was given, so that the device can re-plan from it; and a plan
// made again for other conditions is recognised as a member when it places and codes the same.
TEST(PlanSetFileTest, ASetKeepsItsPlanningInputsAndAReplanIsRecognisedByPlacement) {
  PlanRequest r = ThreeTiers();
  r.graph.model_path = "model.onnx";
  r.graph.model_sha256 = std::string(64, 'b');
  auto set = MakePlanSet(r, {});
  ASSERT_TRUE(set.ok());
  ASSERT_GE(set->members.size(), 2u);
  PlanningInputs in;
  in.model_path = "/models/m.onnx";
  in.shapes = {"x=1x3x8x8"};
  in.profiles = {{"device", "/p/device.json"}, {"edge", "/p/edge.json"}};
  in.links = {{"device-edge", "20mbit,5ms"}};
  in.memory_mb = {{"device", 64}};
  in.slo_ms = 50;
  in.pin = "edge";
  in.lossy_allowed = {{"t", {"fp16"}}};
  EXPECT_EQ(PlanningInputsToJson(PlanningInputsFromJson(PlanningInputsToJson(in))),
            PlanningInputsToJson(in));

  const auto dir = std::filesystem::temp_directory_path() /
                   ("plan_set_planning_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "set.json").string();
  auto json = WritePlanSetMembers(path, r, *set, {});
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  (*json)["planning"] = PlanningInputsToJson(in);
  ASSERT_TRUE(WriteFileAtomic(path, json->dump(2)).ok());
  auto read = ReadPlanSet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->planning.has_value());
  EXPECT_EQ(PlanningInputsToJson(*read->planning), PlanningInputsToJson(in));

  // Member 0 priced again under a 10x slower uplink: other predictions, the same plan.
  PlanConditions slower = NominalConditions(r);
  slower.bandwidth_bps[0] /= 10;
  const PlanRequest scaled = ScaledRequest(r, slower);
  auto repriced = PricePlan(scaled, set->members[0].plan);
  ASSERT_TRUE(repriced.ok()) << repriced.status().ToString();
  const nlohmann::json again = PlanToJson(scaled, *repriced);
  const nlohmann::json m0 = PlanToJson(r, set->members[0].plan);
  EXPECT_NE(again.at("links"), m0.at("links"));
  EXPECT_TRUE(SamePlacementAndCodecs(again, m0));
  EXPECT_FALSE(SamePlacementAndCodecs(again, PlanToJson(r, set->members[1].plan)));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seam::plan
