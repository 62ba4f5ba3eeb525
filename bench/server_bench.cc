// server_bench: what serving costs. The same models run through `seam serve` over loopback gRPC
// and through ONNX Runtime called in process, in the same run:
//
//   overhead   p50 of a batch-1 request through the server minus p50 of the same Session::Run in
//              process (same session options as a served instance: one intra-op thread), for
//              (a) tiny_golden.onnx (goal <= 0.3 ms absolute) and (b) a model of >= 5 ms compute,
//              BlazeFace from the model cache (goal <= 3% of its compute). The two are measured in
//              alternating blocks so that drift (frequency, other load) hits both alike.
//   throughput --clients (16) closed-loop clients, each on its own connection, sending batch-1
//              requests to cnn_chain.onnx for --seconds, with dynamic batching off (one request
//              per run, --infer-threads workers) and on (max_batch_size --max-batch, preferred
//              --max-batch/2 and --max-batch, --delay-us), both with --instances sessions.
//              Goal: on / off >= 2x.
//
// The benchmark starts `seam serve` itself (127.0.0.1, port 0, a temporary repository) and stops
// it. Every answer is compared bitwise with the in-process one. A missed goal is reported, not an
// error; the exit status is 1 only when a step fails or an answer is wrong.
#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "serve_child.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Stub = inference::GRPCInferenceService::Stub;

constexpr double kTinyGoalMs = 0.3;
constexpr double kLargeGoalPercent = 3.0;
constexpr double kThroughputGoal = 2.0;

struct Options {
  std::string seam = SEAM_BINARY;
  std::string blazeface = std::string(SEAM_MODEL_CACHE) + "/blazeface.onnx";
  int requests = 2000;       // latency samples per side, tiny model
  int large_requests = 300;  // latency samples per side, large model
  int warmup = 50;
  int clients = 16;
  double seconds = 5;
  int max_batch = 16;
  int64_t delay_us = 1000;
  int instances = 2;
  int infer_threads = 0;
  std::string json_path;
};

struct Latency {
  std::string model;
  int samples = 0;
  double in_process_p50_ms = 0, served_p50_ms = 0, served_p99_ms = 0;
  double overhead_ms = 0, overhead_percent = 0;
  std::string goal;
  bool met = false;
};

// What batching can save at most: cnn_chain's in-process compute per row, alone and batched.
struct BatchScaling {
  double batch1_us_per_row = 0, batched_us_per_row = 0;
};

struct Throughput {
  std::string mode;
  int64_t requests = 0, wrong = 0, failed = 0;
  double seconds = 0, requests_per_s = 0, p50_ms = 0, p99_ms = 0;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

Result<std::unique_ptr<runtime::Session>> OpenLocal(const std::string& path) {
  runtime::SessionOptions options;
  options.intra_op_threads = 1;  // as a served instance (config default)
  return runtime::Session::Open(path, options);
}

TensorMap Inputs(const runtime::Session& session, uint64_t seed) {
  TensorMap inputs;
  for (const auto& spec : session.inputs()) inputs[spec.name] = runtime::RandomTensor(spec, seed);
  return inputs;
}

inference::ModelInferRequest Request(const std::string& model, const TensorMap& inputs) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  for (const auto& [name, tensor] : inputs) {
    auto* in = request.add_inputs();
    in->set_name(name);
    in->set_datatype(DTypeName(tensor.dtype));
    for (int64_t d : tensor.shape) in->add_shape(d);
    request.add_raw_input_contents(reinterpret_cast<const char*>(tensor.data.data()),
                                   tensor.data.size());
  }
  return request;
}

// Whether the response carries exactly `expected`, byte for byte.
bool SameOutputs(const TensorMap& expected, const inference::ModelInferResponse& response) {
  if (response.outputs_size() != static_cast<int>(expected.size()) ||
      response.raw_output_contents_size() != response.outputs_size()) {
    return false;
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    auto it = expected.find(response.outputs(i).name());
    if (it == expected.end()) return false;
    const std::string& raw = response.raw_output_contents(i);
    if (raw.size() != it->second.data.size() ||
        std::memcmp(raw.data(), it->second.data.data(), raw.size()) != 0) {
      return false;
    }
  }
  return true;
}

grpc::Status Infer(Stub& stub, const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return stub.ModelInfer(&context, request, response);
}

std::unique_ptr<Stub> NewStub(const std::string& address) {
  grpc::ChannelArguments args;
  // A connection per client, as separate client processes would have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

Status MeasureLatency(const std::string& name, const std::string& path, const std::string& address,
                      int samples, int warmup, Latency* out) {
  SEAM_ASSIGN_OR_RETURN(auto session, OpenLocal(path));
  const TensorMap inputs = Inputs(*session, 7);
  SEAM_ASSIGN_OR_RETURN(const TensorMap expected, session->Run(inputs));
  const inference::ModelInferRequest request = Request(name, inputs);
  auto stub = NewStub(address);

  auto served_once = [&]() -> Result<double> {
    inference::ModelInferResponse response;
    const auto start = Clock::now();
    const grpc::Status status = Infer(*stub, request, &response);
    const double ms = Ms(Clock::now() - start);
    if (!status.ok()) return Unavailable(name + ": " + status.error_message());
    if (!SameOutputs(expected, response)) return Internal(name + ": served answer differs");
    return ms;
  };
  auto local_once = [&]() -> Result<double> {
    const auto start = Clock::now();
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(inputs));
    return Ms(Clock::now() - start);
  };
  for (int i = 0; i < warmup; ++i) {
    SEAM_RETURN_IF_ERROR(served_once().status());
    SEAM_RETURN_IF_ERROR(local_once().status());
  }
  std::vector<double> served, local;
  constexpr int kBlock = 25;
  while (static_cast<int>(served.size()) < samples) {
    for (int i = 0; i < kBlock; ++i) {
      SEAM_ASSIGN_OR_RETURN(double ms, served_once());
      served.push_back(ms);
    }
    for (int i = 0; i < kBlock; ++i) {
      SEAM_ASSIGN_OR_RETURN(double ms, local_once());
      local.push_back(ms);
    }
  }
  out->model = name;
  out->samples = static_cast<int>(served.size());
  out->in_process_p50_ms = Percentile(local, 0.5);
  out->served_p50_ms = Percentile(served, 0.5);
  out->served_p99_ms = Percentile(served, 0.99);
  out->overhead_ms = out->served_p50_ms - out->in_process_p50_ms;
  out->overhead_percent = 100 * out->overhead_ms / out->in_process_p50_ms;
  return Status::Ok();
}

Status MeasureThroughput(const std::string& model, const std::string& path,
                         const std::string& address, const Options& o, Throughput* out) {
  SEAM_ASSIGN_OR_RETURN(auto session, OpenLocal(path));
  std::vector<inference::ModelInferRequest> requests;
  std::vector<TensorMap> expected;
  for (int c = 0; c < o.clients; ++c) {
    const TensorMap inputs = Inputs(*session, 100 + c);
    SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(inputs));
    requests.push_back(Request(model, inputs));
    expected.push_back(std::move(outputs));
  }
  std::vector<std::vector<double>> latencies(o.clients);
  std::atomic<int64_t> wrong{0}, failed{0};
  std::barrier start(o.clients + 1);
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = NewStub(address);
      inference::ModelInferResponse warm;
      Infer(*stub, requests[c], &warm);  // connect before the clock starts
      start.arrive_and_wait();
      while (!stop.load(std::memory_order_relaxed)) {
        inference::ModelInferResponse response;
        const auto sent = Clock::now();
        const grpc::Status status = Infer(*stub, requests[c], &response);
        latencies[c].push_back(Ms(Clock::now() - sent));
        if (!status.ok()) {
          if (failed++ == 0)
            std::fprintf(stderr, "%s: %s\n", model.c_str(), status.error_message().c_str());
        } else if (!SameOutputs(expected[c], response)) {
          ++wrong;
        }
      }
    });
  }
  start.arrive_and_wait();
  const auto begin = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : clients) t.join();
  out->seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  out->requests = static_cast<int64_t>(all.size());
  out->requests_per_s = static_cast<double>(all.size()) / out->seconds;
  out->p50_ms = Percentile(all, 0.5);
  out->p99_ms = Percentile(all, 0.99);
  out->wrong = wrong.load();
  out->failed = failed.load();
  return Status::Ok();
}

Status MeasureScaling(const std::string& path, int max_batch, BatchScaling* out) {
  SEAM_ASSIGN_OR_RETURN(auto session, OpenLocal(path));
  for (int batch : {1, max_batch}) {
    TensorMap inputs;
    for (const auto& spec : session->inputs()) {
      inputs[spec.name] = runtime::RandomTensor(spec, 3, batch);
    }
    std::vector<double> us;
    for (int i = 0; i < 200; ++i) {
      const auto start = Clock::now();
      SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(inputs));
      us.push_back(1000 * Ms(Clock::now() - start) / batch);
    }
    (batch == 1 ? out->batch1_us_per_row : out->batched_us_per_row) = Percentile(us, 0.5);
  }
  return Status::Ok();
}

// Whether `seam serve` has `flag` (the HTTP port came with the REST front end).
bool ServeHasFlag(const std::string& binary, const std::string& flag) {
  FILE* pipe = ::popen(("'" + binary + "' serve --help 2>&1").c_str(), "r");
  if (!pipe) return false;
  std::string help;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) help.append(buffer, n);
  ::pclose(pipe);
  return help.find(flag) != std::string::npos;
}

// The repository: tiny, blazeface (if present), cnn_off and cnn_on (the same file).
Status WriteRepository(const fs::path& root, const Options& o, bool with_large) {
  auto add = [&](const std::string& model, const std::string& file,
                 const std::string& config) -> Status {
    std::error_code ec;
    fs::create_directories(root / model / "1", ec);
    fs::copy_file(file, root / model / "1" / "model.onnx", fs::copy_options::overwrite_existing,
                  ec);
    if (ec) return Unavailable(file + ": " + ec.message());
    return config.empty() ? Status::Ok()
                          : WriteFileAtomic((root / model / "config.json").string(), config);
  };
  const std::string models = std::string(SEAM_SOURCE_DIR) + "/models/";
  SEAM_RETURN_IF_ERROR(add("tiny", models + "tiny_golden.onnx", ""));
  if (with_large) SEAM_RETURN_IF_ERROR(add("blazeface", o.blazeface, ""));
  const std::string common = R"({"max_batch_size": )" + std::to_string(o.max_batch) +
                             R"(, "instance_count": )" + std::to_string(o.instances);
  SEAM_RETURN_IF_ERROR(add("cnn_off", models + "cnn_chain.onnx", common + "}"));
  const int half = std::max(1, o.max_batch / 2);
  const std::string preferred = half < o.max_batch ? std::to_string(half) + ", " : "";
  SEAM_RETURN_IF_ERROR(add("cnn_on", models + "cnn_chain.onnx",
                           common + R"(, "dynamic_batching": {"preferred_batch_size": [)" +
                               preferred + std::to_string(o.max_batch) +
                               R"(], "max_queue_delay_us": )" + std::to_string(o.delay_us) + "}}"));
  return Status::Ok();
}

Status WriteJson(const Options& o, const std::vector<Latency>& latencies,
                 const std::vector<Throughput>& throughput, const BatchScaling& scaling,
                 double ratio) {
  nlohmann::json lat = nlohmann::json::array(), thr = nlohmann::json::array();
  for (const Latency& l : latencies) {
    lat.push_back({{"model", l.model},
                   {"samples", l.samples},
                   {"in_process_p50_ms", l.in_process_p50_ms},
                   {"served_p50_ms", l.served_p50_ms},
                   {"served_p99_ms", l.served_p99_ms},
                   {"overhead_ms", l.overhead_ms},
                   {"overhead_percent", l.overhead_percent},
                   {"goal", l.goal},
                   {"met", l.met}});
  }
  for (const Throughput& t : throughput) {
    thr.push_back({{"batching", t.mode},
                   {"requests", t.requests},
                   {"seconds", t.seconds},
                   {"requests_per_s", t.requests_per_s},
                   {"p50_ms", t.p50_ms},
                   {"p99_ms", t.p99_ms},
                   {"wrong_answers", t.wrong},
                   {"failed_requests", t.failed}});
  }
  const nlohmann::json doc = {{"benchmark", "server_bench"},
                              {"latency_batch1", lat},
                              {"throughput",
                               {{"model", "cnn_chain"},
                                {"clients", o.clients},
                                {"instances", o.instances},
                                {"max_batch_size", o.max_batch},
                                {"max_queue_delay_us", o.delay_us},
                                {"in_process_us_per_row_batch1", scaling.batch1_us_per_row},
                                {"in_process_us_per_row_batched", scaling.batched_us_per_row},
                                {"modes", thr},
                                {"ratio_on_to_off", ratio},
                                {"goal_ratio", kThroughputGoal},
                                {"met", ratio >= kThroughputGoal}}}};
  return WriteFileAtomic(o.json_path, doc.dump(2) + "\n");
}

Status Run(const Options& o, bool* wrong) {
  const bool with_large = fs::exists(o.blazeface);
  if (!with_large) {
    std::fprintf(stderr,
                 "server_bench: %s not found (scripts/setup.sh downloads it); "
                 "the >= 5 ms model is skipped\n",
                 o.blazeface.c_str());
  }
  const fs::path root =
      fs::temp_directory_path() / ("seam_server_bench_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "repo");
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{root};
  SEAM_RETURN_IF_ERROR(WriteRepository(root / "repo", o, with_large));
  std::vector<std::string> args = {"--repo", (root / "repo").string(), "--log-level", "warn"};
  // No HTTP port: the default one (8000) may be taken, and the benchmark speaks gRPC only.
  if (ServeHasFlag(o.seam, "--http-port")) args.insert(args.end(), {"--http-port", "-1"});
  if (o.infer_threads > 0)
    args.insert(args.end(), {"--infer-threads", std::to_string(o.infer_threads)});
  const std::string log = (root / "serve.log").string();
  // The temporary directory goes at exit: a failure quotes the end of the server's log.
  auto with_log = [&log](const Status& s) {
    Result<std::string> read = ReadFile(log);
    const std::string text = read.ok() ? *read : "";
    return Status(s.code(), s.message() + "; the end of its log:\n" +
                                text.substr(text.size() > 2000 ? text.size() - 2000 : 0));
  };
  auto started = ServeChild::Start(o.seam, args, log);
  if (!started.ok()) return with_log(started.status());
  std::unique_ptr<ServeChild> server = std::move(started).value();

  const std::string models = std::string(SEAM_SOURCE_DIR) + "/models/";
  std::vector<Latency> latencies(1);
  SEAM_RETURN_IF_ERROR(MeasureLatency("tiny", models + "tiny_golden.onnx", server->address(),
                                      o.requests, o.warmup, &latencies[0]));
  latencies[0].goal = "<= 0.3 ms";
  latencies[0].met = latencies[0].overhead_ms <= kTinyGoalMs;
  if (with_large) {
    latencies.emplace_back();
    SEAM_RETURN_IF_ERROR(MeasureLatency("blazeface", o.blazeface, server->address(),
                                        o.large_requests, std::min(o.warmup, 20), &latencies[1]));
    latencies[1].goal = "<= 3% of compute";
    latencies[1].met = latencies[1].overhead_percent <= kLargeGoalPercent;
  }
  std::vector<Throughput> throughput(2);
  throughput[0].mode = "off";
  throughput[1].mode = "on";
  SEAM_RETURN_IF_ERROR(MeasureThroughput("cnn_off", models + "cnn_chain.onnx", server->address(), o,
                                         &throughput[0]));
  SEAM_RETURN_IF_ERROR(
      MeasureThroughput("cnn_on", models + "cnn_chain.onnx", server->address(), o, &throughput[1]));
  const int exit_code = server->Stop();
  if (exit_code != 0)
    return with_log(Internal("seam serve exited with " + std::to_string(exit_code)));
  BatchScaling scaling;
  SEAM_RETURN_IF_ERROR(MeasureScaling(models + "cnn_chain.onnx", o.max_batch, &scaling));
  const double ratio = throughput[0].requests_per_s > 0
                           ? throughput[1].requests_per_s / throughput[0].requests_per_s
                           : 0;

  std::printf(
      "server_bench: seam serve over loopback gRPC vs ONNX Runtime in process, same run "
      "(%u hardware threads)\n\n",
      std::thread::hardware_concurrency());
  std::printf(
      "latency, batch 1   samples  in-process p50  served p50  served p99   overhead"
      "            goal              \n");
  for (const Latency& l : latencies) {
    std::printf("  %-16s %7d  %11.3f ms %8.3f ms %8.3f ms %8.3f ms %6.1f%%  %-17s %s\n",
                l.model.c_str(), l.samples, l.in_process_p50_ms, l.served_p50_ms, l.served_p99_ms,
                l.overhead_ms, l.overhead_percent, l.goal.c_str(), l.met ? "met" : "NOT met");
  }
  std::printf("\nthroughput, cnn_chain, %d clients, batch-1 requests, %d instance(s)\n", o.clients,
              o.instances);
  std::printf("  batching   requests/s   p50 ms   p99 ms  requests  wrong  failed\n");
  for (const Throughput& t : throughput) {
    std::printf("  %-8s %12.0f %8.3f %8.3f %9lld %6lld %7lld\n", t.mode.c_str(), t.requests_per_s,
                t.p50_ms, t.p99_ms, static_cast<long long>(t.requests),
                static_cast<long long>(t.wrong), static_cast<long long>(t.failed));
  }
  std::printf("  on / off: %.2fx (goal >= %.0fx: %s)\n", ratio, kThroughputGoal,
              ratio >= kThroughputGoal ? "met" : "NOT met");
  std::printf(
      "  in process, one thread: %.1f us per row alone, %.1f us per row in batches of %d"
      " (compute saved by batching: %.0f%%)\n",
      scaling.batch1_us_per_row, scaling.batched_us_per_row, o.max_batch,
      100 * (1 - scaling.batched_us_per_row / scaling.batch1_us_per_row));
  if (!o.json_path.empty()) {
    SEAM_RETURN_IF_ERROR(WriteJson(o, latencies, throughput, scaling, ratio));
  }
  for (const Throughput& t : throughput) *wrong = *wrong || t.wrong > 0 || t.failed > 0;
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  CLI::App app{"seam serve over loopback gRPC vs ONNX Runtime in process: overhead and batching"};
  app.add_option("--seam", o.seam, "the seam executable")->capture_default_str();
  app.add_option("--blazeface", o.blazeface, "the >= 5 ms model (skipped if absent)")
      ->capture_default_str();
  app.add_option("--requests", o.requests, "latency samples per side, tiny model")
      ->capture_default_str();
  app.add_option("--large-requests", o.large_requests, "latency samples per side, large model")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "unmeasured requests per side first")->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent clients for throughput")
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "throughput measurement per mode, s")
      ->capture_default_str();
  app.add_option("--max-batch", o.max_batch, "max_batch_size of the batching model")
      ->capture_default_str();
  app.add_option("--delay-us", o.delay_us, "max_queue_delay_us of the batching model")
      ->capture_default_str();
  app.add_option("--instances", o.instances, "instance_count of cnn_off and cnn_on")
      ->capture_default_str();
  app.add_option("--infer-threads", o.infer_threads, "seam serve --infer-threads (0: default)")
      ->capture_default_str();
  app.add_option("--json", o.json_path, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  bool wrong = false;
  const seam::Status status = seam::bench::Run(o, &wrong);
  if (!status.ok()) {
    std::fprintf(stderr, "server_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  if (wrong) {
    std::fprintf(stderr, "server_bench: some requests failed or were answered wrongly\n");
    return 1;
  }
  return 0;
}
