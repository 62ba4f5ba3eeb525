// What a profile measures besides single nodes: the prefixes and tiles the latency model takes
// its zones from, and the codecs on activations.
#include <gtest/gtest.h>

#include <random>

#include "profile/codec_profiler.h"
#include "profile/profiler.h"

namespace seam::profile {
namespace {

std::vector<NodeTiming> Timings(const std::vector<double>& ms, const char* op = "Conv") {
  std::vector<NodeTiming> nodes;
  for (double t : ms) nodes.push_back({"n", op, {t, t}});
  return nodes;
}

// Heavy early nodes, many light late ones: BlazeFace's shape in miniature.
std::vector<NodeTiming> Nodes() {
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) ms.push_back(i < 10 ? 1.0 : 0.05);
  return Timings(ms);
}

TEST(SegmentPlanTest, TilesCoverTheModelAfterTheFirstZonesFirstHalf) {
  const auto tiles = TileSegments(Nodes(), 8);
  ASSERT_EQ(tiles.size(), 8u);
  // The first zone's second half, then consecutive zones to the end.
  EXPECT_GT(tiles[0].first, 0);
  for (size_t i = 1; i < tiles.size(); ++i) {
    EXPECT_EQ(tiles[i].first, tiles[i - 1].second + 1);
    EXPECT_LE(tiles[i].first, tiles[i].second);
  }
  EXPECT_EQ(tiles.back().second, 39);
  // Zones follow node time as well as node count: the ten heavy nodes get several zones, the
  // thirty light ones several too.
  int early = 0;
  for (const auto& t : tiles) early += t.second < 10;
  EXPECT_GE(early, 3);
  EXPECT_GE(static_cast<int>(tiles.size()) - early, 3);
}

TEST(SegmentPlanTest, PrefixesEndAtZoneBoundaries) {
  const auto prefixes = PrefixSegments(Nodes(), 3);
  ASSERT_EQ(prefixes.size(), 3u);
  int last = -1;
  for (const auto& p : prefixes) {
    EXPECT_EQ(p.first, 0);
    EXPECT_GT(p.second, last);
    EXPECT_LT(p.second, 39);  // never the whole model, which is measured anyway
    last = p.second;
  }
  // With as many tiles as prefix zones, the zones agree.
  const auto tiles = TileSegments(Nodes(), 4);
  for (size_t i = 0; i < prefixes.size(); ++i) EXPECT_EQ(prefixes[i].second, tiles[i].second);
}

TEST(SegmentPlanTest, SmallModelsGetFewerZones) {
  EXPECT_TRUE(TileSegments(Timings({1.0}), 8).empty());
  EXPECT_TRUE(PrefixSegments(Timings({1.0}), 3).empty());
  const auto tiles = TileSegments(Timings({1.0, 1.0, 1.0}), 8);
  EXPECT_LE(tiles.size(), 3u);
  for (const auto& t : tiles) EXPECT_LE(t.first, t.second);
  EXPECT_TRUE(TileSegments(Nodes(), 0).empty());
  EXPECT_TRUE(PrefixSegments(Nodes(), 0).empty());
}

TEST(SegmentPlanTest, NoTileBeginsWithANodeThatFusesIntoItsPredecessor) {
  // Conv, BatchNormalization, Relu, over and over: every tile and prefix boundary falls before a
  // Conv, never between a Conv and what ONNX Runtime fuses into it.
  std::vector<NodeTiming> nodes;
  for (int i = 0; i < 30; ++i) {
    const char* op = i % 3 == 0 ? "Conv" : i % 3 == 1 ? "BatchNormalization" : "Relu";
    nodes.push_back({"n", op, {i % 3 == 0 ? 1.0 : 0.1, 0}});
  }
  const auto tiles = TileSegments(nodes, 6);
  ASSERT_GE(tiles.size(), 4u);
  for (const auto& t : tiles) EXPECT_EQ(nodes[t.first].op_type, "Conv") << t.first;
  for (const auto& p : PrefixSegments(nodes, 3)) {
    EXPECT_EQ(nodes[p.second + 1].op_type, "Conv") << p.second;
  }
}

Tensor Activation(int64_t channels, int64_t side, uint32_t seed) {
  Tensor t = Tensor::Zeros(DType::kFloat32, {1, channels, side, side});
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* p = t.data_as<float>();
  for (size_t i = 0; i < t.byte_size() / 4; ++i) p[i] = std::max(normal(rng), 0.0f);  // ReLU
  return t;
}

TEST(CodecProfilerTest, ThroughputAndRatioOverAllTensors) {
  const std::vector<Tensor> tensors = {Activation(16, 64, 1), Activation(32, 16, 2)};
  auto codecs = MeasureCodecs(tensors, DefaultProfiledCodecs(), {.reps = 2, .min_batch_ms = 1});
  ASSERT_TRUE(codecs.ok()) << codecs.status().ToString();
  ASSERT_EQ(codecs->size(), DefaultProfiledCodecs().size());
  for (const auto& c : *codecs) {
    EXPECT_GT(c.encode_gbps, 0) << c.codec;
    EXPECT_GT(c.decode_gbps, 0) << c.codec;
    EXPECT_GT(c.ratio, 0) << c.codec;
    EXPECT_LT(c.ratio, 1) << c.codec;  // half the values are zeros: everything compresses
  }
  auto ratio = [&](const std::string& name) {
    for (const auto& c : *codecs) {
      if (c.codec == name) return c.ratio;
    }
    return -1.0;
  };
  // Serialized bytes: the payload plus a small header per tensor.
  EXPECT_NEAR(ratio("fp16"), 0.5, 0.01);
  EXPECT_NEAR(ratio("int8"), 0.25, 0.01);
  EXPECT_LT(ratio("fp16+zstd"), ratio("fp16"));
  EXPECT_LT(ratio("int8+zstd"), ratio("int8"));
}

TEST(CodecProfilerTest, RefusesUnknownCodecsAndNothingToMeasure) {
  auto bad = MeasureCodecs({Activation(1, 4, 1)}, {"fp8"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp8"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(MeasureCodecs({}, {"fp16"}, {}).ok());
}

}  // namespace
}  // namespace seam::profile
