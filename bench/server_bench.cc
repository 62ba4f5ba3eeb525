// server_bench: what serving costs. The same models run through `seam serve` over loopback gRPC
// and through ONNX Runtime called in process, in the same run:
//
//   overhead   p50 of a batch-1 request through the server minus p50 of the same Session::Run in
//              process (same session options as a served instance: one intra-op thread), for
//              (a) tiny_golden.onnx (goal <= 0.3 ms absolute) and (b) a model of >= 5 ms compute,
//              BlazeFace from the model cache (goal <= 8% of its compute). The two are measured in
//              alternating blocks so that drift (frequency, other load) hits both alike. Beside
//              them, "transport": the same request to a model the server does not have (gRPC's
//              round trip of the payload and the server's parse, answered NOT_FOUND at once).
//   throughput --clients (16) closed-loop clients, each on its own connection, sending batch-1
//              requests for --seconds per mode, with dynamic batching off (one request per run,
//              --infer-threads workers) and on (max_batch_size --max-batch, preferred
//              --max-batch/2 and --max-batch, --delay-us), both with --instances sessions, in
//              --rounds alternating rounds. Three models: cnn_chain.onnx (batching saves little),
//              BlazeFace made batch-dynamic (bench_models.h) and a Gemm MLP of --gemm-width where
//              batching pays. Goals: on / off >= 1.0 on every model (batching never loses), and
//              where in-process batching at --max-batch is >= 1.5x cheaper per row, the served
//              gain (on / off) >= 0.9x that in-process gain. The in-process gain is measured
//              with the server's parallelism: --instances threads, one session each, running
//              batches of 1, then of the most each instance can gather (the clients' requests
//              shared over the instances, at most --max-batch), back to back (wall time per row).
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

#include "bench/bench_models.h"
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
constexpr double kLargeGoalPercent = 8.0;
constexpr double kNeverLosesGoal = 1.0;    // on / off, every model
constexpr double kPaysThreshold = 1.5;     // in-process gain from which batching "pays"
constexpr double kShareOfBoundGoal = 0.9;  // served gain / in-process gain, where it pays

struct Options {
  std::string seam = SEAM_BINARY;
  std::string blazeface = std::string(SEAM_MODEL_CACHE) + "/blazeface.onnx";
  int requests = 2000;       // latency samples per side, tiny model
  int large_requests = 300;  // latency samples per side, large model
  int warmup = 50;
  int clients = 16;
  double seconds = 5;
  int max_batch = 16;
  int64_t delay_us = 0;  // 0: per model, its in-process batch-1 time (see BatchModel)
  int instances = 2;
  int infer_threads = 0;
  int rounds = 4;
  int gemm_width = 4096;
  int gemm_layers = 2;
  std::string json_path;
};

struct Latency {
  std::string model;
  int samples = 0;
  double in_process_p50_ms = 0, served_p50_ms = 0, served_p99_ms = 0;
  double overhead_ms = 0, overhead_percent = 0;
  // The same request to a model the server does not have: gRPC's round trip of the payload and
  // the server's parse, answered NOT_FOUND at once. What seam adds beyond this is its own.
  double transport_p50_ms = 0;
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
  std::vector<double> latencies_ms;  // of every round
};

// One model of the throughput section: its file, the in-process bound, both modes.
struct BatchModel {
  std::string name;  // served as NAME_off and NAME_on
  std::string path;
  // max_queue_delay_us of NAME_on: --delay-us, or by default about one batch-1 run, which an
  // operator would allow a request to wait for company (Triton's guide starts there too).
  int64_t delay_us = 0;
  BatchScaling scaling;
  Throughput off{.mode = "off"}, on{.mode = "on"};

  double in_process_gain() const {
    return scaling.batched_us_per_row > 0 ? scaling.batch1_us_per_row / scaling.batched_us_per_row
                                          : 0;
  }
  double ratio() const {
    return off.requests_per_s > 0 ? on.requests_per_s / off.requests_per_s : 0;
  }
  bool pays() const { return in_process_gain() >= kPaysThreshold; }
  bool met() const {
    return ratio() >= kNeverLosesGoal &&
           (!pays() || ratio() >= kShareOfBoundGoal * in_process_gain());
  }
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
  inference::ModelInferRequest nowhere = request;
  nowhere.set_model_name("__server_bench_no_such_model__");
  auto transport_once = [&]() -> Result<double> {
    inference::ModelInferResponse response;
    const auto start = Clock::now();
    const grpc::Status status = Infer(*stub, nowhere, &response);
    const double ms = Ms(Clock::now() - start);
    if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
      return Internal(name + ": a request for no model got " + status.error_message());
    }
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
  std::vector<double> served, local, transport;
  constexpr int kBlock = 25;
  while (static_cast<int>(served.size()) < samples) {
    for (int i = 0; i < kBlock; ++i) {
      SEAM_ASSIGN_OR_RETURN(double ms, served_once());
      served.push_back(ms);
    }
    for (int i = 0; i < kBlock; ++i) {
      SEAM_ASSIGN_OR_RETURN(double ms, transport_once());
      transport.push_back(ms);
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
  out->transport_p50_ms = Percentile(transport, 0.5);
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
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds / std::max(o.rounds, 1)));
  stop = true;
  for (auto& t : clients) t.join();
  // Rounds add up: requests over the time they took, percentiles over every latency.
  out->seconds += std::chrono::duration<double>(Clock::now() - begin).count();
  for (const auto& l : latencies) {
    out->latencies_ms.insert(out->latencies_ms.end(), l.begin(), l.end());
  }
  out->requests = static_cast<int64_t>(out->latencies_ms.size());
  out->requests_per_s = static_cast<double>(out->requests) / out->seconds;
  out->p50_ms = Percentile(out->latencies_ms, 0.5);
  out->p99_ms = Percentile(out->latencies_ms, 0.99);
  out->wrong += wrong.load();
  out->failed += failed.load();
  return Status::Ok();
}

// The largest batch each instance can form: the clients' requests in flight shared over the
// instances, at most max_batch_size.
int BoundBatch(const Options& o) {
  const int instances = std::max(o.instances, 1);
  return std::max(1, std::min(o.max_batch, (o.clients + instances - 1) / instances));
}

// The in-process bound of batching with the server's parallelism: `instances` threads, each
// with its own session (as served instances), run batches of 1 and of `batched` back to back
// for about 2 s each; the time per row is the wall time over the rows all threads ran.
Status MeasureScaling(const std::string& path, int batched, int instances, BatchScaling* out) {
  std::vector<std::unique_ptr<runtime::Session>> sessions;
  for (int i = 0; i < std::max(instances, 1); ++i) {
    SEAM_ASSIGN_OR_RETURN(auto session, OpenLocal(path));
    sessions.push_back(std::move(session));
  }
  for (int batch : {1, batched}) {
    TensorMap inputs;
    for (const auto& spec : sessions[0]->inputs()) {
      inputs[spec.name] = runtime::RandomTensor(spec, 3, batch);
    }
    SEAM_RETURN_IF_ERROR(sessions[0]->Run(inputs).status());  // warm up, and fail early
    std::atomic<int64_t> rows{0};
    std::atomic<bool> failed{false};
    const auto start = Clock::now();
    const auto until = start + std::chrono::seconds(2);
    std::vector<std::thread> threads;
    for (auto& session : sessions) {
      threads.emplace_back([&, s = session.get()] {
        for (int i = 0; i < 5 || Clock::now() < until; ++i) {
          if (!s->Run(inputs).ok()) failed = true;
          rows += batch;
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failed) return Internal(path + ": a run of batch " + std::to_string(batch) + " failed");
    const double us_per_row = 1000 * Ms(Clock::now() - start) / static_cast<double>(rows);
    (batch == 1 ? out->batch1_us_per_row : out->batched_us_per_row) = us_per_row;
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

// The repository: tiny, blazeface (if present), and NAME_off / NAME_on of every batch model.
Status WriteRepository(const fs::path& root, const Options& o, bool with_large,
                       const std::vector<BatchModel>& batch_models) {
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
  const int half = std::max(1, o.max_batch / 2);
  const std::string preferred = half < o.max_batch ? std::to_string(half) + ", " : "";
  for (const BatchModel& m : batch_models) {
    SEAM_RETURN_IF_ERROR(add(m.name + "_off", m.path, common + "}"));
    SEAM_RETURN_IF_ERROR(add(m.name + "_on", m.path,
                             common + R"(, "dynamic_batching": {"preferred_batch_size": [)" +
                                 preferred + std::to_string(o.max_batch) +
                                 R"(], "max_queue_delay_us": )" + std::to_string(m.delay_us) +
                                 "}}"));
  }
  return Status::Ok();
}

// The throughput models: cnn_chain, BlazeFace made batch-dynamic (when present), the Gemm MLP.
Result<std::vector<BatchModel>> MakeBatchModels(const fs::path& dir, const Options& o,
                                                bool with_large) {
  std::vector<BatchModel> models;
  models.push_back(
      {.name = "cnn_chain", .path = std::string(SEAM_SOURCE_DIR) + "/models/cnn_chain.onnx"});
  auto write = [&](const std::string& name, const onnx::ModelProto& model) -> Status {
    const std::string path = (dir / (name + ".onnx")).string();
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(path, model.SerializeAsString()));
    models.push_back({.name = name, .path = path});
    return Status::Ok();
  };
  if (with_large) {
    SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(o.blazeface));
    onnx::ModelProto blazeface;
    if (!blazeface.ParseFromString(bytes)) return DataLoss(o.blazeface + ": not an ONNX model");
    SEAM_RETURN_IF_ERROR(MakeBatchDynamic(blazeface).WithContext(o.blazeface));
    SEAM_RETURN_IF_ERROR(write("blazeface_batch", blazeface));
  }
  SEAM_RETURN_IF_ERROR(write("gemm_mlp", MakeGemmMlp(o.gemm_width, o.gemm_layers)));
  for (BatchModel& m : models) {
    m.delay_us = o.delay_us;
    if (m.delay_us > 0) continue;
    SEAM_ASSIGN_OR_RETURN(auto session, OpenLocal(m.path));
    TensorMap inputs;
    for (const auto& spec : session->inputs()) inputs[spec.name] = runtime::RandomTensor(spec, 5);
    std::vector<double> us;
    for (int i = 0; i < 5; ++i) {
      const auto start = Clock::now();
      SEAM_RETURN_IF_ERROR(session->Run(inputs).status());
      us.push_back(1000 * Ms(Clock::now() - start));
    }
    m.delay_us = std::clamp<int64_t>(static_cast<int64_t>(Percentile(us, 0.5)), 100, 50000);
  }
  return models;
}

Status WriteJson(const Options& o, const std::vector<Latency>& latencies,
                 const std::vector<BatchModel>& batch_models) {
  nlohmann::json lat = nlohmann::json::array(), thr = nlohmann::json::array();
  for (const Latency& l : latencies) {
    lat.push_back({{"model", l.model},
                   {"samples", l.samples},
                   {"in_process_p50_ms", l.in_process_p50_ms},
                   {"served_p50_ms", l.served_p50_ms},
                   {"served_p99_ms", l.served_p99_ms},
                   {"overhead_ms", l.overhead_ms},
                   {"overhead_percent", l.overhead_percent},
                   {"transport_p50_ms", l.transport_p50_ms},
                   {"goal", l.goal},
                   {"met", l.met}});
  }
  auto mode = [](const Throughput& t) {
    return nlohmann::json{{"batching", t.mode},       {"requests", t.requests},
                          {"seconds", t.seconds},     {"requests_per_s", t.requests_per_s},
                          {"p50_ms", t.p50_ms},       {"p99_ms", t.p99_ms},
                          {"wrong_answers", t.wrong}, {"failed_requests", t.failed}};
  };
  for (const BatchModel& m : batch_models) {
    thr.push_back({{"model", m.name},
                   {"in_process_us_per_row_batch1", m.scaling.batch1_us_per_row},
                   {"in_process_us_per_row_batched", m.scaling.batched_us_per_row},
                   {"in_process_gain", m.in_process_gain()},
                   {"max_queue_delay_us", m.delay_us},
                   {"modes", {mode(m.off), mode(m.on)}},
                   {"ratio_on_to_off", m.ratio()},
                   {"batching_pays", m.pays()},
                   {"met", m.met()}});
  }
  const nlohmann::json doc = {{"benchmark", "server_bench"},
                              {"latency_batch1", lat},
                              {"throughput",
                               {{"clients", o.clients},
                                {"instances", o.instances},
                                {"max_batch_size", o.max_batch},
                                {"rounds", o.rounds},
                                {"in_process_batch", BoundBatch(o)},
                                {"goal_ratio", kNeverLosesGoal},
                                {"goal_share_of_in_process_gain", kShareOfBoundGoal},
                                {"models", thr}}}};
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
  fs::create_directories(root / "models");
  SEAM_ASSIGN_OR_RETURN(std::vector<BatchModel> batch_models,
                        MakeBatchModels(root / "models", o, with_large));
  SEAM_RETURN_IF_ERROR(WriteRepository(root / "repo", o, with_large, batch_models));
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
    latencies[1].goal = "<= 8% of compute";
    latencies[1].met = latencies[1].overhead_percent <= kLargeGoalPercent;
  }
  // Off and on alternate in rounds, so that drift on this shared machine hits both alike.
  for (BatchModel& m : batch_models) {
    for (int r = 0; r < std::max(o.rounds, 1); ++r) {
      SEAM_RETURN_IF_ERROR(
          MeasureThroughput(m.name + "_off", m.path, server->address(), o, &m.off));
      SEAM_RETURN_IF_ERROR(MeasureThroughput(m.name + "_on", m.path, server->address(), o, &m.on));
    }
  }
  const int exit_code = server->Stop();
  if (exit_code != 0)
    return with_log(Internal("seam serve exited with " + std::to_string(exit_code)));
  for (BatchModel& m : batch_models) {
    SEAM_RETURN_IF_ERROR(MeasureScaling(m.path, BoundBatch(o), o.instances, &m.scaling));
  }

  std::printf(
      "server_bench: seam serve over loopback gRPC vs ONNX Runtime in process, same run "
      "(%u hardware threads)\n\n",
      std::thread::hardware_concurrency());
  std::printf(
      "latency, batch 1   samples  in-process p50  served p50  served p99   overhead"
      "            transport p50   goal              \n");
  for (const Latency& l : latencies) {
    std::printf("  %-16s %7d  %11.3f ms %8.3f ms %8.3f ms %8.3f ms %6.1f%%  %8.3f ms   %-17s %s\n",
                l.model.c_str(), l.samples, l.in_process_p50_ms, l.served_p50_ms, l.served_p99_ms,
                l.overhead_ms, l.overhead_percent, l.transport_p50_ms, l.goal.c_str(),
                l.met ? "met" : "NOT met");
  }
  std::printf("\nthroughput, %d clients, batch-1 requests, %d instance(s), %d rounds\n", o.clients,
              o.instances, o.rounds);
  std::printf(
      "  model             off req/s  on req/s  on/off   in-process gain (us/row 1 -> %d)"
      "   served/in-process   goal\n",
      BoundBatch(o));
  for (const BatchModel& m : batch_models) {
    char share[32] = "-";
    if (m.pays()) std::snprintf(share, sizeof share, "%.2f", m.ratio() / m.in_process_gain());
    std::printf(
        "  %-16s %10.0f %9.0f %6.2fx   %5.2fx (%7.1f -> %7.1f)           %-6s %s (delay %lld us)\n",
        m.name.c_str(), m.off.requests_per_s, m.on.requests_per_s, m.ratio(), m.in_process_gain(),
        m.scaling.batch1_us_per_row, m.scaling.batched_us_per_row, share,
        m.met() ? "met" : "NOT met", static_cast<long long>(m.delay_us));
  }
  std::printf(
      "  goals: on/off >= %.1fx; where batching pays (in-process gain >= %.1fx), served "
      "gain >= %.1fx of it\n",
      kNeverLosesGoal, kPaysThreshold, kShareOfBoundGoal);
  if (!o.json_path.empty()) SEAM_RETURN_IF_ERROR(WriteJson(o, latencies, batch_models));
  for (const BatchModel& m : batch_models) {
    *wrong = *wrong || m.off.wrong > 0 || m.off.failed > 0 || m.on.wrong > 0 || m.on.failed > 0;
  }
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
  app.add_option("--delay-us", o.delay_us,
                 "max_queue_delay_us of the batching models (0: each model's batch-1 time)")
      ->capture_default_str();
  app.add_option("--instances", o.instances, "instance_count of cnn_off and cnn_on")
      ->capture_default_str();
  app.add_option("--infer-threads", o.infer_threads, "seam serve --infer-threads (0: default)")
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "alternating off/on rounds per model (throughput)")
      ->capture_default_str();
  app.add_option("--gemm-width", o.gemm_width, "width of the Gemm MLP (throughput)")
      ->capture_default_str();
  app.add_option("--gemm-layers", o.gemm_layers, "layers of the Gemm MLP (throughput)")
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
