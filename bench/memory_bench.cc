// memory_bench: what a burst of large requests costs `seam serve` in memory, with no byte limit
// and with --max-request-memory-mb, in the same run. Each round starts a server on a Relu model
// whose input can be any size, sends --clients concurrent requests of --mb MB each (every client
// on its own connection, all at once), and reads the server's peak resident memory (VmHWM) minus
// what it held before the burst. Figures: the peak growth per mode, limited / unlimited, and how
// many requests each mode answered and refused (RESOURCE_EXHAUSTED). The server must answer every
// request one way or the other and stay up; an answer that is not Relu of its input is an error.
// Goal: with the limit, the growth stays under the limit plus what the budget does not count:
// gRPC's copies of the messages arriving before the server can refuse them (each received, then
// parsed: 2 x --clients x --mb) and of the answers it serializes after they left the budget
// (answered x --mb).
#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "serve_child.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using Stub = inference::GRPCInferenceService::Stub;

struct Options {
  std::string seam = SEAM_BINARY;
  int clients = 8;
  double mb = 59;
  int limit_mb = 256;
  int rounds = 2;
  std::string json_path;
};

// GCC 12 reports a false -Wrestrict in protobuf's inlined string setters here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
std::string ReluModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("relu");
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type("Relu");
  node->add_input("x");
  node->add_output("y");
  graph->add_input()->set_name("x");
  graph->add_output()->set_name("y");
  for (auto* value : {graph->mutable_input(0), graph->mutable_output(0)}) {
    auto* tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    tensor->mutable_shape()->add_dim()->set_dim_param("N");
    tensor->mutable_shape()->add_dim()->set_dim_param("M");
  }
  return model.SerializeAsString();
}
#pragma GCC diagnostic pop

// A field of /proc/PID/status in MB ("VmRSS", "VmHWM").
double StatusMb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  }
  return -1;
}

struct Round {
  double growth_mb = 0;
  int answered = 0, refused = 0, failed = 0;
};

Result<Round> Burst(const Options& o, const std::string& repo, int limit_mb, bool* wrong) {
  SEAM_ASSIGN_OR_RETURN(
      auto server, ServeChild::Start(o.seam,
                                     {"--repo", repo, "--http-port", "-1", "--log-level", "warn",
                                      "--max-request-memory-mb", std::to_string(limit_mb)},
                                     ""));
  const int64_t floats = static_cast<int64_t>(o.mb * 1e6 / 4);
  inference::ModelInferRequest request;
  request.set_model_name("relu");
  auto* input = request.add_inputs();
  input->set_name("x");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(floats);
  std::string bytes(static_cast<size_t>(floats) * 4, '\0');
  for (int64_t i = 0; i < floats; ++i) {
    const float v = static_cast<float>(i % 3) - 1.0f;
    std::memcpy(bytes.data() + i * 4, &v, 4);
  }
  request.add_raw_input_contents(std::move(bytes));
  std::vector<std::unique_ptr<Stub>> stubs;
  for (int c = 0; c < o.clients; ++c) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(1 << 30);
    args.SetMaxSendMessageSize(1 << 30);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection each
    stubs.push_back(inference::GRPCInferenceService::NewStub(
        grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double before = StatusMb(server->pid(), "VmRSS");
  std::vector<grpc::Status> statuses(o.clients);
  std::vector<bool> right(o.clients, true);
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
      inference::ModelInferResponse response;
      statuses[c] = stubs[c]->ModelInfer(&context, request, &response);
      if (statuses[c].ok()) {
        const std::string& y = response.raw_output_contents(0);
        float first = 0, third = 0;
        std::memcpy(&first, y.data(), 4);
        std::memcpy(&third, y.data() + 8, 4);
        right[c] = y.size() == static_cast<size_t>(floats) * 4 && first == 0.0f && third == 1.0f;
      }
    });
  }
  for (auto& t : threads) t.join();
  Round round;
  round.growth_mb = StatusMb(server->pid(), "VmHWM") - before;
  for (int c = 0; c < o.clients; ++c) {
    if (statuses[c].ok()) {
      ++round.answered;
      if (!right[c]) *wrong = true;
    } else if (statuses[c].error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               statuses[c].error_message().find("--max-request-memory-mb") != std::string::npos) {
      ++round.refused;  // by the budget (not gRPC's own limits)
    } else {
      ++round.failed;
      std::fprintf(stderr, "memory_bench: a request failed: %s\n",
                   statuses[c].error_message().c_str());
      *wrong = true;
    }
  }
  if (server->Stop() != 0) return Internal("the server did not exit cleanly after the burst");
  return round;
}

Status Run(const Options& o, bool* wrong) {
  const fs::path repo =
      fs::temp_directory_path() / ("seam_memory_bench_" + std::to_string(getpid()));
  fs::create_directories(repo / "relu" / "1");
  std::ofstream(repo / "relu" / "1" / "model.onnx", std::ios::binary) << ReluModel();
  std::printf(
      "memory_bench: %d clients x %.0f MB at once to a Relu model, peak RSS growth "
      "(VmHWM - RSS before)\n",
      o.clients, o.mb);
  std::printf("round  limit MB  growth MB  answered  refused\n");
  nlohmann::json rounds = nlohmann::json::array();
  double unlimited = 0, limited = 0, limited_answered = 0;
  for (int r = 0; r < o.rounds; ++r) {
    for (const int limit : {0, o.limit_mb}) {
      SEAM_ASSIGN_OR_RETURN(Round round, Burst(o, repo.string(), limit, wrong));
      std::printf("%5d  %8d  %9.0f  %8d  %7d\n", r, limit, round.growth_mb, round.answered,
                  round.refused);
      (limit == 0 ? unlimited : limited) += round.growth_mb / o.rounds;
      if (limit != 0) limited_answered += static_cast<double>(round.answered) / o.rounds;
      rounds.push_back({{"round", r},
                        {"limit_mb", limit},
                        {"growth_mb", round.growth_mb},
                        {"answered", round.answered},
                        {"refused", round.refused},
                        {"failed", round.failed}});
    }
  }
  fs::remove_all(repo);
  const double bound = o.limit_mb + 2 * o.clients * o.mb + limited_answered * o.mb;
  std::printf(
      "mean growth: %.0f MB unlimited, %.0f MB with --max-request-memory-mb %d: "
      "limited / unlimited %.2f; goal: under %.0f MB (limit + 2 x messages arriving + answers "
      "sent): %s\n",
      unlimited, limited, o.limit_mb, limited / unlimited, bound,
      limited <= bound ? "met" : "MISSED");
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << nlohmann::json({{"clients", o.clients},
                                                  {"mb", o.mb},
                                                  {"limit_mb", o.limit_mb},
                                                  {"unlimited_growth_mb", unlimited},
                                                  {"limited_growth_mb", limited},
                                                  {"ratio", limited / unlimited},
                                                  {"rounds", rounds}})
                                      .dump(2);
  }
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  CLI::App app{"seam serve's memory under a burst of large requests, with and without a limit"};
  app.add_option("--seam", o.seam, "the seam executable")->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent requests")->capture_default_str();
  app.add_option("--mb", o.mb, "MB per request")->capture_default_str();
  app.add_option("--limit-mb", o.limit_mb, "--max-request-memory-mb of the limited server")
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds of both modes")->capture_default_str();
  app.add_option("--json", o.json_path, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  bool wrong = false;
  const seam::Status status = seam::bench::Run(o, &wrong);
  if (!status.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return wrong ? 1 : 0;
}
