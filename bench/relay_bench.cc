// relay_bench: what a tier that only relays adds to a request, per MB, with and without
// pass-through of coded tensors, all in one process and one run.
//
//   direct        device -> cloud                       (the baseline every figure subtracts)
//   re-encoding   device -> edge -> cloud, the edge decodes each coded tensor and encodes it
//                 again, up and down (StageOptions::pass_through = false: seam before it)
//   pass-through  device -> edge -> cloud, the edge forwards the coded bytes untouched
//
// The device is a HopClient (seam's own hop); the edge is a seam server (server::Server) serving
// a relay stage (platform seam_stage, no segment); the cloud is an OIP server that answers output
// 'y' with the bytes of input 'x' as they came (no model), so the figures hold only the links'
// protocol work and the relay. The tensor: FP32 [1, N] of --mib MiB, activation-like (half zeros,
// the rest half-normal), sent as --codec both ways. Median of --requests round trips per case,
// on 127.0.0.1. Prints ms per MB (of FP32 tensor) that the edge adds, and the ratio re-encoding /
// pass-through. Exit status: 0 unless a step fails.
#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "common/file_util.h"
#include "oip/hop_client.h"
#include "oip/infer_codec.h"
#include "pipeline/stage_backend.h"
#include "pipeline/stage_spec.h"
#include "server/server.h"
#include "transport/payload.h"

namespace seam::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<double> mib = {1, 4};
  int requests = 30;
  int warmup = 3;
  std::string codec = "fp16+zstd";
  std::string json_path;
};

// The cloud: answers 'y' = the bytes of 'x', in x's codec.
class EchoService final : public inference::GRPCInferenceService::Service {
  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest*,
                          inference::ModelReadyResponse* response) override {
    response->set_ready(true);
    return grpc::Status::OK;
  }
  grpc::Status ModelStreamInfer(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override {
    inference::ModelInferRequest request;
    while (stream->Read(&request)) {
      inference::ModelStreamInferResponse out;
      auto* answer = out.mutable_infer_response();
      answer->set_id(request.id());
      answer->set_model_name(request.model_name());
      auto* y = answer->add_outputs();
      y->set_name("y");
      y->set_datatype(request.inputs(0).datatype());
      *y->mutable_shape() = request.inputs(0).shape();
      *y->mutable_parameters() = request.inputs(0).parameters();
      answer->add_raw_output_contents(std::move(*request.mutable_raw_input_contents(0)));
      stream->Write(out);
    }
    return grpc::Status::OK;
  }
};

Tensor Activation(int64_t elements) {
  Tensor t{DType::kFloat32, {1, elements}, {}};
  t.data.resize(elements * 4);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 1);
  for (int64_t i = 0; i < elements; ++i) {
    const float v = normal(rng);
    t.data_as<float>()[i] = v > 0 ? v : 0;
  }
  return t;
}

// REPO/relay/1/stage.json: nothing computed, x up and y down in `codec`.
Status WriteRelayStage(const std::string& repo, const std::string& cloud, int64_t elements,
                       const std::string& codec) {
  pipeline::StageTensor x{"x", DType::kFloat32, {1, elements}, codec};
  pipeline::StageTensor y{"y", DType::kFloat32, {1, elements}, codec};
  pipeline::StageSpec spec;
  spec.plan_id = "relay-bench";
  spec.model_sha256 = std::string(64, '0');
  spec.tier = "edge";
  spec.tier_index = 1;
  spec.inputs = {x};
  spec.outputs = {y};
  spec.next = pipeline::NextHop{"cloud", cloud, "echo", 1, {x}, {y}};
  std::filesystem::create_directories(repo + "/relay/1");
  SEAM_RETURN_IF_ERROR(
      WriteFileAtomic(repo + "/relay/1/stage.json", pipeline::StageToJson(spec).dump(2)));
  return WriteFileAtomic(repo + "/relay/config.json",
                         R"({"name": "relay", "platform": "seam_stage"})");
}

// Median round trip (ms) of `requests` calls of `model` through `hop`.
Result<double> MedianMs(oip::HopClient& hop, const std::string& model, const std::string& coded,
                        int64_t elements, const Options& o) {
  std::vector<double> ms;
  for (int i = 0; i < o.warmup + o.requests; ++i) {
    inference::ModelInferRequest request;
    request.set_model_name(model);
    request.set_model_version("1");
    oip::AddCodedInput("x", {DType::kFloat32, {1, elements}, o.codec, coded}, &request);
    oip::AddRequestedOutput("y", o.codec, &request);
    const auto start = Clock::now();
    auto response = hop.Infer(std::move(request));
    const double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!response.ok()) return response.status();
    if (response->raw_output_contents_size() != 1 || response->raw_output_contents(0) != coded) {
      return Internal(model + ": the answer's bytes differ from what was sent");
    }
    if (i >= o.warmup) ms.push_back(took);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Row {
  double mib = 0, coded_mib = 0, direct_ms = 0, reencode_ms = 0, pass_ms = 0;
};

Status Run(const Options& o) {
  EchoService echo;
  int cloud_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &cloud_port);
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.SetMaxSendMessageSize(256 << 20);
  builder.RegisterService(&echo);
  auto cloud = builder.BuildAndStart();
  if (!cloud) return Unavailable("could not start the echo cloud on 127.0.0.1");
  const std::string cloud_address = "127.0.0.1:" + std::to_string(cloud_port);
  oip::HopOptions hop_options{.max_message_bytes = 256 << 20};

  std::vector<Row> rows;
  for (double mib : o.mib) {
    const auto elements = static_cast<int64_t>(mib * (1 << 20) / 4);
    const Tensor tensor = Activation(elements);
    SEAM_ASSIGN_OR_RETURN(std::string coded, transport::EncodePayload(tensor, o.codec));
    Row row{.mib = mib, .coded_mib = coded.size() / double(1 << 20)};

    oip::HopClient direct("cloud", cloud_address, hop_options);
    SEAM_ASSIGN_OR_RETURN(row.direct_ms, MedianMs(direct, "echo", coded, elements, o));
    for (bool pass : {false, true}) {
      const std::string repo =
          std::filesystem::temp_directory_path() / ("seam_relay_bench_" + std::to_string(getpid()));
      std::filesystem::remove_all(repo);
      SEAM_RETURN_IF_ERROR(WriteRelayStage(repo, cloud_address, elements, o.codec));
      pipeline::StageOptions stage;
      stage.hop = hop_options;
      stage.pass_through = pass;
      pipeline::RegisterStageBackend(stage);  // read when the server loads the stage
      server::ServerOptions options{
          .repo = repo, .grpc_port = 0, .max_message_mb = 256, .http_port = -1};
      SEAM_ASSIGN_OR_RETURN(auto edge, server::Server::Start(options));
      oip::HopClient hop("edge", "127.0.0.1:" + std::to_string(edge->grpc_port()), hop_options);
      SEAM_RETURN_IF_ERROR(hop.WaitReady("relay", 1, 10000));
      SEAM_ASSIGN_OR_RETURN(double ms, MedianMs(hop, "relay", coded, elements, o));
      (pass ? row.pass_ms : row.reencode_ms) = ms;
      edge->Shutdown();
      std::filesystem::remove_all(repo);
    }
    rows.push_back(row);
  }
  cloud->Shutdown();

  std::printf(
      "relay_bench: what a relaying edge adds per MB of FP32 tensor (codec %s both ways),\n"
      "median of %d round trips on 127.0.0.1\n\n",
      o.codec.c_str(), o.requests);
  std::printf(
      "  tensor    coded   direct ms   re-encoding ms (+ms/MB)   pass-through ms (+ms/MB)"
      "   re-enc / pass\n");
  nlohmann::json cases = nlohmann::json::array();
  for (const Row& r : rows) {
    const double reencode_per_mb = (r.reencode_ms - r.direct_ms) / r.mib;
    const double pass_per_mb = (r.pass_ms - r.direct_ms) / r.mib;
    const double ratio =
        r.pass_ms > r.direct_ms ? (r.reencode_ms - r.direct_ms) / (r.pass_ms - r.direct_ms) : 0;
    std::printf(
        "  %5.1f MB  %5.2f MB  %8.2f   %9.2f (%+6.2f)          %9.2f (%+6.2f)        %5.2fx\n",
        r.mib, r.coded_mib, r.direct_ms, r.reencode_ms, reencode_per_mb, r.pass_ms, pass_per_mb,
        ratio);
    cases.push_back({{"mib", r.mib},
                     {"coded_mib", r.coded_mib},
                     {"direct_ms", r.direct_ms},
                     {"reencode_ms", r.reencode_ms},
                     {"pass_through_ms", r.pass_ms},
                     {"reencode_added_ms_per_mb", reencode_per_mb},
                     {"pass_through_added_ms_per_mb", pass_per_mb},
                     {"added_reencode_over_pass_through", ratio}});
  }
  if (!o.json_path.empty()) {
    const nlohmann::json doc = {{"benchmark", "relay_bench"},
                                {"codec", o.codec},
                                {"requests", o.requests},
                                {"cases", cases}};
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(o.json_path, doc.dump(2) + "\n"));
  }
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  CLI::App app{"relay_bench: the cost of a relaying tier, with and without pass-through"};
  app.add_option("--mib", o.mib, "tensor sizes in MiB (FP32)");
  app.add_option("--requests", o.requests, "measured round trips per case")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "unmeasured round trips first");
  app.add_option("--codec", o.codec, "codec of x and y on both links");
  app.add_option("--json", o.json_path, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  seam::Status s = seam::bench::Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "relay_bench: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
