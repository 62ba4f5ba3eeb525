// The profile format: JSON round trip, validation of what a reader must not accept, and the
// median/p90 summary.
#include <gtest/gtest.h>

#include "profile_format/profile.h"
#include "profile_format/timing.h"

namespace seam::profile {
namespace {

Profile Example() {
  Profile p;
  p.tier = "edge";
  p.model_path = "models/cnn_chain.onnx";
  p.model_sha256 = "abc";
  p.model_nodes = 2;
  p.cpu = "Test CPU";
  p.logical_cores = 4;
  p.memory_bytes = int64_t{8} << 30;
  p.threads = 2;
  p.cpu_quota = 0.5;
  p.quota_applied = true;
  p.quota_mechanism = "cgroup-v1";
  p.runs = 20;
  p.warmup = 3;
  p.seed = 7;
  p.runtime = "onnxruntime 1.29.0";
  p.profile_seconds = 12.5;
  p.per_run_overhead = {0.01, 0.02};
  p.whole_model = {1.5, 1.7};
  p.nodes = {{"conv", "Conv", {1.0, 1.1}}, {"relu", "Relu", {0.25, 0.3}}};
  p.segments = {{0, 1, {1.5, 1.7}, 4096}, {1, 1, {0.3, 0.35}, 2048}};
  p.codecs = {{"fp16", 2.5, 3.0, 0.5}};
  p.power_compute_w = 4;
  p.power_transmit_w = 1.5;
  p.power_idle_w = 0.5;
  p.price_per_compute_second = 0.0001;
  p.price_per_gb_egress = 0.09;
  return p;
}

TEST(ProfileFormatTest, JsonRoundTrips) {
  const Profile p = Example();
  auto back = ProfileFromJson(ProfileToJson(p), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ProfileToJson(*back), ProfileToJson(p));
  EXPECT_EQ(back->seed, 7u);
  EXPECT_EQ(back->runtime, "onnxruntime 1.29.0");
  EXPECT_EQ(back->profile_seconds, 12.5);
  EXPECT_EQ(back->segments[0].boundary_bytes, 4096);
}

// boundary_bytes is optional: profiles written before it existed still read, without it.
TEST(ProfileFormatTest, BoundaryBytesAreOptional) {
  nlohmann::json j = ProfileToJson(Example());
  j["segments"][1].erase("boundary_bytes");
  auto p = ProfileFromJson(j, "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->segments[0].boundary_bytes, 4096);
  EXPECT_FALSE(p->segments[1].boundary_bytes.has_value());
  EXPECT_FALSE(ProfileToJson(*p)["segments"][1].contains("boundary_bytes"));
}

void ExpectRejected(nlohmann::json j, const std::string& message) {
  auto p = ProfileFromJson(j, "p.json");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(message), std::string::npos) << p.status().message();
}

TEST(ProfileFormatTest, RejectsInconsistentProfiles) {
  nlohmann::json j = ProfileToJson(Example());
  j["schema"] = "seam.analysis/v1";
  ExpectRejected(j, "p.json: not a seam profile");
  j = ProfileToJson(Example());
  j["model"]["nodes"] = 3;
  ExpectRejected(j, "p.json: model.nodes is 3 but the profile lists 2 nodes");
  j = ProfileToJson(Example());
  j["segments"][1]["last"] = 2;
  ExpectRejected(j, "p.json: segment [1,2] is not a range of the model's 2 compute nodes");
  j = ProfileToJson(Example());
  j["segments"][1]["time"]["median_ms"] = -1;
  ExpectRejected(j, "segment [1,1] has a negative time");
  j = ProfileToJson(Example());
  j["segments"][1]["boundary_bytes"] = -4;
  ExpectRejected(j, "segment [1,1] has negative boundary_bytes");
  j = ProfileToJson(Example());
  j["nodes"][0]["time"]["p90_ms"] = -1;
  ExpectRejected(j, "node 'conv' has a negative time");
  j = ProfileToJson(Example());
  j.erase("whole_model");
  ExpectRejected(j, "p.json: malformed profile");
}

TEST(TimingTest, MedianAndNearestRankP90) {
  Timing t = Summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(t.median_ms, 3);
  EXPECT_EQ(t.p90_ms, 5);  // rank ceil(4.5) = 5
  t = Summarize({4, 1, 3, 2});
  EXPECT_EQ(t.median_ms, 2.5);
  EXPECT_EQ(t.p90_ms, 4);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(Summarize(hundred).p90_ms, 90);
  EXPECT_EQ(Summarize({7}).median_ms, 7);
  EXPECT_EQ(Summarize({7}).p90_ms, 7);
  EXPECT_EQ(Summarize({}).median_ms, 0);
}

}  // namespace
}  // namespace seam::profile
