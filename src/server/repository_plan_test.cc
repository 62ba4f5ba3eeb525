// The repository decision without files or threads: snapshots in, load/unload steps out.
#include "server/repository_plan.h"

#include <gtest/gtest.h>

namespace seam::server {
namespace {

// A scanned model whose version v has file fingerprint "f<v>" (or the given override).
ScannedModel Model(std::vector<int64_t> versions, repository::VersionPolicy policy = {}) {
  ScannedModel m;
  m.dir = "repo/m";
  m.config_path = "repo/m/config.json";
  m.config = repository::DefaultModelConfig("m");
  m.config->version_policy = policy;
  m.config_fingerprint = "c1";
  for (int64_t v : versions) m.versions[v] = std::string("f").append(std::to_string(v));
  return m;
}

VersionStatus Ready(const ScannedModel& m, int64_t v) {
  return {VersionState::kReady, "", VersionFingerprint(m, v), ""};
}
VersionStatus Failed(const ScannedModel& m, int64_t v) {
  return {VersionState::kUnavailable, "load failed", "", VersionFingerprint(m, v)};
}

RepositoryPlan Plan(const RepositoryState& state, const ScannedModel& m, PlanRequest request = {}) {
  RepositoryScan scan;
  scan.models["m"] = m;
  return PlanRepository(state, scan, request);
}

std::vector<int64_t> Loads(const RepositoryPlan& plan) {
  std::vector<int64_t> v;
  for (const auto& s : plan.loads) v.push_back(s.version);
  return v;
}
std::vector<int64_t> Unloads(const RepositoryPlan& plan) {
  std::vector<int64_t> v;
  for (const auto& s : plan.unloads) v.push_back(s.version);
  return v;
}

TEST(RepositoryPlanTest, StartupLoadsWhatThePolicySelects) {
  EXPECT_EQ(Loads(Plan({}, Model({1, 2, 3}))), (std::vector<int64_t>{3}));
  EXPECT_EQ(Loads(Plan({}, Model({1, 2, 3}, {repository::VersionPolicy::Kind::kLatest, 2, {}}))),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Loads(Plan({}, Model({1, 2, 3}, {repository::VersionPolicy::Kind::kAll, 1, {}}))),
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(
      Loads(Plan({}, Model({1, 2, 3}, {repository::VersionPolicy::Kind::kSpecific, 1, {1, 7}}))),
      (std::vector<int64_t>{1}));
  const auto plan = Plan({}, Model({4}));
  ASSERT_EQ(plan.loads.size(), 1u);
  EXPECT_EQ(plan.loads[0], (LoadStep{"m", 4, "f4|c1"}));
}

TEST(RepositoryPlanTest, SteadyStateIsEmpty) {
  const auto m = Model({1, 2});
  RepositoryState state;
  state["m"].versions[2] = Ready(m, 2);
  EXPECT_TRUE(Plan(state, m).empty());
}

TEST(RepositoryPlanTest, NewVersionLoadsBeforeTheOldOneIsUnloaded) {
  const auto m = Model({1, 2});
  RepositoryState state;
  state["m"].versions[1] = Ready(Model({1}), 1);
  // Round 1: load v2, keep v1 (v2 does not serve yet).
  auto plan = Plan(state, m);
  EXPECT_EQ(Loads(plan), (std::vector<int64_t>{2}));
  EXPECT_TRUE(plan.unloads.empty());
  // Round 2, v2 ready: now v1 goes.
  state["m"].versions[2] = Ready(m, 2);
  plan = Plan(state, m);
  EXPECT_TRUE(plan.loads.empty());
  EXPECT_EQ(Unloads(plan), (std::vector<int64_t>{1}));
  EXPECT_EQ(plan.unloads[0], (UnloadStep{"m", 1, "not selected by the version policy"}));
}

TEST(RepositoryPlanTest, FailedNewVersionKeepsTheOldOneServing) {
  const auto m = Model({2, 3});
  RepositoryState state;
  state["m"].versions[2] = Ready(m, 2);
  state["m"].versions[3] = Failed(m, 3);
  EXPECT_TRUE(Plan(state, m).empty());  // no retry on the same files, v2 stays
  // The same files, by explicit request: retried.
  EXPECT_EQ(Loads(Plan(state, m, {"m", true})), (std::vector<int64_t>{3}));
  // New files for v3: retried without being asked.
  auto fixed = m;
  fixed.versions[3] = "f3-new";
  EXPECT_EQ(Loads(Plan(state, fixed)), (std::vector<int64_t>{3}));
}

TEST(RepositoryPlanTest, ARefusedNewestVersionGivesWayToTheNewestThatLoads) {
  // A restart with v3 tampered: v3 failed on these files and serves nothing, so "latest 1"
  // selects v2; once v2 serves, nothing more is planned.
  const auto m = Model({1, 2, 3});
  RepositoryState state;
  state["m"].versions[3] = Failed(m, 3);
  EXPECT_EQ(Loads(Plan(state, m)), (std::vector<int64_t>{2}));
  // v2 refused too: v1.
  state["m"].versions[2] = Failed(m, 2);
  EXPECT_EQ(Loads(Plan(state, m)), (std::vector<int64_t>{1}));
  state["m"].versions[1] = Ready(m, 1);
  EXPECT_TRUE(Plan(state, m).empty());
  // "latest 2": the two newest that load.
  const auto m2 = Model({1, 2, 3}, {repository::VersionPolicy::Kind::kLatest, 2, {}});
  RepositoryState state2;
  state2["m"].versions[3] = Failed(m2, 3);
  EXPECT_EQ(Loads(Plan(state2, m2)), (std::vector<int64_t>{1, 2}));
  // An explicit load retries what the policy selects among every version: v3.
  EXPECT_EQ(Loads(Plan(state, m, {"m", true})), (std::vector<int64_t>{3}));
  // New files for v3: it is wanted again, and v1 goes once it serves.
  auto fixed = m;
  fixed.versions[3] = "f3-new";
  EXPECT_EQ(Loads(Plan(state, fixed)), (std::vector<int64_t>{3}));
  state["m"].versions[3] = Ready(fixed, 3);
  EXPECT_EQ(Unloads(Plan(state, fixed)), (std::vector<int64_t>{1}));
}

TEST(RepositoryPlanTest, ARetryOrANewVersionThatFailsCostsNoVersionThatServes) {
  // latest 2, v1 and v2 serving, v3 refused: a forced load retries v3 and unloads nothing.
  const auto m = Model({1, 2, 3}, {repository::VersionPolicy::Kind::kLatest, 2, {}});
  RepositoryState state;
  state["m"].versions[1] = Ready(m, 1);
  state["m"].versions[2] = Ready(m, 2);
  state["m"].versions[3] = Failed(m, 3);
  auto forced = Plan(state, m, {"m", true});
  EXPECT_EQ(Loads(forced), (std::vector<int64_t>{3}));
  EXPECT_TRUE(forced.unloads.empty());
  EXPECT_TRUE(Plan(state, m).empty());
  // A new v4 seen by a poll: loaded, and v2 (then unwanted) stays until the next round shows
  // whether v4 serves.
  auto with_v4 = Model({1, 2, 3, 4}, {repository::VersionPolicy::Kind::kLatest, 2, {}});
  state["m"].versions[3] = Failed(with_v4, 3);
  auto first = Plan(state, with_v4);
  EXPECT_EQ(Loads(first), (std::vector<int64_t>{4}));
  EXPECT_TRUE(first.unloads.empty());
  state["m"].versions[4] = Failed(with_v4, 4);  // it failed: nothing changes
  EXPECT_TRUE(Plan(state, with_v4).empty());
  state["m"].versions[4] = Ready(with_v4, 4);  // it serves: v1 goes (v2 and v4 are the newest good)
  EXPECT_EQ(Unloads(Plan(state, with_v4)), (std::vector<int64_t>{1}));
}

TEST(RepositoryPlanTest, LastReadyVersionIsNeverDroppedByTheDisk) {
  // v2's directory vanished and nothing else is wanted: v2 stays.
  RepositoryState state;
  state["m"].versions[2] = Ready(Model({2}), 2);
  EXPECT_TRUE(Plan(state, Model({})).empty());
  // The whole model directory vanished: the highest ready version stays, older ones go.
  state["m"].versions[1] = Ready(Model({1}), 1);
  const auto plan = PlanRepository(state, RepositoryScan{}, {});
  EXPECT_TRUE(plan.loads.empty());
  ASSERT_EQ(plan.unloads.size(), 1u);
  EXPECT_EQ(plan.unloads[0], (UnloadStep{"m", 1, "the model's directory is gone"}));
}

TEST(RepositoryPlanTest, RemovedVersionGoesOnceAnotherServes) {
  const auto m = Model({1, 2}, {repository::VersionPolicy::Kind::kAll, 1, {}});
  RepositoryState state;
  state["m"].versions[1] = Ready(m, 1);
  state["m"].versions[2] = Ready(m, 2);
  state["m"].versions[3] = Ready(Model({3}), 3);
  const auto plan = Plan(state, m);
  ASSERT_EQ(plan.unloads.size(), 1u);
  EXPECT_EQ(plan.unloads[0], (UnloadStep{"m", 3, "its version directory is gone"}));
}

TEST(RepositoryPlanTest, ChangedFilesOrConfigReload) {
  auto m = Model({1});
  RepositoryState state;
  state["m"].versions[1] = Ready(m, 1);
  auto rewritten = m;
  rewritten.versions[1] = "f1-rewritten";
  EXPECT_EQ(Loads(Plan(state, rewritten)), (std::vector<int64_t>{1}));
  auto reconfigured = m;
  reconfigured.config_fingerprint = "c2";
  EXPECT_EQ(Loads(Plan(state, reconfigured)), (std::vector<int64_t>{1}));
}

TEST(RepositoryPlanTest, InvalidConfigKeepsWhatServes) {
  auto m = Model({1, 2});
  m.config.reset();
  m.config_status = InvalidArgument("bad");
  RepositoryState state;
  state["m"].versions[1] = Ready(Model({1}), 1);
  EXPECT_TRUE(Plan(state, m).empty());
}

TEST(RepositoryPlanTest, UnloadedByRequestStaysUnloaded) {
  RepositoryState state;
  state["m"].unloaded_by_request = true;
  EXPECT_TRUE(Plan(state, Model({1})).empty());
}

TEST(RepositoryPlanTest, OnlyTheRequestedModel) {
  RepositoryScan scan;
  scan.models["a"] = Model({1});
  scan.models["b"] = Model({1});
  const auto plan = PlanRepository({}, scan, {"b", true});
  ASSERT_EQ(plan.loads.size(), 1u);
  EXPECT_EQ(plan.loads[0].model, "b");
  EXPECT_EQ(PlanRepository({}, scan, {}).loads.size(), 2u);
}

TEST(RepositoryPlanTest, LoadingVersionsAreLeftAlone) {
  const auto m = Model({1});
  RepositoryState state;
  state["m"].versions[1] = {VersionState::kLoading, "", "", ""};
  EXPECT_TRUE(Plan(state, m).empty());
}

}  // namespace
}  // namespace seam::server
