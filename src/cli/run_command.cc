// `seam run --plan PLAN.json`: the device side of a deployed plan, as an application would call
// it through include/seam/client.h, with a trace per request and latency percentiles.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/cpu_limit.h"
#include "cli/run_report.h"
#include "cli/tier_flags.h"
#include "common/file_util.h"
#include "common/npy.h"
#include "common/percentile.h"
#include "pipeline/trace.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "seam/client.h"

namespace seam::cli {
namespace {

struct RunFlags {
  std::string plan;
  std::vector<std::string> inputs;  // FILE.npy or NAME=FILE.npy
  int random = 0;
  int repeat = 1;
  int warmup = 0;
  uint64_t seed = 1;
  bool check = false;
  std::string model;  // for --check; default: the path in the plan
  std::string save_dir;
  std::string next_address;
  HopSecurityFlags security;
  std::string trusted_keys;
  std::vector<std::string> model_keys;
  std::string json;
  double ready_timeout_s = 10;
  double cpu_quota = 0;
  std::optional<double> deadline_ms;
  double device_slowdown = 1;
  double probe_interval_ms = 100;
  bool no_fallback = false;
  bool no_adapt = false;
  double tolerance = 1e-2;
  double duration_s = 0;
  double report_ms = 0;
  std::string svg;
};

client::Tensor ToClient(const Tensor& t) {
  return {DTypeName(t.dtype), t.shape,
          std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size())};
}

Tensor FromClient(const client::Tensor& t) {
  Tensor out;
  out.dtype = DTypeFromName(t.datatype).value_or(DType::kFloat32);
  out.shape = t.shape;
  out.data.resize(t.data.size());
  std::memcpy(out.data.data(), t.data.data(), t.data.size());
  return out;
}

Result<std::vector<client::Tensors>> MakeInputs(const RunFlags& f, const client::Client& c) {
  std::vector<client::Tensors> sets;
  if (!f.inputs.empty()) {
    client::Tensors set;
    for (const auto& item : f.inputs) {
      std::string name, path = item;
      if (auto eq = item.find('='); eq != std::string::npos) {
        name = item.substr(0, eq);
        path = item.substr(eq + 1);
      } else if (c.inputs().size() == 1) {
        name = c.inputs()[0].name;
      } else {
        return InvalidArgument("--input " + item + ": the model has " +
                               std::to_string(c.inputs().size()) +
                               " inputs; name each one as NAME=FILE.npy");
      }
      SEAM_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
      set[name] = ToClient(t);
    }
    sets.push_back(std::move(set));
  }
  for (int i = 0; i < f.random; ++i) {
    client::Tensors set;
    const std::vector<client::InputInfo> model_inputs = c.inputs();
    for (size_t k = 0; k < model_inputs.size(); ++k) {
      const auto& in = model_inputs[k];
      runtime::IoSpec spec{in.name, *DTypeFromName(in.datatype), in.shape};
      set[in.name] = ToClient(runtime::RandomTensor(spec, f.seed * 1000003 + i * 101 + k));
    }
    sets.push_back(std::move(set));
  }
  if (sets.empty()) return InvalidArgument("give inputs: --input FILE.npy or --random N");
  return sets;
}

// Max |a-b| and relative L2 of FP32 outputs; exact comparison of bytes decides "bitwise".
struct Difference {
  bool bitwise = true;
  double max_abs = 0, relative_l2 = 0;
};

Difference Compare(const Tensor& got, const Tensor& want) {
  Difference d;
  d.bitwise = got.BitwiseEquals(want);
  if (d.bitwise || got.dtype != DType::kFloat32 || got.data.size() != want.data.size()) {
    if (!d.bitwise) d.max_abs = d.relative_l2 = INFINITY;
    return d;
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < got.data.size() / 4; ++i) {
    const double a = got.data_as<float>()[i], b = want.data_as<float>()[i];
    d.max_abs = std::max(d.max_abs, std::fabs(a - b));
    num += (a - b) * (a - b);
    den += b * b;
  }
  d.relative_l2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return d;
}

pipeline::RequestTrace ToPipeline(const client::Trace& t) {
  pipeline::RequestTrace out;
  for (const auto& x : t.tiers) {
    out.tiers.push_back({x.tier, x.compute_ms, x.encode_ms, x.decode_ms, x.total_ms, x.queue_ms});
  }
  for (const auto& l : t.links) {
    out.links.push_back({l.from, l.to, l.up_bytes, l.down_bytes, l.ms, l.retries});
  }
  out.route = t.route;
  out.plan = t.plan;
  out.plan_reason = t.plan_reason;
  out.degraded = t.degraded;
  out.degraded_reason = t.degraded_reason;
  return out;
}

int RunRun(const RunFlags& f) {
  if (f.repeat < 1) return ReportError(InvalidArgument("--repeat must be at least 1"));
  if (f.random < 0) return ReportError(InvalidArgument("--random must not be negative"));
  if (f.deadline_ms && !(*f.deadline_ms > 0)) {
    return ReportError(
        InvalidArgument("--deadline-ms must be positive, got " + std::to_string(*f.deadline_ms)));
  }
  if (!(f.tolerance >= 0)) return ReportError(InvalidArgument("--tolerance must not be negative"));
  if (f.duration_s < 0 || f.report_ms < 0) {
    return ReportError(InvalidArgument("--duration-s and --report-ms must not be negative"));
  }
  if (!(f.device_slowdown >= 1)) {
    return ReportError(InvalidArgument("--device-slowdown must be at least 1, got " +
                                       std::to_string(f.device_slowdown)));
  }
  if (!(f.probe_interval_ms > 0)) {
    return ReportError(InvalidArgument("--probe-interval-ms must be positive, got " +
                                       std::to_string(f.probe_interval_ms)));
  }
  // The device's CPU, emulated with a cgroup quota on this process (ONNX Runtime's threads too).
  auto quota = LimitCpu(f.cpu_quota);
  if (!quota.ok()) return ReportError(quota.status());
  client::Options options;
  options.next_address = f.next_address;
  auto security = HopSecurityByTier(f.security);
  if (!security.ok()) return ReportError(security.status());
  for (const auto& [tier, s] : *security) {
    options.security[tier] = {
        .ca = s.ca, .cert = s.cert, .key = s.key, .token = s.token, .server_name = s.server_name};
  }
  options.trusted_keys = f.trusted_keys;
  options.model_keys = f.model_keys;
  options.ready_timeout_ms = f.ready_timeout_s * 1e3;
  options.deadline_ms = f.deadline_ms.value_or(0);
  options.fallback = !f.no_fallback;
  options.adaptive = !f.no_adapt;
  options.device_slowdown = f.device_slowdown;
  options.probe_interval_ms = f.probe_interval_ms;
  std::string error;
  auto c = client::Client::Open(f.plan, options, &error);
  if (!c) return ReportError(Unavailable(error));
  auto inputs = MakeInputs(f, *c);
  if (!inputs.ok()) return ReportError(inputs.status());

  // The reference for --check: the whole model on this machine, optimised as the stages were.
  std::unique_ptr<runtime::Session> whole;
  if (f.check) {
    const std::string model = f.model.empty() ? c->model_path() : f.model;
    runtime::SessionOptions so;
    so.optimize = c->optimized();
    auto session = runtime::Session::Open(model, so);
    if (!session.ok()) return ReportError(session.status());
    whole = std::move(session).value();
  }

  const auto tiers = c->tiers();
  std::printf("plan %s: the device %s; %zu input set(s) x %d\n", c->plan_id().c_str(),
              tiers.size() > 1 ? ("sends to " + tiers[1]).c_str() : "runs the whole model",
              inputs->size(), f.repeat);
  std::fflush(stdout);
  // Warm-up requests open the sessions' caches and the streams; they are not counted.
  for (int w = 0; w < f.warmup; ++w) {
    if (!c->Infer((*inputs)[0], nullptr, nullptr, &error)) {
      return ReportError(Unavailable("warm-up request: " + error));
    }
  }
  std::vector<double> totals;
  std::vector<client::Trace> traces;
  Difference worst;
  nlohmann::json requests = nlohmann::json::array();
  int sent = 0, ok = 0, degraded = 0, failed = 0, retried = 0;
  std::map<std::string, int> plans_used;  // with a plan set: requests answered by each plan
  RunReport report(f.report_ms, stdout);
  const auto run_start = std::chrono::steady_clock::now();
  auto since_ms = [&](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t - run_start).count();
  };
  const int rounds = f.duration_s > 0 ? std::numeric_limits<int>::max() : f.repeat;
  for (int r = 0; r < rounds; ++r) {
    if (f.duration_s > 0 && since_ms(std::chrono::steady_clock::now()) >= f.duration_s * 1e3) break;
    for (size_t i = 0; i < inputs->size(); ++i) {
      client::Tensors outputs;
      client::Trace trace;
      ++sent;
      const auto started = std::chrono::steady_clock::now();
      const bool answered = c->Infer((*inputs)[i], &outputs, &trace, &error);
      report.Add(since_ms(started), since_ms(std::chrono::steady_clock::now()) - since_ms(started),
                 trace, !answered);
      // A failed request is counted and reported; the run goes on (nothing else is lost with it).
      if (!answered) {
        ++failed;
        if (failed <= 5) std::printf("request %d failed: %s\n", sent, error.c_str());
        requests.push_back({{"request", sent}, {"error", error}});
        continue;
      }
      if (trace.degraded) {
        ++degraded;
        if (degraded <= 5) {
          std::printf("request %d degraded: %s\n", sent, trace.degraded_reason.c_str());
        }
      } else {
        ++ok;
      }
      if (!trace.plan.empty()) ++plans_used[trace.plan];
      for (const auto& l : trace.links) {
        if (l.retries > 0) {
          ++retried;
          break;
        }
      }
      totals.push_back(trace.total_ms);
      traces.push_back(trace);
      requests.push_back(pipeline::TraceToJson(ToPipeline(trace)));
      requests.back()["request"] = sent;
      requests.back()["total_ms"] = trace.total_ms;
      if (whole && r == 0) {
        TensorMap feed;
        for (const auto& [name, t] : (*inputs)[i]) feed[name] = FromClient(t);
        auto want = whole->Run(feed);
        if (!want.ok()) return ReportError(want.status());
        for (const auto& [name, t] : *want) {
          const Difference d = Compare(FromClient(outputs.at(name)), t);
          worst.bitwise &= d.bitwise;
          worst.max_abs = std::max(worst.max_abs, d.max_abs);
          worst.relative_l2 = std::max(worst.relative_l2, d.relative_l2);
        }
      }
      if (!f.save_dir.empty() && r == 0) {
        std::filesystem::create_directories(f.save_dir);
        for (const auto& [name, t] : outputs) {
          const std::string path = f.save_dir + "/" + std::to_string(i) + "_" + name + ".npy";
          if (Status s = WriteFileAtomic(path, SerializeNpy(FromClient(t))); !s.ok())
            return ReportError(s);
        }
      }
    }
  }
  report.Finish();
  if (!f.svg.empty()) {
    if (Status s = WriteFileAtomic(f.svg, report.Svg("seam run --plan " + f.plan)); !s.ok()) {
      return ReportError(s);
    }
  }
  std::printf("outcomes: %d sent, %d ok, %d degraded (finished on the device), %d failed\n", sent,
              ok, degraded, failed);
  if (retried > 0) {
    std::printf(
        "%d request(s) were sent again on a new connection after a stream broke under them: a "
        "tier above may have run them twice (links[].retries in --json)\n",
        retried);
  }
  if (!plans_used.empty()) {
    std::string line = "plans of the set that answered:";
    for (const auto& [name, count] : plans_used) {
      line += ' ';
      line += name;
      line += ' ';
      line += std::to_string(count);
      line += ';';
    }
    std::puts(line.c_str());
  }
  nlohmann::json out = {{"plan_id", c->plan_id()}, {"sent", sent},     {"ok", ok},
                        {"degraded", degraded},    {"failed", failed}, {"requests", requests}};
  if (!plans_used.empty()) out["plans"] = plans_used;
  out["retried"] = retried;
  if (totals.empty()) {
    if (!f.json.empty()) {
      if (Status s = WriteFileAtomic(f.json, out.dump(2) + "\n"); !s.ok()) return ReportError(s);
    }
    return ReportError(Unavailable("every request failed"));
  }
  // The trace of the median request: what a typical request spent where.
  std::vector<size_t> order(totals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return totals[a] < totals[b]; });
  std::printf("trace of the median request (%.3f ms):\n", totals[order[order.size() / 2]]);
  std::fputs(pipeline::TraceToText(ToPipeline(traces[order[order.size() / 2]])).c_str(), stdout);
  std::printf("latency over %zu requests: p50 %.3f ms  p99 %.3f ms  min %.3f ms\n", totals.size(),
              Percentile(totals, 0.5), Percentile(totals, 0.99),
              *std::min_element(totals.begin(), totals.end()));
  if (!f.json.empty()) {
    out["p50_ms"] = Percentile(totals, 0.5);
    out["p99_ms"] = Percentile(totals, 0.99);
    if (Status s = WriteFileAtomic(f.json, out.dump(2) + "\n"); !s.ok()) return ReportError(s);
  }
  bool outside = false;
  if (whole) {
    if (worst.bitwise) {
      std::printf("check: outputs equal the whole model's, bitwise\n");
    } else {
      outside = !(worst.relative_l2 <= f.tolerance);
      std::printf(
          "check: outputs differ from the whole model's: max |diff| %.3g, relative L2 %.3g (%s "
          "the tolerance %.3g)\n",
          worst.max_abs, worst.relative_l2, outside ? "OUTSIDE" : "within", f.tolerance);
    }
  }
  if (failed > 0) {
    return ReportError(
        Unavailable(std::to_string(failed) + " of " + std::to_string(sent) + " requests failed"));
  }
  if (outside) {
    return ReportError(FailedPrecondition("--check: outputs are outside the tolerance"));
  }
  return 0;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "run requests through a deployed plan, from the device");
  cmd->add_option("--plan", f->plan, "plan file, deployed with seam deploy")->required();
  cmd->add_option("--input", f->inputs, "FILE.npy, or NAME=FILE.npy per model input")
      ->allow_extra_args(false);
  cmd->add_option("--random", f->random, "N random input sets (seeded)");
  cmd->add_option("--repeat", f->repeat, "send every input set R times");
  cmd->add_option("--seed", f->seed, "seed of --random");
  cmd->add_option("--warmup", f->warmup, "untimed requests before the measured ones");
  cmd->add_flag("--check", f->check,
                "compare the outputs with the whole model run on this machine");
  cmd->add_option("--model", f->model, "the model for --check (default: the path in the plan)");
  cmd->add_option("--save", f->save_dir, "write the outputs of the first round as .npy here");
  cmd->add_option("--next-address", f->next_address,
                  "HOST:PORT of the next tier, instead of the deployment's");
  AddHopSecurityFlags(cmd, &f->security, "the device");
  cmd->add_option("--model-key", f->model_keys,
                  "a key that opens the device's encrypted segments (seam deploy --encrypt "
                  "DEVICE=SRC): file:PATH or env:NAME; repeat for several")
      ->type_name("SRC");
  cmd->add_option("--trusted-keys", f->trusted_keys,
                  "PEM public key(s) (file:PATH or env:NAME): run only a device stage signed by "
                  "one (seam deploy --sign)");
  cmd->add_option("--json", f->json, "write latencies and every request's trace here");
  cmd->add_option("--ready-timeout-s", f->ready_timeout_s,
                  "how long to wait for the next tier to serve its stage");
  cmd->add_option("--deadline-ms", f->deadline_ms,
                  "every request's deadline (default: the plan's SLO, else 60000)");
  cmd->add_flag("--no-fallback", f->no_fallback,
                "never finish a request on the device when the tiers above cannot answer in time");
  cmd->add_flag("--no-adapt", f->no_adapt,
                "send every request as the plan says (still finishing on the device when the "
                "tiers above fail)");
  cmd->add_option("--tolerance", f->tolerance,
                  "--check fails when the relative L2 error exceeds this (default 1e-2)");
  cmd->add_option("--device-slowdown", f->device_slowdown,
                  "emulate a slower dedicated device CPU: stretch each device run F times "
                  "(steadier than --cpu-quota on shared cores)");
  cmd->add_option("--duration-s", f->duration_s,
                  "send the input sets over and over for this long (instead of --repeat)");
  cmd->add_option("--report-ms", f->report_ms,
                  "print a line per window of this length (requests, p50, p99, routes) and one "
                  "per route change, as they happen");
  cmd->add_option("--svg", f->svg, "draw latency over time, each request coloured by its route");
  cmd->add_option("--probe-interval-ms", f->probe_interval_ms,
                  "while requests stay on the device, re-measure the tiers above this often");
  cmd->add_option("--cpu-quota", f->cpu_quota,
                  "limit the device to this many cores (cgroup), to emulate a weaker device");
  cmd->callback([f, &exit_code] { exit_code = RunRun(*f); });
}

}  // namespace seam::cli
