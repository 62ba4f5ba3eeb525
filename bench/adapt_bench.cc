// adapt_bench: how quickly and how well the device's per-request adaptation follows the link,
// measured for real on this machine:
//
//   device  the client library in this process, its CPU emulated 'slowdown' times slower
//           (client::Options::device_slowdown: steady, unlike a cgroup quota on shared cores)
//   edge    a `seam serve` child
//   link    a ShapedRelay (src/lab) device -> edge whose rate the benchmark changes under load
//
// The model is a Gemm MLP (small input, heavy compute), so that sending it to the edge wins on a
// fast link and finishing on the slow device wins on a slow one. Two plans are deployed: "sent"
// (every node on the edge; the device's fallback is the whole model) and "local" (every node on
// the device). Strategies: adaptive (the sent plan's client, adapting), static-sent (the same,
// --no-adapt and no fallback), static-local.
//
// Scenarios, each request timed, ratios from the same run:
//   step   high -> low -> high Mbit/s, `phase` s each: requests and ms until the better route is
//          in use (3 requests in a row); p99 over the 5 s after the change / the new steady p50.
//          Goals: <= 3 requests or <= 500 ms; p99 <= 2x; once settled (the phase's second
//          half) <= 1 route switch per 10 s at either rate.
//   noise  high Mbit/s +-20% (a new rate every 200 ms): route switches. Goal: <= 1 per 10 s.
//   trace  a Mahimahi trace (--trace FILE, or a synthetic LTE-like one) replayed in windows:
//          adaptive vs each static strategy vs the per-window oracle (the better static p50 of each
//          window, both measured). Goal: adaptive mean window p50 <= 1.10x the oracle's, and
//          below the best static strategy's.
//   probes (run alone: --scenario probes) a camera-sized input (a pooled Gemm MLP, --frame-side
//          pixels square: 576 KB at 384) sent whole, high -> low (`phase` s) -> high, once with
//          light link probes (client default) and once with copies of the request as probes
//          (light_probes = false): bytes the probes put on the slow uplink while requests stay
//          local (last 5 s of the slow phase), and ms from the step up until requests are sent
//          again. Defaults there: --slowdown 40, --high-mbit 200.
// Output: stdout, OUT/adapt.json, OUT/samples.csv (every request).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench/bench_models.h"
#include "bench/serve_child.h"
#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "lab/link_trace.h"
#include "lab/shaped_relay.h"
#include "pipeline/deployment.h"
#include "plan/plan_file.h"
#include "runtime/segment_chain.h"
#include "seam/client.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Flags {
  std::string out = "adapt_bench_out";
  std::string seam = SEAM_BINARY;
  int width = 2048;
  int layers = 4;
  double slowdown = 6;
  double high_mbit = 50;
  double low_mbit = 2;
  double rtt_ms = 4;
  double phase_s = 8;
  double noise_s = 20;
  double trace_s = 30;
  double window_ms = 1000;
  std::string trace;  // Mahimahi file; empty: synthetic
  uint64_t seed = 1;
  std::string scenario = "all";  // step | noise | trace | all | probes
  int frame_side = 384;          // probes: the camera frame's side
};

struct Sample {
  std::string scenario, strategy;
  double t_ms = 0;  // since the scenario started
  double latency_ms = 0;
  bool local = false;
  bool degraded = false;
  bool failed = false;
  uint64_t up_bytes = 0;  // what the relay had carried up when the request started
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - 1)];
}

lab::LinkShape Shape(double mbit, double rtt_ms) {
  return {.rate_bps = mbit * 1e6, .delay_ms = rtt_ms / 2};
}

class Bench {
 public:
  explicit Bench(Flags f) : f_(std::move(f)) {}

  Status Setup() {
    fs::create_directories(f_.out);
    model_ = fs::absolute(f_.out + "/mlp.onnx").string();
    std::string bytes;
    const bool frames = f_.scenario == "probes";
    (frames ? MakePooledMlp(f_.frame_side, 16, f_.width, f_.layers)
            : MakeGemmMlp(f_.width, f_.layers))
        .SerializeToString(&bytes);
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(model_, bytes));
    SEAM_ASSIGN_OR_RETURN(auto loaded, graph::LoadModel(model_));
    SEAM_ASSIGN_OR_RETURN(auto view, graph::GraphView::Build(loaded.proto));

    const std::string repo = fs::absolute(f_.out + "/edge-repo").string();
    fs::remove_all(repo);
    fs::create_directories(repo);
    SEAM_ASSIGN_OR_RETURN(
        edge_,
        ServeChild::Start(f_.seam, {"--repo", repo, "--http-port", "-1", "--log-level", "warn"},
                          f_.out + "/edge.log"));
    const auto colon = edge_->address().rfind(':');
    SEAM_ASSIGN_OR_RETURN(
        relay_, lab::ShapedRelay::Start(
                    {.listen = {"127.0.0.1", 0},
                     .target = {"127.0.0.1", std::stoi(edge_->address().substr(colon + 1))},
                     .up = Shape(f_.high_mbit, f_.rtt_ms),
                     .down = Shape(f_.high_mbit, f_.rtt_ms)}));

    // The two plans: every node on the edge, or every node on the device.
    for (const char* where : {"edge", "device"}) {
      std::vector<std::pair<std::string, std::string>> placement;
      for (graph::NodeId n : view.order()) placement.emplace_back(view.node(n).name, where);
      std::vector<std::string> tiers = {"device"};
      if (std::string(where) == "edge") tiers.push_back("edge");
      const std::string path = fs::absolute(f_.out + "/" + where + "-plan.json").string();
      SEAM_RETURN_IF_ERROR(WriteFileAtomic(
          path, plan::HandPlacedPlan(model_, loaded.sha256, tiers, placement).dump(1)));
      SEAM_ASSIGN_OR_RETURN(auto plan, plan::ReadExecutablePlan(path));
      pipeline::DeployOptions options;
      options.name = "adapt";
      options.device_directory = f_.out + "/device";
      if (std::string(where) == "edge") {
        options.repositories = {{"edge", repo}};
        options.addresses = {{"edge", "127.0.0.1:" + std::to_string(relay_->port())}};
        options.control = {{"edge", edge_->address()}};
        sent_plan_ = path;
      } else {
        local_plan_ = path;
      }
      SEAM_RETURN_IF_ERROR(pipeline::Deploy(loaded, plan, options).status());
    }
    runtime::IoSpec spec{"x", DType::kFloat32, {1, f_.width}};
    if (frames) spec = {"frame", DType::kFloat32, {1, 1, f_.frame_side, f_.frame_side}};
    const Tensor x = runtime::RandomTensor(spec, 7);
    input_[spec.name] = {"FP32", spec.shape,
                         std::string(reinterpret_cast<const char*>(x.data.data()), x.data.size())};
    return Status::Ok();
  }

  Result<std::unique_ptr<client::Client>> Open(const std::string& strategy) {
    client::Options options;
    options.device_slowdown = f_.slowdown;
    options.deadline_ms = 5000;
    if (strategy == "adaptive-copies") options.light_probes = false;
    if (strategy == "static-sent") {
      options.adaptive = false;
      options.fallback = false;
    }
    std::string error;
    auto c = client::Client::Open(strategy == "static-local" ? local_plan_ : sent_plan_, options,
                                  &error);
    if (!c) return Unavailable(strategy + ": " + error);
    for (int i = 0; i < 3; ++i) {  // warm the sessions and the stream
      client::Tensors out;
      if (!c->Infer(input_, &out, nullptr, &error)) return Unavailable(strategy + ": " + error);
    }
    return c;
  }

  // Sends requests back to back for `seconds` while `link(t_ms)` sets the link (called before
  // each request and every 20 ms by a controller thread).
  std::vector<Sample> Drive(const std::string& scenario, const std::string& strategy,
                            double seconds, const std::function<lab::LinkShape(double)>& link) {
    auto opened = Open(strategy);
    std::vector<Sample> samples;
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return samples;
    }
    auto& c = **opened;
    const auto start = Clock::now();
    auto since = [&] {
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    std::atomic<bool> stop{false};
    std::thread controller([&] {
      lab::LinkShape current{-1, -1};
      while (!stop.load()) {
        const lab::LinkShape want = link(since());
        if (want.rate_bps != current.rate_bps || want.delay_ms != current.delay_ms) {
          (void)relay_->SetLink(want, want);
          current = want;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    while (since() < seconds * 1e3) {
      Sample s{scenario, strategy, since()};
      s.up_bytes = relay_->up_bytes();
      client::Tensors out;
      client::Trace trace;
      std::string error;
      const auto t0 = Clock::now();
      s.failed = !c.Infer(input_, &out, &trace, &error);
      s.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      s.local = trace.links.empty();
      s.degraded = trace.degraded;
      samples.push_back(s);
    }
    stop = true;
    controller.join();
    (void)relay_->SetLink(Shape(f_.high_mbit, f_.rtt_ms), Shape(f_.high_mbit, f_.rtt_ms));
    all_.insert(all_.end(), samples.begin(), samples.end());
    return samples;
  }

  json Step() {
    const double p = f_.phase_s * 1e3;
    auto schedule = [&](double t) {
      return Shape(t >= p && t < 2 * p ? f_.low_mbit : f_.high_mbit, f_.rtt_ms);
    };
    // Steady states of both static strategies at both rates decide which route is better.
    auto steady = [&](const std::string& strategy, double mbit) {
      auto s = Drive("steady", strategy, 2.5, [&](double) { return Shape(mbit, f_.rtt_ms); });
      std::vector<double> v;
      for (const auto& x : s) v.push_back(x.latency_ms);
      return Percentile(v, 0.5);
    };
    const double sent_high = steady("static-sent", f_.high_mbit);
    const double sent_low = steady("static-sent", f_.low_mbit);
    const double local = steady("static-local", f_.high_mbit);
    const bool local_better_low = local < sent_low, local_better_high = local < sent_high;
    std::printf("[step] steady p50: sent %.2f ms at %g Mbit/s, %.2f ms at %g; local %.2f ms\n",
                sent_high, f_.high_mbit, sent_low, f_.low_mbit, local);
    if (local_better_high || !local_better_low) {
      std::printf(
          "[step] NOTE: the two rates do not favour different routes here; the step "
          "measures nothing useful (change --slowdown or the rates)\n");
    }
    auto samples = Drive("step", "adaptive", 3 * f_.phase_s, schedule);
    json changes = json::array();
    for (int k = 1; k <= 2; ++k) {
      const double tc = k * p;
      const bool want_local = k == 1 ? local_better_low : local_better_high;
      size_t first = 0;
      while (first < samples.size() && samples[first].t_ms < tc) ++first;
      size_t active = samples.size();
      for (size_t i = first; i + 2 < samples.size(); ++i) {
        if (samples[i].local == want_local && samples[i + 1].local == want_local &&
            samples[i + 2].local == want_local) {
          active = i;
          break;
        }
      }
      std::vector<double> after, settled;
      // Route switches once settled (second half of the phase): a stationary link, whatever its
      // rate, must not make the route flap (goal <= 1 per 10 s, as the noise scenario's).
      int switches = 0;
      const Sample* previous = nullptr;
      for (size_t i = first; i < samples.size() && samples[i].t_ms < tc + p; ++i) {
        if (samples[i].t_ms < tc + 5000) after.push_back(samples[i].latency_ms);
        if (samples[i].t_ms >= tc + p / 2) {
          settled.push_back(samples[i].latency_ms);
          if (previous && previous->local != samples[i].local) ++switches;
          previous = &samples[i];
        }
      }
      const double switches_per_10s = switches / (p / 2) * 1e4;
      const double p99 = Percentile(after, 0.99), steady_p50 = Percentile(settled, 0.5);
      const int requests = static_cast<int>(active - first);
      const double ms = active < samples.size() ? samples[active].t_ms - tc : NAN;
      std::printf(
          "[step] %s: better route (%s) in use after %d request(s), %.0f ms (goal <= 3 "
          "or <= 500 ms); p99 over 5 s %.2f ms = %.2fx the new steady p50 %.2f ms "
          "(goal <= 2x); settled: %d route switch(es), %.1f per 10 s (goal <= 1)\n",
          k == 1 ? "high -> low" : "low -> high", want_local ? "local" : "sent", requests, ms, p99,
          p99 / steady_p50, steady_p50, switches, switches_per_10s);
      changes.push_back({{"change", k == 1 ? "down" : "up"},
                         {"better", want_local ? "local" : "sent"},
                         {"requests_to_switch", requests},
                         {"ms_to_switch", ms},
                         {"p99_next_5s_ms", p99},
                         {"steady_p50_ms", steady_p50},
                         {"p99_over_steady", p99 / steady_p50},
                         {"settled_switches_per_10s", switches_per_10s}});
    }
    return {{"steady_p50_ms", {{"sent_high", sent_high}, {"sent_low", sent_low}, {"local", local}}},
            {"changes", changes}};
  }

  json Noise() {
    std::mt19937 rng(f_.seed);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    std::vector<double> rates;
    for (int i = 0; i < static_cast<int>(f_.noise_s * 5) + 2; ++i) {
      rates.push_back(f_.high_mbit * jitter(rng));
    }
    auto samples = Drive("noise", "adaptive", f_.noise_s, [&](double t) {
      return Shape(rates[std::min(rates.size() - 1, static_cast<size_t>(t / 200))], f_.rtt_ms);
    });
    int switches = 0;
    for (size_t i = 1; i < samples.size(); ++i)
      switches += samples[i].local != samples[i - 1].local;
    const double per_10s = switches / f_.noise_s * 10;
    std::printf(
        "[noise] %g Mbit/s +-20%%, %zu requests in %.0f s: %d route switch(es), %.2f per "
        "10 s (goal <= 1)\n",
        f_.high_mbit, samples.size(), f_.noise_s, switches, per_10s);
    return {{"requests", samples.size()}, {"switches", switches}, {"switches_per_10s", per_10s}};
  }

  json Probes() {
    const double warm = 1500, p = f_.phase_s * 1e3, up_at = warm + p,
                 seconds = (up_at + 6000) / 1e3;
    auto schedule = [&](double t) {
      return Shape(t >= warm && t < up_at ? f_.low_mbit : f_.high_mbit, f_.rtt_ms);
    };
    json out = json::object();
    std::map<std::string, std::pair<double, double>> figures;  // strategy: bytes, ms to sent
    for (const char* strategy : {"adaptive", "adaptive-copies"}) {
      auto samples = Drive("probes", strategy, seconds, schedule);
      if (samples.empty()) return out;
      // Bytes up over the last 5 s of the slow phase (or its second half, if shorter), from the
      // relay's count at the requests nearest the window's ends.
      const double from = std::max(warm + p / 2, up_at - 5000);
      auto bytes_at = [&](double t) {
        uint64_t b = samples.front().up_bytes;
        for (const auto& x : samples) {
          if (x.t_ms > t) break;
          b = x.up_bytes;
        }
        return b;
      };
      const double window_s = (up_at - from) / 1e3;
      const double bytes = static_cast<double>(bytes_at(up_at) - bytes_at(from));
      int slow_sent = 0, slow_requests = 0, degraded = 0;
      for (const auto& x : samples) {
        if (x.t_ms >= from && x.t_ms < up_at) {
          ++slow_requests;
          slow_sent += !x.local;
          degraded += x.degraded;
        }
      }
      size_t first = 0;
      while (first < samples.size() && samples[first].t_ms < up_at) ++first;
      double ms = NAN;
      for (size_t i = first; i + 2 < samples.size(); ++i) {
        if (!samples[i].local && !samples[i + 1].local && !samples[i + 2].local) {
          ms = samples[i].t_ms - up_at;
          break;
        }
      }
      const double link_bytes = f_.low_mbit * 1e6 / 8 * window_s;
      std::printf(
          "[probes] %-15s slow link: %.0f KB up in %.1f s (%.0f%% of the link), %d of %d "
          "requests sent, %d degraded; back to sending %.0f ms after the step up\n",
          strategy, bytes / 1e3, window_s, 100 * bytes / link_bytes, slow_sent, slow_requests,
          degraded, ms);
      figures[strategy] = {bytes, ms};
      out[strategy] = {{"slow_up_bytes", bytes},           {"slow_window_s", window_s},
                       {"link_share", bytes / link_bytes}, {"slow_sent", slow_sent},
                       {"slow_requests", slow_requests},   {"ms_to_sent_after_step_up", ms}};
    }
    const double byte_ratio = figures["adaptive"].first / figures["adaptive-copies"].first;
    const double ms_ratio = figures["adaptive"].second / figures["adaptive-copies"].second;
    std::printf(
        "[probes] light / copies: bytes on the slow uplink %.3f, time back to sending after the "
        "step up %.2f\n",
        byte_ratio, ms_ratio);
    out["bytes_light_over_copies"] = byte_ratio;
    out["ms_back_light_over_copies"] = ms_ratio;
    return out;
  }

  Result<json> Trace() {
    lab::LinkTrace trace;
    std::string source = f_.trace;
    if (f_.trace.empty()) {
      SEAM_ASSIGN_OR_RETURN(
          trace, lab::SyntheticLteTrace({.duration_ms = static_cast<int64_t>(f_.trace_s * 1e3),
                                         .step_ms = static_cast<int64_t>(f_.window_ms),
                                         .seed = f_.seed}));
      source = f_.out + "/synthetic-lte.trace";
      SEAM_RETURN_IF_ERROR(WriteFileAtomic(source, lab::ToMahimahi(trace)));
    }
    SEAM_ASSIGN_OR_RETURN(trace, lab::ReadMahimahi(source));
    const auto window = static_cast<int64_t>(f_.window_ms);
    auto schedule = [&](double t) {
      // Never quite zero: a window without opportunities is a link that crawls.
      const double bps = std::max(trace.RateBps(static_cast<int64_t>(t) / window, window), 2e4);
      return lab::LinkShape{.rate_bps = bps, .delay_ms = f_.rtt_ms / 2};
    };
    const int windows = static_cast<int>(f_.trace_s * 1e3 / f_.window_ms);
    std::map<std::string, std::vector<std::vector<double>>> per_window;
    for (const char* strategy : {"adaptive", "static-sent", "static-local"}) {
      auto samples = Drive("trace", strategy, f_.trace_s, schedule);
      auto& w = per_window[strategy];
      w.assign(windows, {});
      for (const auto& s : samples) {
        const int k = static_cast<int>(s.t_ms / f_.window_ms);
        if (k < windows) w[k].push_back(s.latency_ms);
      }
    }
    // Mean over windows of each window's p50 (a window without a finished request counts as its
    // full length: the strategy was stuck in it).
    auto window_p50 = [&](const std::string& s, int k) {
      const auto& v = per_window[s][k];
      return v.empty() ? f_.window_ms : Percentile(v, 0.5);
    };
    std::map<std::string, double> mean;
    for (int k = 0; k < windows; ++k) {
      const double sent = window_p50("static-sent", k), local = window_p50("static-local", k);
      mean["oracle"] += std::min(sent, local) / windows;
      mean["static-sent"] += sent / windows;
      mean["static-local"] += local / windows;
      mean["adaptive"] += window_p50("adaptive", k) / windows;
    }
    const double best_static = std::min(mean["static-sent"], mean["static-local"]);
    std::printf("[trace] %s (mean %.1f Mbit/s), %d windows of %.0f ms; mean window p50:\n",
                source.c_str(), trace.MeanRateBps() / 1e6, windows, f_.window_ms);
    for (const char* s : {"adaptive", "static-sent", "static-local", "oracle"}) {
      std::printf("  %-13s %8.2f ms\n", s, mean[s]);
    }
    std::printf(
        "[trace] adaptive / oracle %.3f (goal <= 1.10); adaptive / best static %.3f "
        "(goal < 1)\n",
        mean["adaptive"] / mean["oracle"], mean["adaptive"] / best_static);
    return json{{"trace", source},
                {"mean_mbps", trace.MeanRateBps() / 1e6},
                {"windows", windows},
                {"mean_window_p50_ms", mean},
                {"adaptive_over_oracle", mean["adaptive"] / mean["oracle"]},
                {"adaptive_over_best_static", mean["adaptive"] / best_static}};
  }

  int Run() {
    if (Status s = Setup(); !s.ok()) {
      std::fprintf(stderr, "adapt_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf(
        "[adapt] device %gx slower than this machine (emulated: device_slowdown), link "
        "device->edge %g <-> %g Mbit/s, round trip %g ms; model Gemm MLP %dx%d%s\n",
        f_.slowdown, f_.high_mbit, f_.low_mbit, f_.rtt_ms, f_.layers, f_.width,
        f_.scenario == "probes" ? (" after a " + std::to_string(f_.frame_side) + "x" +
                                   std::to_string(f_.frame_side) + " frame pooled 16x16")
                                      .c_str()
                                : "");
    json out = {{"device_emulation", "device_slowdown " + std::to_string(f_.slowdown)}};
    auto wanted = [&](const char* s) { return f_.scenario == "all" || f_.scenario == s; };
    if (f_.scenario == "probes") out["probes"] = Probes();
    if (wanted("step")) out["step"] = Step();
    if (wanted("noise")) out["noise"] = Noise();
    if (wanted("trace")) {
      auto trace = Trace();
      if (!trace.ok()) {
        std::fprintf(stderr, "adapt_bench: %s\n", trace.status().ToString().c_str());
        return 1;
      }
      out["trace"] = *trace;
    }
    std::ofstream csv(f_.out + "/samples.csv");
    csv << "scenario,strategy,t_ms,latency_ms,local,degraded,failed\n";
    for (const auto& s : all_) {
      csv << s.scenario << ',' << s.strategy << ',' << s.t_ms << ',' << s.latency_ms << ','
          << s.local << ',' << s.degraded << ',' << s.failed << '\n';
    }
    (void)WriteFileAtomic(f_.out + "/adapt.json", out.dump(2) + "\n");
    int failed = 0;
    for (const auto& s : all_) failed += s.failed;
    std::printf("[adapt] %zu requests, %d failed; samples in %s/samples.csv\n", all_.size(), failed,
                f_.out.c_str());
    relay_->Stop();
    edge_->Stop();
    return failed == 0 ? 0 : 1;
  }

 private:
  Flags f_;
  std::string model_, sent_plan_, local_plan_;
  std::unique_ptr<ServeChild> edge_;
  std::unique_ptr<lab::ShapedRelay> relay_;
  client::Tensors input_;
  std::vector<Sample> all_;
};

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Flags f;
  CLI::App app{"adapt_bench: the device's adaptation under link changes (bench/README.md)"};
  app.add_option("--out", f.out, "output directory");
  app.add_option("--seam", f.seam, "the seam executable (for the edge server)");
  app.add_option("--width", f.width, "Gemm MLP width")->check(CLI::Range(16, 8192));
  app.add_option("--layers", f.layers, "Gemm MLP layers")->check(CLI::Range(1, 64));
  app.add_option("--slowdown", f.slowdown, "emulated device slowdown")->check(CLI::Range(1.0, 1e4));
  app.add_option("--high-mbit", f.high_mbit, "the fast link")->check(CLI::PositiveNumber);
  app.add_option("--low-mbit", f.low_mbit, "the slow link")->check(CLI::PositiveNumber);
  app.add_option("--rtt-ms", f.rtt_ms, "round trip device<->edge")->check(CLI::NonNegativeNumber);
  app.add_option("--phase-s", f.phase_s, "step: seconds per phase")->check(CLI::PositiveNumber);
  app.add_option("--noise-s", f.noise_s, "noise: seconds")->check(CLI::PositiveNumber);
  app.add_option("--trace-s", f.trace_s, "trace: seconds per strategy")->check(CLI::PositiveNumber);
  app.add_option("--window-ms", f.window_ms, "trace: window")->check(CLI::Range(50.0, 60000.0));
  app.add_option("--trace", f.trace, "a Mahimahi link trace (default: a synthetic LTE-like one)");
  app.add_option("--seed", f.seed, "seed of the synthetic trace and the noise");
  app.add_option("--scenario", f.scenario, "step, noise, trace, all, or probes (alone)")
      ->check(CLI::IsMember({"step", "noise", "trace", "all", "probes"}));
  app.add_option("--frame-side", f.frame_side, "probes: the frame's side (pixels, float)")
      ->check(CLI::Range(64, 2048));
  CLI11_PARSE(app, argc, argv);
  if (f.scenario == "probes") {
    // Sending the frame must win on the fast link and lose on the slow one.
    if (app.count("--slowdown") == 0) f.slowdown = 40;
    if (app.count("--high-mbit") == 0) f.high_mbit = 200;
  }
  return seam::bench::Bench(f).Run();
}
