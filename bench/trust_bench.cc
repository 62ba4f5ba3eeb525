// trust_bench: what trust costs, each figure a ratio to its baseline measured in the same run.
//
//   1. Opening a model (read, sha256 check, ONNX Runtime session from the bytes): sealed with
//      AES-256-GCM (decrypted in memory) against plain. Goal: <= 1.10x on a 32 MB model.
//      Also the raw rates of unsealing and of the sha256 check, against memcpy.
//   2. A hop over gRPC on loopback, sequential ModelInfer calls of the bundled cnn_chain to a
//      `seam serve` child: TLS against plaintext, then mutual TLS with a bearer token against
//      plaintext. Certificates are made with the openssl command (that part is skipped, saying
//      so, when it is not installed). Goal: TLS <= 1.10x the plaintext latency per request.
//
// It reports missed goals; it does not fail on them.
#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_models.h"
#include "common/file_util.h"
#include "common/model_seal.h"
#include "oip/channel.h"
#include "oip/hop_security.h"
#include "oip/infer_codec.h"
#include "runtime/session.h"
#include "serve_child.h"

namespace seam::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string seam = SEAM_BINARY;
  std::string models_dir = SEAM_SOURCE_DIR "/models";
  int load_reps = 5;
  int requests = 300;
  int warmup = 30;
  int mlp_width = 1024;
  int mlp_layers = 8;
  std::string json_path;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// Median time to open `path` as a server does: read, check, unseal, session from the bytes.
Result<double> OpenMs(const std::string& path, const std::string& sha256, const ModelKeys& keys,
                      int reps) {
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadModelBytes(path, sha256, "bench", keys));
    SEAM_ASSIGN_OR_RETURN(auto session, runtime::Session::OpenBytes(bytes, path, {}));
    Wipe(bytes);
    times.push_back(Ms(Clock::now() - start));
  }
  return Median(times);
}

// MB/s of `work` over `bytes` bytes, median of `reps`.
template <typename Work>
double Rate(size_t bytes, int reps, Work work) {
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    work();
    times.push_back(Ms(Clock::now() - start));
  }
  return static_cast<double>(bytes) / 1e6 / (Median(times) / 1e3);
}

struct LoadFigures {
  std::string model;
  double mb = 0, plain_ms = 0, sealed_ms = 0;
};

Result<LoadFigures> MeasureLoad(const std::string& name, const std::string& plain_path,
                                const std::string& dir, const ModelKey& key, int reps) {
  SEAM_ASSIGN_OR_RETURN(std::string plain, ReadFile(plain_path));
  SEAM_ASSIGN_OR_RETURN(std::string sealed, Seal(plain, key));
  const std::string sealed_path = dir + "/" + name + ".sealed";
  SEAM_RETURN_IF_ERROR(WriteFileAtomic(sealed_path, sealed));
  ModelKeys keys;
  keys.Add(key);
  LoadFigures f;
  f.model = name;
  f.mb = static_cast<double>(plain.size()) / 1e6;
  // One open of each first, untimed: ONNX Runtime's first session in a process pays for its own
  // start-up. Then interleaved, so that drift on a shared machine falls on both alike.
  SEAM_RETURN_IF_ERROR(OpenMs(plain_path, Sha256Hex(plain), ModelKeys(), 1).status());
  SEAM_RETURN_IF_ERROR(OpenMs(sealed_path, Sha256Hex(sealed), keys, 1).status());
  std::vector<double> plain_ms, sealed_ms;
  for (int i = 0; i < reps; ++i) {
    SEAM_ASSIGN_OR_RETURN(double p, OpenMs(plain_path, Sha256Hex(plain), ModelKeys(), 1));
    SEAM_ASSIGN_OR_RETURN(double s, OpenMs(sealed_path, Sha256Hex(sealed), keys, 1));
    plain_ms.push_back(p);
    sealed_ms.push_back(s);
  }
  f.plain_ms = Median(plain_ms);
  f.sealed_ms = Median(sealed_ms);
  return f;
}

bool Run(const std::string& command) { return std::system(command.c_str()) == 0; }

// A CA and a server certificate for 127.0.0.1, and a client certificate, made with openssl.
bool MakeCertificates(const std::string& dir) {
  const std::string q = " 2>/dev/null >/dev/null";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  return Run("openssl req -x509" + ec + " -keyout " + dir + "/ca.key -out " + dir +
             "/ca.pem -days 1 -subj /CN=bench-ca" + q) &&
         Run("openssl req" + ec + " -keyout " + dir + "/server.key -out " + dir +
             "/server.csr -subj /CN=127.0.0.1" + q) &&
         Run("printf 'subjectAltName=IP:127.0.0.1\\n' > " + dir + "/san.ext") &&
         Run("openssl x509 -req -in " + dir + "/server.csr -CA " + dir + "/ca.pem -CAkey " + dir +
             "/ca.key -CAcreateserial -days 1 -extfile " + dir + "/san.ext -out " + dir +
             "/server.pem" + q) &&
         Run("openssl req" + ec + " -keyout " + dir + "/client.key -out " + dir +
             "/client.csr -subj /CN=bench-client" + q) &&
         Run("openssl x509 -req -in " + dir + "/client.csr -CA " + dir + "/ca.pem -CAkey " + dir +
             "/ca.key -CAcreateserial -days 1 -out " + dir + "/client.pem" + q);
}

struct HopFigures {
  std::string mode;
  double median_ms = 0, p90_ms = 0;
};

// Sequential ModelInfer calls on one channel; per-request latency after warm-up.
Result<HopFigures> MeasureHop(const std::string& mode, const std::string& address,
                              const oip::HopSecurity& security,
                              const inference::ModelInferRequest& request, const Options& o) {
  SEAM_ASSIGN_OR_RETURN(oip::HopCredentials creds, oip::LoadHopCredentials(security, mode));
  oip::ChannelOptions channel_options;
  if (creds.tls) channel_options.credentials = creds.channel;
  channel_options.server_name = creds.server_name;
  auto stub = inference::GRPCInferenceService::NewStub(oip::OpenChannel(address, channel_options));
  std::vector<double> times;
  for (int i = 0; i < o.warmup + o.requests; ++i) {
    grpc::ClientContext context;
    if (!creds.authorization.empty()) context.AddMetadata("authorization", creds.authorization);
    inference::ModelInferResponse response;
    const auto start = Clock::now();
    const grpc::Status status = stub->ModelInfer(&context, request, &response);
    const double ms = Ms(Clock::now() - start);
    if (!status.ok()) return Internal(mode + ": ModelInfer failed: " + status.error_message());
    if (i >= o.warmup) times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  return HopFigures{mode, times[times.size() / 2], times[times.size() * 9 / 10]};
}

int Main(const Options& o) {
  char dir_template[] = "/tmp/seam-trust-bench-XXXXXX";
  if (!::mkdtemp(dir_template)) return 1;
  const std::string dir = dir_template;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  nlohmann::json out;
  bool goals_met = true;

  // 1. Opening models, plain and sealed.
  auto key = ModelKeys::FromBytes(std::string(32, '\x42'), "bench key");
  if (!key.ok()) {
    std::fprintf(stderr, "trust_bench: %s\n", key.status().ToString().c_str());
    return 1;
  }
  const std::string mlp_path = dir + "/gemm_mlp.onnx";
  {
    std::string bytes;
    MakeGemmMlp(o.mlp_width, o.mlp_layers).SerializeToString(&bytes);
    if (!WriteFileAtomic(mlp_path, bytes).ok()) return 1;
  }
  std::printf("opening a model (read, sha256, session from bytes), median of %d, plain vs sealed\n",
              o.load_reps);
  std::printf("  %-14s %9s %10s %10s %8s\n", "model", "MB", "plain ms", "sealed ms", "ratio");
  for (const auto& [name, path] : std::vector<std::pair<std::string, std::string>>{
           {"cnn_chain", o.models_dir + "/cnn_chain.onnx"}, {"gemm_mlp", mlp_path}}) {
    auto f = MeasureLoad(name, path, dir, *key, o.load_reps);
    if (!f.ok()) {
      std::fprintf(stderr, "trust_bench: %s\n", f.status().ToString().c_str());
      return 1;
    }
    const double ratio = f->sealed_ms / f->plain_ms;
    std::printf("  %-14s %9.2f %10.2f %10.2f %7.2fx\n", name.c_str(), f->mb, f->plain_ms,
                f->sealed_ms, ratio);
    out["open"][name] = {
        {"mb", f->mb}, {"plain_ms", f->plain_ms}, {"sealed_ms", f->sealed_ms}, {"ratio", ratio}};
    if (name == "gemm_mlp" && ratio > 1.10) {
      goals_met = false;
      std::printf("  goal missed: sealed/plain %.2fx > 1.10x\n", ratio);
    }
  }
  {
    auto plain = ReadFile(mlp_path);
    auto sealed = Seal(*plain, *key);
    ModelKeys keys;
    keys.Add(*key);
    std::string copy(plain->size(), '\0');
    const double memcpy_rate =
        Rate(plain->size(), 5, [&] { std::memcpy(copy.data(), plain->data(), plain->size()); });
    const double sha_rate = Rate(plain->size(), 5, [&] { (void)Sha256Hex(*sealed); });
    const double unseal_rate = Rate(plain->size(), 5, [&] { (void)Unseal(*sealed, keys, "b"); });
    std::printf(
        "  rates on %.1f MB: memcpy %.0f MB/s, sha256 %.0f MB/s (%.3fx memcpy), "
        "unseal %.0f MB/s (%.3fx memcpy)\n",
        static_cast<double>(plain->size()) / 1e6, memcpy_rate, sha_rate, sha_rate / memcpy_rate,
        unseal_rate, unseal_rate / memcpy_rate);
    out["rates_mb_s"] = {{"memcpy", memcpy_rate}, {"sha256", sha_rate}, {"unseal", unseal_rate}};
  }

  // 2. A hop: plaintext, TLS, mutual TLS with a token.
  if (std::system("openssl version >/dev/null 2>&1") != 0 || !MakeCertificates(dir)) {
    std::printf("hop: skipped (the openssl command is missing or failed)\n");
  } else {
    fs::create_directories(dir + "/repo/cnn/1");
    fs::copy_file(o.models_dir + "/cnn_chain.onnx", dir + "/repo/cnn/1/model.onnx");
    std::ofstream(dir + "/tokens") << "bench-token-0123456789\n";
    std::ofstream(dir + "/token") << "bench-token-0123456789";
    auto session = runtime::Session::Open(o.models_dir + "/cnn_chain.onnx", {});
    if (!session.ok()) return 1;
    TensorMap inputs;
    for (const auto& spec : (*session)->inputs()) {
      std::vector<int64_t> shape = spec.shape;
      for (auto& d : shape) d = d < 0 ? 1 : d;
      inputs[spec.name] =
          Tensor{spec.dtype, shape,
                 std::vector<std::byte>(ElementCount(shape) * DTypeSize(spec.dtype), std::byte{1})};
    }
    inference::ModelInferRequest request;
    request.set_model_name("cnn");
    for (const auto& [name, tensor] : inputs) {
      if (!oip::AddInput(name, tensor, "", &request).ok()) return 1;
    }
    struct Mode {
      std::string name;
      std::vector<std::string> server_args;
      oip::HopSecurity client;
    };
    const std::vector<Mode> modes = {
        {"plaintext", {}, {}},
        {"tls",
         {"--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"},
         {.ca = "file:" + dir + "/ca.pem"}},
        {"mtls+token",
         {"--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key", "--tls-client-ca",
          dir + "/ca.pem", "--auth-tokens", dir + "/tokens"},
         {.ca = "file:" + dir + "/ca.pem",
          .cert = "file:" + dir + "/client.pem",
          .key = "file:" + dir + "/client.key",
          .token = "file:" + dir + "/token"}},
    };
    std::printf("hop: %d sequential ModelInfer calls of cnn_chain on loopback\n", o.requests);
    std::printf("  %-12s %10s %10s %8s\n", "mode", "median ms", "p90 ms", "ratio");
    double base = 0;
    for (const auto& mode : modes) {
      std::vector<std::string> args = {"--repo",          dir + "/repo", "--http-port", "-1",
                                       "--infer-threads", "1",           "--log-level", "warn"};
      args.insert(args.end(), mode.server_args.begin(), mode.server_args.end());
      auto server = ServeChild::Start(o.seam, args, dir + "/serve-" + mode.name + ".log");
      if (!server.ok()) {
        std::fprintf(stderr, "trust_bench: %s\n", server.status().ToString().c_str());
        return 1;
      }
      auto f = MeasureHop(mode.name, (*server)->address(), mode.client, request, o);
      (*server)->Stop();
      if (!f.ok()) {
        std::fprintf(stderr, "trust_bench: %s\n", f.status().ToString().c_str());
        return 1;
      }
      if (base == 0) base = f->median_ms;
      const double ratio = f->median_ms / base;
      std::printf("  %-12s %10.3f %10.3f %7.2fx\n", mode.name.c_str(), f->median_ms, f->p90_ms,
                  ratio);
      out["hop"][mode.name] = {
          {"median_ms", f->median_ms}, {"p90_ms", f->p90_ms}, {"ratio", ratio}};
      if (mode.name == "tls" && ratio > 1.10) {
        goals_met = false;
        std::printf("  goal missed: TLS/plaintext %.2fx > 1.10x\n", ratio);
      }
    }
  }
  out["goals_met"] = goals_met;
  if (!o.json_path.empty()) std::ofstream(o.json_path) << out.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  CLI::App app{"trust_bench: sealed vs plain model loads, TLS vs plaintext hops (same run)"};
  app.add_option("--seam", o.seam, "the seam executable");
  app.add_option("--load-reps", o.load_reps, "opens of each model per variant");
  app.add_option("--requests", o.requests, "measured requests per hop mode");
  app.add_option("--warmup", o.warmup, "requests before measuring, per mode");
  app.add_option("--mlp-width", o.mlp_width, "width of the Gemm MLP (its size: width^2 x layers)");
  app.add_option("--mlp-layers", o.mlp_layers, "layers of the Gemm MLP");
  app.add_option("--json", o.json_path, "write the figures here");
  CLI11_PARSE(app, argc, argv);
  return seam::bench::Main(o);
}
