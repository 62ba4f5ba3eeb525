// cascade_bench: the bundled Fashion-MNIST cascade (models/fashion) against each of its models
// alone, measured for real on this machine:
//
//   small   the small model in this process (the device or edge box)
//   big     the big model on a `seam serve` child (the cloud), reached through a ShapedRelay
//           (src/lab) with the uplink of a site: --mbit, --rtt-ms
//
// Every example of the test set's validation half (0:5000) and held-out half (5000:10000) goes
// through both models once; each strategy is then evaluated on those answers and times: the
// small model alone, the big model alone (everything sent up), and the cascade at the threshold
// calibrated on the validation half for each target (accuracy within 0.5 / 0.25 / 0 percentage
// points of the big model alone). Reported on the held-out half: accuracy, share sent up, bytes
// sent up per input, p50 and mean latency. Goal (issue): the cascade within 0.5 pp of the big
// model alone; X = the share it sends up.
// Output: stdout, OUT/cascade.json, OUT/curve.csv (validation sweep), OUT/curve.svg (the
// threshold chosen for big - 0.25 pp marked).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench/serve_child.h"
#include "cascade/calibration.h"
#include "cascade/cascade_runner.h"
#include "cascade/curve_output.h"
#include "cascade/dataset_run.h"
#include "common/file_util.h"
#include "lab/shaped_relay.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Flags {
  std::string out = "cascade_bench_out";
  std::string seam = SEAM_BINARY;
  std::string models = std::string(SEAM_SOURCE_DIR) + "/models/fashion";
  std::string dataset = cascade::kFashionMnistDir;
  double mbit = 20, rtt_ms = 40;
  size_t examples = 10000;  // validation: the first half, held out: the second
};

int Run(const Flags& f) {
  fs::create_directories(f.out);
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "cascade_bench: %s\n", s.ToString().c_str());
    return 1;
  };
  auto set = cascade::ReadFashionMnist(f.dataset, "test");
  if (!set.ok()) return fail(set.status());
  auto big = ServeChild::Start(
      f.seam, {"--repo", f.models + "/repo", "--http-port", "-1", "--log-level", "warn"},
      f.out + "/big.log");
  if (!big.ok()) return fail(big.status());
  const auto colon = (*big)->address().rfind(':');
  const lab::LinkShape link{.rate_bps = f.mbit * 1e6, .delay_ms = f.rtt_ms / 2};
  auto relay = lab::ShapedRelay::Start(
      {.listen = {"127.0.0.1", 0},
       .target = {"127.0.0.1", std::stoi((*big)->address().substr(colon + 1))},
       .up = link,
       .down = link});
  if (!relay.ok()) return fail(relay.status());

  cascade::CascadeFile file;
  file.path = f.out + "/cascade.json";
  file.name = "fashion";
  file.small_model = f.models + "/fashion_small.onnx";
  file.big_address = "127.0.0.1:" + std::to_string((*relay)->port());
  file.big_model = "fashion_big";
  file.big_version = 1;
  file.rule = {.kind = cascade::RuleKind::kMaxProbability, .threshold = 0.9, .output = "logits"};
  file.deadline_ms = 5000;
  auto runner = cascade::CascadeRunner::Open(file, 30000);
  if (!runner.ok()) return fail(runner.status());

  const size_t half = std::min(f.examples, set->size()) / 2;
  std::printf(
      "[cascade] Fashion-MNIST test set, validation 0:%zu, held-out %zu:%zu; big model "
      "behind a %g Mbit/s, %g ms round-trip link\n",
      half, half, 2 * half, f.mbit, f.rtt_ms);
  auto validation = cascade::RecordBoth(**runner, cascade::Slice(*set, 0, half));
  if (!validation.ok()) return fail(validation.status());
  auto held = cascade::RecordBoth(**runner, cascade::Slice(*set, half, 2 * half));
  if (!held.ok()) return fail(held.status());

  const auto kind = file.rule.kind;
  using cascade::Strategy;
  auto row = [&](const std::string& name, Strategy s, double threshold, double accuracy,
                 double sent, double bytes) {
    const double p50 = cascade::LatencyPercentileMs(kind, *held, s, threshold, 0.5);
    double mean = 0;
    for (const auto& r : *held) {
      const bool up = s == Strategy::kBigOnly ||
                      (s == Strategy::kCascade && !cascade::Passes(kind, r.score, threshold));
      mean += ((s == Strategy::kBigOnly ? 0 : r.small_ms) + (up ? r.big_ms : 0)) /
              static_cast<double>(held->size());
    }
    std::printf("  %-26s %8.2f%% %8.2f%% %12.1f %9.3f %9.3f\n", name.c_str(), 100 * accuracy,
                100 * sent, bytes, p50, mean);
    return json{{"strategy", name}, {"threshold", threshold},   {"accuracy", accuracy},
                {"sent_up", sent},  {"bytes_per_input", bytes}, {"p50_ms", p50},
                {"mean_ms", mean}};
  };
  const double big_val = cascade::BigAccuracy(*validation);
  const double big_held = cascade::BigAccuracy(*held);
  double bytes_all = 0;
  for (const auto& r : *held) bytes_all += r.bytes_up / static_cast<double>(held->size());
  std::printf("held-out (%zu examples):\n  %-26s %9s %9s %12s %9s %9s\n", held->size(), "strategy",
              "accuracy", "sent up", "bytes/input", "p50 ms", "mean ms");
  json rows = json::array();
  rows.push_back(row("small only", Strategy::kSmallOnly, 0, cascade::SmallAccuracy(*held), 0, 0));
  rows.push_back(row("big only", Strategy::kBigOnly, 0, big_held, 1, bytes_all));
  const auto curve = cascade::Sweep(kind, *validation);
  json chosen_for = json::object();
  for (double pp : {0.5, 0.25, 0.0}) {
    auto chosen = cascade::Choose(curve, {.min_accuracy = big_val - pp / 100});
    if (!chosen.ok()) {
      std::printf("  target big - %.2f pp: %s\n", pp, chosen.status().message().c_str());
      continue;
    }
    const auto at = cascade::Evaluate(kind, *held, chosen->threshold);
    char name[64];
    std::snprintf(name, sizeof name, "cascade (val: big - %.2g pp)", pp);
    rows.push_back(row(name, Strategy::kCascade, chosen->threshold, at.accuracy, at.cloud_fraction,
                       at.bytes_per_input));
    chosen_for[std::to_string(pp).substr(0, 4)] = {
        {"threshold", chosen->threshold},
        {"held_out_gap_pp", 100 * (big_held - at.accuracy)},
        {"held_out_sent_up", at.cloud_fraction}};
  }
  (void)WriteFileAtomic(f.out + "/curve.csv", cascade::CurveCsv(cascade::Thin(curve, 201)));
  if (auto chosen = cascade::Choose(curve, {.min_accuracy = big_val - 0.0025}); chosen.ok()) {
    (void)WriteFileAtomic(
        f.out + "/curve.svg",
        cascade::CurveSvg(cascade::Thin(curve, 401), *chosen, cascade::SmallAccuracy(*validation),
                          big_val,
                          "Fashion-MNIST cascade, validation 0:" + std::to_string(half) +
                              ": accuracy against inputs sent up (max_probability)"));
  }
  const json out = {
      {"validation_examples", validation->size()},
      {"held_out_examples", held->size()},
      {"link", {{"mbit", f.mbit}, {"rtt_ms", f.rtt_ms}}},
      {"validation",
       {{"small_accuracy", cascade::SmallAccuracy(*validation)}, {"big_accuracy", big_val}}},
      {"held_out", rows},
      {"targets", chosen_for}};
  (void)WriteFileAtomic(f.out + "/cascade.json", out.dump(2) + "\n");
  std::printf("[cascade] %s/cascade.json, curve.csv, curve.svg\n", f.out.c_str());
  (*relay)->Stop();
  (*big)->Stop();
  return 0;
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Flags f;
  CLI::App app{"cascade_bench: the Fashion-MNIST cascade against each model alone"};
  app.add_option("--out", f.out, "output directory");
  app.add_option("--seam", f.seam, "the seam executable (serves the big model)");
  app.add_option("--models", f.models, "the pair's directory (models/fashion)");
  app.add_option("--dataset", f.dataset, "Fashion-MNIST IDX directory");
  app.add_option("--mbit", f.mbit, "uplink to the big model, Mbit/s")->check(CLI::PositiveNumber);
  app.add_option("--rtt-ms", f.rtt_ms, "round trip to the big model")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--examples", f.examples, "test examples used (halves: validation, held-out)")
      ->check(CLI::Range(20, 10000));
  CLI11_PARSE(app, argc, argv);
  return seam::bench::Run(f);
}
