// Cascades end to end on the bundled Fashion-MNIST pair (models/fashion): the big model served by
// a `seam serve` child on loopback, the small one in this process or in `seam cascade`, the real
// test images from Debian's dataset-fashion-mnist.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cascade/cascade_runner.h"
#include "cascade/dataset_run.h"
#include "cascade/idx_dataset.h"
#include "tests/server_process.h"
#include "tests/support/run_seam.h"

namespace seam::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kModels = std::string(SEAM_SOURCE_DIR) + "/models/fashion";

class CascadeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(std::string(cascade::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP()
          << "Debian's dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
    }
    repo_.AddVersion("fashion_big", 1, kModels + "/repo/fashion_big/1/model.onnx");
    std::string error;
    big_ = ServerProcess::Start(
        {"--repo", repo_.root(), "--http-port", "-1", "--log-level", "error"}, &error);
    ASSERT_TRUE(big_) << error;
    dir_ = scratch_.root();
  }

  // A cascade file beside the bundled small model's copy, pointing at the test's server.
  std::string WriteCascade(json changes = json::object(), const std::string& name = "c.json") {
    json j = {{"small", {{"model", kModels + "/fashion_small.onnx"}}},
              {"big", {{"address", big_->address()}, {"model", "fashion_big"}, {"version", 1}}},
              {"send", "input"},
              {"rule", {{"kind", "max_probability"}, {"output", "logits"}, {"threshold", 0.9}}},
              {"deadline_ms", 2000}};
    j.merge_patch(changes);
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << j.dump(1);
    return path;
  }

  json ReadJson(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
  }

  TestRepository repo_, scratch_;
  std::unique_ptr<ServerProcess> big_;
  std::string dir_;
};

TEST_F(CascadeTest, EasyExamplesStayNearTheDataAndHardOnesGoUp) {
  const std::string out = dir_ + "/run.json";
  auto r = RunSeam("cascade run --cascade " + WriteCascade() + " --range 0:400 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("answered by the small model"), std::string::npos) << r.output;
  const json s = ReadJson(out);
  EXPECT_EQ(s["examples"], 400);
  EXPECT_EQ(s["degraded"], 0);
  // At 0.9, the bundled small model (87% alone) keeps most examples and sends the doubtful up.
  EXPECT_GT(s["small_answered"].get<int>(), 150) << s.dump();
  EXPECT_GT(s["handed_off"].get<int>(), 40) << s.dump();
  EXPECT_EQ(s["small_answered"].get<int>() + s["handed_off"].get<int>(), 400);
  EXPECT_GT(s["accuracy"].get<double>(), 0.88) << s.dump();
  EXPECT_NEAR(s["bytes_up_per_input"].get<double>(),
              28 * 28 * 4 * s["cloud_fraction"].get<double>(), 1e-6);

  // A threshold no answer fails sends nothing up; one no answer reaches sends everything.
  auto none = RunSeam("cascade run --cascade " +
                      WriteCascade({{"rule", {{"threshold", 0.0}}}}, "none.json") +
                      " --range 0:100 --json " + out);
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(ReadJson(out)["handed_off"], 0);
  auto all =
      RunSeam("cascade run --cascade " +
              WriteCascade({{"rule", {{"kind", "margin"}, {"threshold", 1.0}}}}, "all.json") +
              " --range 0:100 --json " + out);
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_GE(ReadJson(out)["handed_off"].get<int>(), 95);
}

TEST_F(CascadeTest, CalibrationMeetsItsTargetOnValidationAndReportsTheHeldOutHalf) {
  const std::string written = dir_ + "/calibrated.json", figures = dir_ + "/cal.json",
                    curve = dir_ + "/curve.csv";
  auto r =
      RunSeam("cascade calibrate --cascade " + WriteCascade() +
              " --validation 0:1000 --test 1000:2000 --accuracy-within-big 0.5 --curve " + curve +
              " --svg " + dir_ + "/curve.svg --write " + written + " --json " + figures);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json f = ReadJson(figures);
  const auto& v = f["validation"];
  EXPECT_GE(v["accuracy"].get<double>(), v["big_accuracy"].get<double>() - 0.005 - 1e-9) << f;
  EXPECT_GT(v["big_accuracy"].get<double>(), v["small_accuracy"].get<double>()) << f;
  // It sends the fewest that meet the target: far from everything.
  EXPECT_GT(v["cloud_fraction"].get<double>(), 0.0) << f;
  EXPECT_LT(v["cloud_fraction"].get<double>(), 0.7) << f;
  const auto& held = f["held_out"];
  EXPECT_EQ(held["examples"], 1000);
  EXPECT_GT(held["cascade"]["accuracy"].get<double>(),
            held["small_only"]["accuracy"].get<double>());
  // The written cascade carries the threshold and runs as calibrated.
  auto c = cascade::ReadCascadeFile(written);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->rule.threshold, f["threshold"].get<double>());
  std::ifstream csv(curve);
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "threshold,accuracy,cloud_fraction,bytes_per_input,mean_latency_ms");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_GT(rows, 20);
  EXPECT_TRUE(fs::exists(dir_ + "/curve.svg"));
}

TEST_F(CascadeTest, WhenTheBigModelIsGoneHardExamplesAreAnsweredDegradedNotLost) {
  auto file = cascade::ReadCascadeFile(WriteCascade({{"deadline_ms", 500}}));
  ASSERT_TRUE(file.ok());
  auto runner = cascade::CascadeRunner::Open(*file);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto set = cascade::ReadFashionMnist(cascade::kFashionMnistDir, "test");
  ASSERT_TRUE(set.ok());
  const auto some = cascade::Slice(*set, 0, 60);
  auto before = cascade::RunOnDataset(**runner, some);
  ASSERT_TRUE(before.ok());
  ASSERT_GT(before->handed_off, 0);
  EXPECT_EQ(before->degraded, 0);

  big_->Stop();
  auto after = cascade::RunOnDataset(**runner, some);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->examples, 60);
  EXPECT_EQ(after->degraded, after->handed_off);
  EXPECT_GT(after->degraded, 0);
  TensorMap feed;
  feed.emplace("image", some.Image(0));
  // An example the small model doubts says why it was not sent up.
  for (size_t i = 0; i < some.size(); ++i) {
    feed["image"] = some.Image(i);
    auto a = (*runner)->Run(feed);
    ASSERT_TRUE(a.ok());
    if (a->decision.confident) continue;
    EXPECT_TRUE(a->degraded);
    EXPECT_EQ(a->tier, "small");
    EXPECT_NE(a->reason.find("did not answer"), std::string::npos) << a->reason;
    break;
  }
}

TEST_F(CascadeTest, FieldPoliciesRunOnlyTheFramesWorthRunningAndCountTheRest) {
  const std::string out = dir_ + "/run.json";
  const std::string cascade = WriteCascade();
  auto r = RunSeam("cascade run --cascade " + cascade + " --range 0:100 --every-n 4 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json s = ReadJson(out);
  EXPECT_EQ(s["field"]["frames"], 100);
  EXPECT_EQ(s["field"]["processed"], 25);
  EXPECT_EQ(s["field"]["sampled_out"], 75);
  EXPECT_EQ(s["examples"], 25);
  EXPECT_NE(r.output.find("75 not the 1 of 4"), std::string::npos) << r.output;

  r = RunSeam("cascade run --cascade " + cascade +
              " --range 0:50 --windows 00:00-06:00 --local-time 12:00 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  s = ReadJson(out);
  EXPECT_EQ(s["field"]["outside_window"], 50);
  EXPECT_EQ(s["examples"], 0);
  r = RunSeam("cascade run --cascade " + cascade +
              " --range 0:50 --windows 22:00-06:00 --local-time 03:10 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadJson(out)["examples"], 50);

  // Different garments differ by far more than 1/255 per pixel; nothing differs by more than 1.
  r = RunSeam("cascade run --cascade " + cascade +
              " --range 0:50 --motion-threshold 0.004 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadJson(out)["field"]["no_motion"], 0);
  r = RunSeam("cascade run --cascade " + cascade + " --range 0:50 --motion-threshold 1 --json " +
              out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  s = ReadJson(out);
  EXPECT_EQ(s["field"]["processed"], 1);  // the first frame only
  EXPECT_EQ(s["field"]["no_motion"], 49);

  r = RunSeam("cascade run --cascade " + cascade +
              " --windows 00:00-06:00 --time-zone Mars/Olympus");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown time zone 'Mars/Olympus'"), std::string::npos) << r.output;
  r = RunSeam("cascade run --cascade " + cascade + " --every-n 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("every_n must be >= 1"), std::string::npos) << r.output;
  r = RunSeam("cascade run --cascade " + cascade + " --windows 6-7");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("HH:MM"), std::string::npos) << r.output;
}

TEST_F(CascadeTest, MistakesGetOneClearLine) {
  // Threshold out of range.
  auto r = RunSeam("cascade run --cascade " + WriteCascade({{"rule", {{"threshold", 1.5}}}}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("threshold is between 0 and 1"), std::string::npos) << r.output;
  // A big model that reads something else: the cascade's models disagree on shapes.
  repo_.AddVersion("other", 1, std::string(SEAM_SOURCE_DIR) + "/models/cnn_chain.onnx");
  std::string error;
  auto other = ServerProcess::Start({"--repo", repo_.root(), "--http-port", "-1"}, &error);
  ASSERT_TRUE(other) << error;
  r = RunSeam("cascade run --cascade " +
              WriteCascade({{"big", {{"address", other->address()}, {"model", "other"}}}}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("disagree on shapes"), std::string::npos) << r.output;
  // No calibration target, or two.
  r = RunSeam("cascade calibrate --cascade " + WriteCascade());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("give one target"), std::string::npos) << r.output;
  // A set without labels, and one labelled for another task.
  auto set = cascade::ReadFashionMnist(cascade::kFashionMnistDir, "test");
  ASSERT_TRUE(set.ok());
  const std::string data = dir_ + "/data";
  fs::create_directories(data);
  fs::copy_file(std::string(cascade::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz",
                data + "/t10k-images-idx3-ubyte.gz");
  r = RunSeam("cascade calibrate --cascade " + WriteCascade() + " --dataset " + data +
              " --max-cloud-ratio 0.3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("t10k-labels-idx1-ubyte.gz: cannot open"), std::string::npos) << r.output;
  std::string labels = {0, 0, 8, 1, 0, 0, 0x27, 0x10};  // 10,000 labels, all 12
  labels.append(10000, 12);
  std::ofstream(data + "/t10k-labels-idx1-ubyte.gz", std::ios::binary) << labels;
  r = RunSeam("cascade calibrate --cascade " + WriteCascade() + " --dataset " + data +
              " --max-cloud-ratio 0.3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("labelled 12, not one of the models' 10 classes"), std::string::npos)
      << r.output;
  r = RunSeam("cascade calibrate --cascade " + WriteCascade() +
              " --max-cloud-ratio 0.3 --validation 0:100 --test 50:150");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("overlap"), std::string::npos) << r.output;
  r = RunSeam("cascade run --cascade " + WriteCascade() + " --range 5:2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--range 5:2 is empty"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace seam::testing
