// tiers_bench: the benchmark seam is judged by. For each model and each cell of a grid of links
// (device->edge and edge->cloud bandwidth and round trip), it measures the p50 and p99 latency of
// seam's plan against every single-tier baseline and a measured oracle, all run for real:
//
//   device  `seam run` child processes under a cgroup CPU quota (the weak device)
//   edge    a `seam serve` child under a smaller quota than the host; cloud: an unlimited one
//   links   ShapedRelay (src/lab) between them: rate and one-way delay per direction, user space
//
// The weak device, by default (--device-slowdown 6): profiled at full speed on this machine, then
// run 6x slower (`seam run --device-slowdown`, each device run stretched to 6x its fastest: a
// steady emulation of a dedicated slower CPU). So the profile is wrong by 6x, as a profile taken
// elsewhere or before a thermal throttle would be: the regime where a plan fixed offline misses
// and adapting pays. --device-slowdown 0 runs the device under the cgroup quota instead (noisier
// on shared cores; its profile is taken under the same quota).
//
// Strategies per cell: seam (`seam plan` on the tiers' profiles and the cell's links), seam
// adaptive (`seam plan --set` on the same profiles and links, deployed whole; `seam run` chooses
// per request from what it measures; like every strategy, timed after --warmup requests), device
// only, edge only, cloud only with the raw input, cloud only with the input compressed losslessly
// (identity+zstd), and the oracle: the best p50 over every placement that cuts the topological
// order into device | edge | cloud at K evenly spaced positions, plus every strategy above. A
// candidate whose transfer time alone (bytes at the link's rate plus its round trip) exceeds the
// best p50 measured so far cannot win and is skipped; that is what makes the oracle affordable on
// slow links.
//
// Output: OUT/tiers.csv (one row per model, cell and strategy or candidate), OUT/tiers.svg (p50
// per strategy across the cells), OUT/summary.json and the goals on stdout:
//   seam's p50 <= 1.02 x the best single tier in every cell; within 5% of the oracle in >= 95% of
//   cells; the same for seam adaptive; the mean speedup over cloud-only with the raw input. The
//   oracle is the best static placement measured (seam adaptive is not one of its candidates).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bench/bench_models.h"
#include "bench/serve_child.h"
#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "lab/link_shaper.h"
#include "lab/shaped_relay.h"
#include "pipeline/deployment.h"
#include "plan/plan_set_file.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Flags {
  std::vector<std::string> models;
  std::string grid = "ci";  // ci | full
  int requests = 5;
  int cuts = 6;
  double device_quota = 0.25;
  double device_slowdown = 6;  // 0: the device runs under device_quota instead
  int warmup = 4;  // untimed requests of every strategy (seam adaptive learns from them)
  double edge_quota = 0.5;
  std::string out = "tiers_bench_out";
  std::string seam = SEAM_BINARY;
  int profile_runs = 0;                  // 0: seam profile's default
  std::vector<double> device_edge_mbit;  // only these device->edge rates (all when empty)
};

// The generated model in which a device | edge split is the best placement on a weak device.
constexpr const char* kPooledMlp = "pooled_mlp";

struct Cell {
  double de_mbit, de_rtt, ec_mbit, ec_rtt;
  std::string Name() const {
    char b[96];
    std::snprintf(b, sizeof b, "de %g Mbit/%g ms, ec %g Mbit/%g ms", de_mbit, de_rtt, ec_mbit,
                  ec_rtt);
    return b;
  }
};

std::vector<Cell> Grid(const std::string& grid) {
  if (grid == "ci") return {{5, 20, 100, 20}, {100, 5, 1000, 20}};
  if (grid == "uplink") {
    // The device's uplink is what moves the best placement: 10 cells, the edge->cloud link fixed.
    std::vector<Cell> cells;
    for (double de : {1, 5, 20, 50, 100})
      for (double de_rtt : {5, 20}) cells.push_back({de, de_rtt, 100, 20});
    return cells;
  }
  std::vector<Cell> cells;
  for (double de : {1, 5, 20, 100})
    for (double de_rtt : {5, 20})
      for (double ec : {10, 100, 1000})
        for (double ec_rtt : {20, 80}) cells.push_back({de, de_rtt, ec, ec_rtt});
  return cells;
}

struct Measured {
  double p50 = 0, p99 = 0;
  bool ok = false;
  std::string error;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - 1);
  return v[i];
}

int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A placement: tier index (0 device, 1 edge, 2 cloud) per compute node in topological order.
struct Candidate {
  std::string name;
  std::vector<int> tier_of_position;
  std::map<std::string, std::string> input_codec;  // link -> codec of the model input
  std::string plan_file;                           // set for seam's own plan
};

class Bench {
 public:
  explicit Bench(const Flags& f) : f_(f) {}

  int Run() {
    fs::create_directories(f_.out);
    csv_.open(f_.out + "/tiers.csv");
    csv_ << "model,de_mbit,de_rtt_ms,ec_mbit,ec_rtt_ms,strategy,p50_ms,p99_ms,device_nodes,"
            "edge_nodes,cloud_nodes,lower_bound_ms,status\n";
    for (std::string model : f_.models) {
      if (model == kPooledMlp) {
        // Generated: a frame pooled cheaply, then heavy layers (bench_models.h), 1 MB input.
        model = f_.out + "/pooled_mlp.onnx";
        std::string bytes;
        MakePooledMlp(512, 16, 2048, 4).SerializeToString(&bytes);
        if (Status s = WriteFileAtomic(model, bytes); !s.ok()) return Fail(s);
      }
      if (int rc = RunModel(model); rc != 0) return rc;
    }
    return Report();
  }

 private:
  Result<std::string> Profile(const std::string& model, const std::string& tier, double quota) {
    const std::string path =
        f_.out + "/profiles/" + fs::path(model).stem().string() + "-" + tier + ".json";
    if (fs::exists(path)) return path;
    fs::create_directories(f_.out + "/profiles");
    std::string cmd = f_.seam + " profile " + model + " --tier " + tier + " -o " + path;
    if (quota > 0) cmd += " --cpu-quota " + std::to_string(quota);
    if (f_.profile_runs > 0) cmd += " --runs " + std::to_string(f_.profile_runs);
    std::printf("[tiers] profiling %s on %s%s\n", fs::path(model).filename().c_str(), tier.c_str(),
                quota > 0 ? (" (quota " + std::to_string(quota) + " core)").c_str() : "");
    std::fflush(stdout);
    if (Shell(cmd + " > " + path + ".log 2>&1") != 0) {
      return Unavailable("seam profile failed; see " + path + ".log");
    }
    return path;
  }

  std::string WritePlan(const std::string& model_path, const graph::LoadedModel& model,
                        const graph::GraphView& view, const Candidate& c) {
    const char* tiers[] = {"device", "edge", "cloud"};
    json placement = json::array(), transfers = json::array();
    for (size_t i = 0; i < view.order().size(); ++i) {
      placement.push_back(
          {{"node", view.node(view.order()[i]).name}, {"tier", tiers[c.tier_of_position[i]]}});
    }
    for (const auto& [link, codec] : c.input_codec) {
      for (graph::TensorId t : view.model_inputs()) {
        transfers.push_back({{"tensor", view.tensor(t).name},
                             {"link", link},
                             {"direction", "up"},
                             {"codec", codec}});
      }
    }
    const json plan = {{"schema", "seam.plan/v1"},
                       {"model", {{"path", model_path}, {"sha256", model.sha256}}},
                       {"tiers", {{{"name", "device"}}, {{"name", "edge"}}, {{"name", "cloud"}}}},
                       {"placement", placement},
                       {"transfers", transfers}};
    const std::string path = f_.out + "/plans/" + c.name + ".json";
    fs::create_directories(f_.out + "/plans");
    (void)WriteFileAtomic(path, plan.dump(1));
    return path;
  }

  // Transfer time alone, a lower bound on any run of the plan: bytes over each link used at its
  // rate, plus its round trip.
  Result<double> LowerBoundMs(const graph::LoadedModel& model, const std::string& plan_path,
                              const Cell& cell, std::vector<int>* nodes_per_tier) {
    SEAM_ASSIGN_OR_RETURN(auto plan, plan::ReadExecutablePlan(plan_path));
    nodes_per_tier->assign(3, 0);
    for (const auto& [node, tier] : plan.tier_of_node) ++(*nodes_per_tier)[tier];
    SEAM_ASSIGN_OR_RETURN(auto stages, pipeline::PlanStages(model, plan, true));
    const double mbit[] = {cell.de_mbit, cell.ec_mbit}, rtt[] = {cell.de_rtt, cell.ec_rtt};
    double ms = 0;
    for (size_t k = 0; k + 1 < stages.size(); ++k) {
      // The relay lets a burst through at once (lab/link_shaper.h): only bytes beyond it are
      // bound to take time.
      const double burst =
          std::max<double>(lab::LinkShaper::kMinBurstBytes, mbit[k] * 1e6 / 8 * 1e-3);
      double link_ms = rtt[k];
      for (const auto* list : {&stages[k].spec.next->send, &stages[k].spec.next->receive}) {
        double bytes = 0;
        for (const auto& t : *list) {
          if (t.codec != "identity") continue;  // compressed: no bound from its raw size
          double n = DTypeSize(t.dtype);
          for (int64_t d : t.shape) n *= std::max<int64_t>(d, 1);
          bytes += n;
        }
        link_ms += std::max(0.0, bytes - burst) * 8 / (mbit[k] * 1e6) * 1e3;
      }
      ms += link_ms;
    }
    return ms;
  }

  Measured Measure(const graph::LoadedModel& model, const std::string& plan_path, bool is_set) {
    Measured m;
    pipeline::DeployOptions options;
    options.name = "bench";
    options.repositories = {{"edge", edge_repo_}, {"cloud", cloud_repo_}};
    options.addresses = {{"edge", relay_de_->listen_address().ToString()},
                         {"cloud", relay_ec_->listen_address().ToString()}};
    options.control = {{"edge", edge_->address()}, {"cloud", cloud_->address()}};
    options.device_directory = f_.out + "/device";
    auto deployed = pipeline::DeploySet(model, plan_path, options);
    if (!deployed.ok()) return {.error = deployed.status().message()};
    const std::string result = plan_path + ".run.json";
    const std::string device = f_.device_slowdown > 0
                                   ? " --device-slowdown " + std::to_string(f_.device_slowdown)
                                   : " --cpu-quota " + std::to_string(f_.device_quota);
    // seam adaptive learns from its first requests (its estimates start from the profiles):
    // those are untimed, as the one warm-up request of every strategy is.
    // Every other strategy is a static placement, run as planned (--no-adapt: the device would
    // otherwise finish requests itself when that is faster, and measure something else); it
    // still falls back when a tier fails.
    // Every strategy gets the same untimed requests: the device's emulated slowdown stretches
    // each run to a multiple of the fastest it has seen, which settles over the first runs.
    const std::string warmup =
        " --warmup " + std::to_string(f_.warmup) + (is_set ? "" : " --no-adapt");
    const std::string cmd = f_.seam + " run --plan " + plan_path + " --random 1 --repeat " +
                            std::to_string(f_.requests + 1) + warmup + " --json " + result +
                            device + " > " + plan_path + ".run.log 2>&1";
    if (Shell(cmd) != 0) {
      auto log = ReadFile(plan_path + ".run.log");
      return {.error = log.ok() ? *log : "seam run failed"};
    }
    auto text = ReadFile(result);
    if (!text.ok()) return {.error = text.status().message()};
    std::vector<double> totals;
    const json j = json::parse(*text);
    // The first request warms up the sessions and the streams; it is not counted.
    for (size_t i = 1; i < j["requests"].size(); ++i) {
      totals.push_back(j["requests"][i]["total_ms"].get<double>());
    }
    m.p50 = Percentile(totals, 0.5);
    m.p99 = Percentile(totals, 0.99);
    m.ok = true;
    return m;
  }

  void Row(const std::string& model, const Cell& cell, const std::string& strategy,
           const Measured& m, const std::vector<int>& nodes, double lower_bound,
           const std::string& status) {
    char line[512];
    std::snprintf(line, sizeof line, "%s,%g,%g,%g,%g,%s,%.3f,%.3f,%d,%d,%d,%.3f,%s\n",
                  model.c_str(), cell.de_mbit, cell.de_rtt, cell.ec_mbit, cell.ec_rtt,
                  strategy.c_str(), m.p50, m.p99, nodes[0], nodes[1], nodes[2], lower_bound,
                  status.c_str());
    csv_ << line;
    csv_.flush();
  }

  int RunModel(const std::string& model_path) {
    const std::string stem = fs::path(model_path).stem().string();
    auto model = graph::LoadModel(model_path);
    if (!model.ok()) return Fail(model.status());
    auto view = graph::GraphView::Build(model->proto);
    if (!view.ok()) return Fail(view.status());
    const int n = static_cast<int>(view->order().size());

    auto device = Profile(model_path, "device", f_.device_slowdown > 0 ? 0 : f_.device_quota);
    auto edge = Profile(model_path, "edge", f_.edge_quota);
    auto cloud = Profile(model_path, "cloud", 0);
    for (const auto* p : {&device, &edge, &cloud}) {
      if (!p->ok()) return Fail(p->status());
    }

    edge_repo_ = f_.out + "/repos/edge";
    cloud_repo_ = f_.out + "/repos/cloud";
    fs::remove_all(f_.out + "/repos");
    fs::create_directories(edge_repo_);
    fs::create_directories(cloud_repo_);
    auto cloud_server = ServeChild::Start(
        f_.seam, {"--repo", cloud_repo_, "--http-port", "-1", "--log-level", "warn"},
        f_.out + "/cloud.log");
    if (!cloud_server.ok()) return Fail(cloud_server.status());
    cloud_ = std::move(cloud_server).value();
    auto edge_server = ServeChild::Start(f_.seam,
                                         {"--repo", edge_repo_, "--http-port", "-1", "--log-level",
                                          "warn", "--cpu-quota", std::to_string(f_.edge_quota)},
                                         f_.out + "/edge.log");
    if (!edge_server.ok()) return Fail(edge_server.status());
    edge_ = std::move(edge_server).value();
    auto target = [](const std::string& address) { return lab::ParseHostPort(address).value(); };
    lab::RelayOptions de_options, ec_options;
    de_options.listen = ec_options.listen = lab::HostPort{"127.0.0.1", 0};
    de_options.target = target(edge_->address());
    ec_options.target = target(cloud_->address());
    auto de = lab::ShapedRelay::Start(de_options);
    auto ec = lab::ShapedRelay::Start(ec_options);
    if (!de.ok()) return Fail(de.status());
    if (!ec.ok()) return Fail(ec.status());
    relay_de_ = std::move(de).value();
    relay_ec_ = std::move(ec).value();

    for (const Cell& cell : Grid(f_.grid)) {
      if (!f_.device_edge_mbit.empty() &&
          std::find(f_.device_edge_mbit.begin(), f_.device_edge_mbit.end(), cell.de_mbit) ==
              f_.device_edge_mbit.end()) {
        continue;
      }
      const lab::LinkShape de_shape{cell.de_mbit * 1e6, cell.de_rtt / 2};
      const lab::LinkShape ec_shape{cell.ec_mbit * 1e6, cell.ec_rtt / 2};
      (void)relay_de_->SetLink(de_shape, de_shape);
      (void)relay_ec_->SetLink(ec_shape, ec_shape);
      std::printf("[tiers] %s, %s\n", stem.c_str(), cell.Name().c_str());
      std::fflush(stdout);

      // seam's plan for this cell.
      char links[256];
      std::snprintf(links, sizeof links,
                    " --link device-edge=%gmbit,%gms --link edge-cloud=%gmbit,%gms", cell.de_mbit,
                    cell.de_rtt, cell.ec_mbit, cell.ec_rtt);
      fs::create_directories(f_.out + "/plans");
      const std::string seam_plan = f_.out + "/plans/" + stem + "-seam.json";
      const std::string plan_cmd = f_.seam + " plan " + model_path +
                                   " --profile device=" + *device + " --profile edge=" + *edge +
                                   " --profile cloud=" + *cloud + links + " --output " + seam_plan +
                                   " > " + seam_plan + ".log 2>&1";
      if (Shell(plan_cmd) != 0)
        return Fail(Unavailable("seam plan failed; see " + seam_plan + ".log"));
      // seam adaptive: the plan set over the same profiles and links.
      const std::string seam_set = f_.out + "/plans/" + stem + "-seam-set.json";
      const std::string set_cmd = f_.seam + " plan " + model_path + " --profile device=" + *device +
                                  " --profile edge=" + *edge + " --profile cloud=" + *cloud +
                                  links + " --set --output " + seam_set + " > " + seam_set +
                                  ".log 2>&1";
      if (Shell(set_cmd) != 0) {
        return Fail(Unavailable("seam plan --set failed; see " + seam_set + ".log"));
      }

      std::vector<Candidate> strategies = {
          {"device_only", std::vector<int>(n, 0)},
          {"edge_only", std::vector<int>(n, 1)},
          {"cloud_raw", std::vector<int>(n, 2)},
          {"cloud_zstd",
           std::vector<int>(n, 2),
           {{"device-edge", "identity+zstd"}, {"edge-cloud", "identity+zstd"}}},
      };
      CellResult result{stem, cell};
      std::map<std::string, Measured> measured;  // by plan id
      auto run = [&](const std::string& name, const std::string& plan_path, bool is_strategy,
                     bool is_set = false) {
        std::vector<int> nodes(3, 0);
        auto bound = is_set ? Result<double>(0.0) : LowerBoundMs(*model, plan_path, cell, &nodes);
        const double lb = bound.ok() ? *bound : 0;
        if (!is_strategy && result.best > 0 && lb >= result.best) {
          Row(stem, cell, name, {}, nodes, lb, "pruned");
          return;
        }
        // The same placement and codecs (the same plan id) is the same execution: measured once
        // per cell, so that two names for one plan do not differ by noise alone.
        // A set of one plan (the same plan wherever the conditions go) is that plan, run as any.
        std::string path = plan_path;
        bool adaptive = is_set;
        if (auto set = plan::ReadPlanSet(plan_path);
            is_set && set.ok() && set->members.size() == 1) {
          path = set->members.front().plan_path;
          adaptive = false;
        }
        auto id = plan::ReadExecutablePlan(path);
        const std::string key = id.ok() && !adaptive ? id->id : path;
        if (!measured.contains(key)) measured[key] = Measure(*model, path, adaptive);
        const Measured m = measured[key];
        if (!m.ok) {
          std::fprintf(stderr, "[tiers] %s failed: %s\n", name.c_str(), m.error.c_str());
          Row(stem, cell, name, m, nodes, lb, "failed");
          ++result.failures;
          return;
        }
        Row(stem, cell, name, m, nodes, lb, "ok");
        result.p50[name] = m.p50;
        result.p99[name] = m.p99;
        if (is_set) return;  // not a static placement: not an oracle candidate
        if (result.best == 0 || m.p50 < result.best) {
          result.best = m.p50;
          result.best_name = name;
        }
      };
      run("seam", seam_plan, true);
      run("seam_adaptive", seam_set, true, /*is_set=*/true);
      for (auto& s : strategies) {
        s.name = stem + "-" + s.name;
        const std::string path = WritePlan(model_path, *model, *view, s);
        run(s.name.substr(stem.size() + 1), path, true);
      }
      // Oracle candidates, cheapest transfers first so that the bound prunes the most.
      std::set<int> cuts = {0, n};
      for (int k = 1; k < f_.cuts; ++k) cuts.insert(n * k / f_.cuts);
      std::vector<std::pair<double, std::string>> candidates;
      for (int a : cuts) {
        for (int b : cuts) {
          if (b < a || (a == 0 && b == 0) || (a == n) || (a == 0 && b == n)) continue;  // baselines
          Candidate c{stem + "-cut-" + std::to_string(a) + "-" + std::to_string(b),
                      std::vector<int>(n, 2)};
          for (int i = 0; i < n; ++i) c.tier_of_position[i] = i < a ? 0 : i < b ? 1 : 2;
          const std::string path = WritePlan(model_path, *model, *view, c);
          std::vector<int> nodes;
          auto lb = LowerBoundMs(*model, path, cell, &nodes);
          candidates.push_back({lb.ok() ? *lb : 0, path});
        }
      }
      std::sort(candidates.begin(), candidates.end());
      for (const auto& [lb, path] : candidates) {
        run("oracle:" + fs::path(path).stem().string().substr(stem.size() + 1), path, false);
      }
      results_.push_back(std::move(result));
      PrintCell(results_.back());
    }
    relay_de_.reset();
    relay_ec_.reset();
    edge_->Stop();
    cloud_->Stop();
    return 0;
  }

  struct CellResult {
    std::string model;
    Cell cell;
    std::map<std::string, double> p50, p99;
    double best = 0;
    std::string best_name;
    int failures = 0;
    double BestSingle() const {
      double best = 0;
      for (const char* s : {"device_only", "edge_only", "cloud_raw", "cloud_zstd"}) {
        auto it = p50.find(s);
        if (it != p50.end() && (best == 0 || it->second < best)) best = it->second;
      }
      return best;
    }
  };

  void PrintCell(const CellResult& r) {
    auto get = [&](const char* s) { return r.p50.contains(s) ? r.p50.at(s) : NAN; };
    std::printf(
        "  p50 ms: seam %.2f  seam adaptive %.2f | device %.2f  edge %.2f  cloud raw %.2f  cloud "
        "zstd %.2f | oracle %.2f (%s)\n  seam / best single tier %.3f, seam / oracle %.3f, seam "
        "adaptive / oracle %.3f\n",
        get("seam"), get("seam_adaptive"), get("device_only"), get("edge_only"), get("cloud_raw"),
        get("cloud_zstd"), r.best, r.best_name.c_str(), get("seam") / r.BestSingle(),
        get("seam") / r.best, get("seam_adaptive") / r.best);
    std::fflush(stdout);
  }

  int Report() {
    int cells = 0, single_ok = 0, oracle_ok = 0, adaptive_cells = 0, adaptive_ok = 0, failures = 0;
    double speedup_log_sum = 0, speedup_sum = 0;
    json per_cell = json::array();
    for (const auto& r : results_) {
      failures += r.failures;
      if (!r.p50.contains("seam")) continue;
      ++cells;
      const double seam = r.p50.at("seam");
      const double vs_single = seam / r.BestSingle(), vs_oracle = seam / r.best;
      single_ok += vs_single <= 1.02;
      oracle_ok += vs_oracle <= 1.05;
      const double speedup = r.p50.contains("cloud_raw") ? r.p50.at("cloud_raw") / seam : NAN;
      const double adaptive = r.p50.contains("seam_adaptive") ? r.p50.at("seam_adaptive") : NAN;
      if (!std::isnan(adaptive)) {
        ++adaptive_cells;
        adaptive_ok += adaptive / r.best <= 1.05;
      }
      speedup_sum += speedup;
      speedup_log_sum += std::log(speedup);
      per_cell.push_back({{"model", r.model},
                          {"cell", r.cell.Name()},
                          {"seam_p50_ms", seam},
                          {"seam_p99_ms", r.p99.at("seam")},
                          {"best_single_p50_ms", r.BestSingle()},
                          {"oracle_p50_ms", r.best},
                          {"oracle", r.best_name},
                          {"seam_over_best_single", vs_single},
                          {"seam_over_oracle", vs_oracle},
                          {"seam_adaptive_p50_ms", adaptive},
                          {"seam_adaptive_over_oracle", adaptive / r.best},
                          {"speedup_over_cloud_raw", speedup}});
    }
    const json summary = {
        {"cells", cells},
        {"cells_within_2pct_of_best_single_tier", single_ok},
        {"cells_within_5pct_of_oracle", oracle_ok},
        {"adaptive_cells_within_5pct_of_oracle", adaptive_ok},
        {"device", f_.device_slowdown > 0
                       ? "profiled at full speed, run " + std::to_string(f_.device_slowdown) +
                             "x slower (seam run --device-slowdown)"
                       : "cgroup quota " + std::to_string(f_.device_quota) + " core"},
        {"mean_speedup_over_cloud_raw", cells ? speedup_sum / cells : 0},
        {"geomean_speedup_over_cloud_raw", cells ? std::exp(speedup_log_sum / cells) : 0},
        {"failed_runs", failures},
        {"per_cell", per_cell}};
    (void)WriteFileAtomic(f_.out + "/summary.json", summary.dump(2) + "\n");
    WriteSvg();
    std::printf(
        "\n[tiers] %d cells: seam p50 <= 1.02x best single tier in %d (goal: all) %s; within 5%% "
        "of the oracle in %d (%.0f%%; goal >= 95%%) %s; mean speedup over cloud-only raw %.2fx "
        "(geomean %.2fx); %d failed runs\n",
        cells, single_ok, single_ok == cells ? "MET" : "NOT MET", oracle_ok,
        cells ? 100.0 * oracle_ok / cells : 0, oracle_ok >= 0.95 * cells ? "MET" : "NOT MET",
        summary["mean_speedup_over_cloud_raw"].get<double>(),
        summary["geomean_speedup_over_cloud_raw"].get<double>(), failures);
    std::printf(
        "[tiers] seam adaptive (plan set, chosen per request) within 5%% of the oracle in %d of %d "
        "cells (%.0f%%; goal >= 95%%) %s\n",
        adaptive_ok, adaptive_cells, adaptive_cells ? 100.0 * adaptive_ok / adaptive_cells : 0,
        adaptive_ok >= 0.95 * adaptive_cells ? "MET" : "NOT MET");
    std::printf("[tiers] wrote %s/tiers.csv, %s/tiers.svg, %s/summary.json\n", f_.out.c_str(),
                f_.out.c_str(), f_.out.c_str());
    return failures == 0 ? 0 : 1;
  }

  // p50 per strategy across the cells, one panel per model, log scale.
  void WriteSvg() {
    const char* names[] = {"seam",       "device_only", "edge_only",    "cloud_raw",
                           "cloud_zstd", "oracle",      "seam_adaptive"};
    const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd",
                             "#8c564b", "#111111", "#ff7f0e"};
    std::map<std::string, std::vector<const CellResult*>> by_model;
    for (const auto& r : results_) by_model[r.model].push_back(&r);
    const int panel_h = 260, width = 900, left = 60;
    std::string svg;
    int y0 = 10;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%zu' "
                  "font-family='sans-serif' font-size='11'>\n",
                  width, by_model.size() * (panel_h + 40) + 40);
    svg += buf;
    for (const auto& [model, cells] : by_model) {
      double lo = 1e18, hi = 0;
      for (const auto* r : cells) {
        for (const auto& [k, v] : r->p50) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      lo = std::max(lo, 0.01);
      const double llo = std::log10(lo) - 0.1, lhi = std::log10(std::max(hi, lo * 1.1)) + 0.1;
      auto y = [&](double v) {
        return y0 + 20 + (lhi - std::log10(v)) / (lhi - llo) * (panel_h - 40);
      };
      auto x = [&](size_t i) {
        return left + (cells.size() > 1 ? i * (width - left - 150.0) / (cells.size() - 1) : 0.0);
      };
      std::snprintf(
          buf, sizeof buf,
          "<text x='%d' y='%d' font-weight='bold'>%s: p50 ms (log) per link cell</text>\n", left,
          y0 + 12, model.c_str());
      svg += buf;
      for (double tick = std::pow(10, std::floor(llo)); tick <= std::pow(10, lhi); tick *= 10) {
        if (std::log10(tick) < llo) continue;
        std::snprintf(buf, sizeof buf,
                      "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='5' "
                      "y='%.1f'>%g</text>\n",
                      left, width - 150, y(tick), y(tick), y(tick) + 4, tick);
        svg += buf;
      }
      for (int s = 0; s < 7; ++s) {
        std::string points;
        for (size_t i = 0; i < cells.size(); ++i) {
          const double v =
              s == 5 ? cells[i]->best
                     : (cells[i]->p50.contains(names[s]) ? cells[i]->p50.at(names[s]) : 0);
          if (v <= 0) continue;
          std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x(i), y(v));
          points += buf;
        }
        std::snprintf(buf, sizeof buf,
                      "<polyline fill='none' stroke='%s' stroke-width='%s' %s points='%s'/>\n<text "
                      "x='%d' y='%d' fill='%s'>%s</text>\n",
                      colours[s], s == 0 ? "2.5" : "1.2", s == 5 ? "stroke-dasharray='4 3'" : "",
                      points.c_str(), width - 140, y0 + 30 + 14 * s, colours[s], names[s]);
        svg += buf;
      }
      y0 += panel_h + 40;
    }
    svg += "</svg>\n";
    (void)WriteFileAtomic(f_.out + "/tiers.svg", svg);
  }

  int Fail(const Status& s) {
    std::fprintf(stderr, "tiers_bench: %s\n", s.message().c_str());
    return 1;
  }

  const Flags f_;
  std::ofstream csv_;
  std::string edge_repo_, cloud_repo_;
  std::unique_ptr<ServeChild> edge_, cloud_;
  std::unique_ptr<lab::ShapedRelay> relay_de_, relay_ec_;
  std::vector<CellResult> results_;
};

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Flags f;
  CLI::App app{"tiers_bench: seam's plan vs single tiers and a measured oracle over a link grid"};
  app.add_option("--model", f.models,
                 "ONNX models, or pooled_mlp (generated: a 1 MB frame pooled, then heavy layers) "
                 "(default: pooled_mlp, BlazeFace, dag_blocks, cnn_chain)");
  app.add_option("--grid", f.grid,
                 "ci (2 cells), uplink (10: device->edge 1-100 Mbit/s, 5 and 20 ms) or full (48)");
  app.add_option("--requests", f.requests,
                 "timed requests per strategy and cell (after one warm-up)");
  app.add_option("--cuts", f.cuts, "oracle: cut positions per tier boundary");
  app.add_option("--device-quota", f.device_quota,
                 "the device's CPU, cores (with --device-slowdown 0)");
  app.add_option("--device-slowdown", f.device_slowdown,
                 "run the device this many times slower than it was profiled (0: under "
                 "--device-quota instead)");
  app.add_option("--warmup", f.warmup,
                 "untimed requests of every strategy in every cell (seam adaptive learns from "
                 "them)");
  app.add_option("--edge-quota", f.edge_quota, "the edge's CPU, cores");
  app.add_option("--out", f.out, "output directory (profiles are cached there)");
  app.add_option("--seam", f.seam,
                 "the seam executable (a copy, for a long run while the build changes)");
  app.add_option("--profile-runs", f.profile_runs, "timed runs per profile measurement");
  app.add_option("--device-edge-mbit", f.device_edge_mbit,
                 "only the cells with these device->edge rates (to split a long run)");
  CLI11_PARSE(app, argc, argv);
  if (f.models.empty()) {
    f.models = {seam::bench::kPooledMlp, std::string(SEAM_MODEL_CACHE) + "/blazeface.onnx",
                std::string(SEAM_SOURCE_DIR) + "/models/dag_blocks.onnx",
                std::string(SEAM_SOURCE_DIR) + "/models/cnn_chain.onnx"};
  }
  return seam::bench::Bench(f).Run();
}
