// batching_bench: what dynamic batching buys on a model whose cost is a fixed overhead plus a
// per-row cost, measured with batching off (the baseline) and on in the same run.
//
// The model is simulated: the executor busy-waits --overhead-us + --per-item-us x rows (one core
// per model instance, like an ORT session with one intra-op thread) and computes y = 2x + 1 on an
// FP32 [rows, --cols] input, so that every answer can be checked against its request. --clients
// threads (default 16) each send --requests / --clients requests one after another (closed loop:
// the next request leaves when the previous answer arrives) through one DynamicBatcher with
// --instances workers:
//   off  max_batch_size 0: each request runs alone;
//   on   max_batch_size --max-batch (16), max_queue_delay_us --delay-us (1000).
// Throughput is answered requests per second of wall time; latency percentiles are per request,
// submit to answer. Goal: on / off >= 2x (issue 4). A missed goal is reported, not an error; exit
// status 1 only when a step fails or an answer is wrong.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "common/status.h"
#include "server/batching/dynamic_batcher.h"

namespace seam::bench {
namespace {

using batching::BatchRecord;
using batching::DynamicBatcher;

constexpr double kGoalRatio = 2.0;

struct Options {
  int requests = 3200;
  int clients = 16;
  int64_t overhead_us = 2000;
  int64_t per_item_us = 100;
  int instances = 1;
  int64_t max_batch = 16;
  int64_t delay_us = 1000;
  int64_t cols = 64;
  std::string json_path;
};

struct Mode {
  std::string name;
  int64_t max_batch_size = 0;
  int64_t delay_us = 0;
  // Measured:
  double seconds = 0;
  double requests_per_s = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t batches = 0;
  std::map<int64_t, int64_t> batch_rows;  // rows -> batches of that many rows
  int64_t wrong = 0;
};

void Spin(int64_t us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

batching::Executor SimulatedModel(const Options& o) {
  return [o](const TensorMap& in) -> Result<TensorMap> {
    const Tensor& x = in.at("x");
    Spin(o.overhead_us + o.per_item_us * x.shape[0]);
    Tensor y = Tensor::Zeros(DType::kFloat32, x.shape);
    const float* src = x.data_as<float>();
    float* dst = y.data_as<float>();
    for (size_t i = 0; i < x.data.size() / sizeof(float); ++i) dst[i] = 2 * src[i] + 1;
    return TensorMap{{"y", std::move(y)}};
  };
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

Status Measure(const Options& o, Mode& mode) {
  std::mutex mu;
  batching::BatcherConfig config{.batching = {.model = "simulated",
                                              .max_batch_size = mode.max_batch_size,
                                              .max_queue_delay_us = mode.delay_us},
                                 .instances = o.instances,
                                 .on_batch = [&](const BatchRecord& r) {
                                   std::lock_guard<std::mutex> lock(mu);
                                   ++mode.batch_rows[r.rows];
                                 }};
  SEAM_ASSIGN_OR_RETURN(std::unique_ptr<DynamicBatcher> batcher,
                        DynamicBatcher::Create(std::move(config), SimulatedModel(o)));

  std::vector<std::vector<double>> latencies(o.clients);
  std::atomic<int64_t> wrong{0};
  std::vector<std::thread> clients;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      const int n = o.requests / o.clients + (c < o.requests % o.clients ? 1 : 0);
      for (int i = 0; i < n; ++i) {
        Tensor x = Tensor::Zeros(DType::kFloat32, {1, o.cols});
        const float base = static_cast<float>(c * 1000 + i % 1000);
        for (int64_t k = 0; k < o.cols; ++k) x.data_as<float>()[k] = base + k;
        const auto sent = std::chrono::steady_clock::now();
        Result<TensorMap> out = batcher->Submit(TensorMap{{"x", std::move(x)}}).get();
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent)
                .count());
        bool ok = out.ok() && out->count("y") && out->at("y").shape[1] == o.cols;
        for (int64_t k = 0; ok && k < o.cols; ++k) {
          ok = out->at("y").data_as<float>()[k] == 2 * (base + k) + 1;
        }
        if (!ok) ++wrong;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  mode.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  batcher->Shutdown();

  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  mode.requests_per_s = all.size() / mode.seconds;
  mode.p50_ms = Percentile(all, 0.50);
  mode.p99_ms = Percentile(all, 0.99);
  mode.batches = static_cast<int64_t>(batcher->counters().batches);
  mode.wrong = wrong.load();
  return Status::Ok();
}

double MeanRows(const Mode& m) {
  int64_t rows = 0, batches = 0;
  for (const auto& [r, n] : m.batch_rows) {
    rows += r * n;
    batches += n;
  }
  return batches ? static_cast<double>(rows) / batches : 0;
}

std::string Histogram(const Mode& m) {
  std::string s;
  for (const auto& [r, n] : m.batch_rows) {
    s += (s.empty() ? "" : " ") + std::to_string(r) + ":" + std::to_string(n);
  }
  return s;
}

Status WriteJson(const std::string& path, const Options& o, const std::vector<Mode>& modes,
                 double ratio) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Mode& m : modes) {
    nlohmann::json histogram = nlohmann::json::object();
    for (const auto& [r, n] : m.batch_rows) histogram[std::to_string(r)] = n;
    rows.push_back({{"mode", m.name},
                    {"max_batch_size", m.max_batch_size},
                    {"max_queue_delay_us", m.delay_us},
                    {"seconds", m.seconds},
                    {"requests_per_s", m.requests_per_s},
                    {"p50_ms", m.p50_ms},
                    {"p99_ms", m.p99_ms},
                    {"batches", m.batches},
                    {"mean_batch_rows", MeanRows(m)},
                    {"batch_rows_histogram", histogram},
                    {"wrong_answers", m.wrong}});
  }
  const nlohmann::json doc = {{"benchmark", "batching_bench"},
                              {"requests", o.requests},
                              {"clients", o.clients},
                              {"instances", o.instances},
                              {"overhead_us", o.overhead_us},
                              {"per_item_us", o.per_item_us},
                              {"modes", rows},
                              {"throughput_ratio_on_to_off", ratio},
                              {"goal_ratio", kGoalRatio},
                              {"met", ratio >= kGoalRatio}};
  return WriteFileAtomic(path, doc.dump(2) + "\n");
}

Status Run(const Options& o) {
  std::vector<Mode> modes = {{.name = "off", .max_batch_size = 0, .delay_us = 0},
                             {.name = "on", .max_batch_size = o.max_batch, .delay_us = o.delay_us}};
  for (Mode& m : modes) SEAM_RETURN_IF_ERROR(Measure(o, m));
  const double ratio = modes[1].requests_per_s / modes[0].requests_per_s;

  std::printf(
      "batching_bench: simulated model %lld us + %lld us/row, %d clients (closed loop), %d "
      "requests, %d instance(s)\n\n",
      static_cast<long long>(o.overhead_us), static_cast<long long>(o.per_item_us), o.clients,
      o.requests, o.instances);
  std::printf("%-4s %9s %9s %11s %9s %9s %8s %10s  %s\n", "mode", "max_batch", "delay_us",
              "requests/s", "p50 ms", "p99 ms", "batches", "mean rows", "batch rows:count");
  for (const Mode& m : modes) {
    std::printf("%-4s %9lld %9lld %11.1f %9.2f %9.2f %8lld %10.2f  %s\n", m.name.c_str(),
                static_cast<long long>(m.max_batch_size), static_cast<long long>(m.delay_us),
                m.requests_per_s, m.p50_ms, m.p99_ms, static_cast<long long>(m.batches),
                MeanRows(m), Histogram(m).c_str());
  }
  std::printf("\nthroughput on / off: %.2fx (goal >= %.0fx: %s)\n", ratio, kGoalRatio,
              ratio >= kGoalRatio ? "met" : "NOT met");
  if (!o.json_path.empty()) SEAM_RETURN_IF_ERROR(WriteJson(o.json_path, o, modes, ratio));
  for (const Mode& m : modes) {
    if (m.wrong > 0) {
      return Internal("mode " + m.name + ": " + std::to_string(m.wrong) + " wrong answers");
    }
  }
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  CLI::App app{"batching_bench: throughput of dynamic batching on vs off on a simulated model"};
  app.add_option("--requests", o.requests, "requests per mode, over all clients")
      ->check(CLI::PositiveNumber);
  app.add_option("--clients", o.clients, "concurrent client threads")->check(CLI::Range(1, 1024));
  app.add_option("--overhead-us", o.overhead_us, "simulated fixed cost per model run (us)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--per-item-us", o.per_item_us, "simulated cost per row (us)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--instances", o.instances, "model instances (worker threads)")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-batch", o.max_batch, "max_batch_size when batching is on")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--delay-us", o.delay_us, "max_queue_delay_us when batching is on")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cols", o.cols, "FP32 values per request row")->check(CLI::Range(1, 1 << 20));
  app.add_option("--json", o.json_path, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  const seam::Status status = seam::bench::Run(o);
  if (!status.ok()) {
    std::fprintf(stderr, "batching_bench: error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
