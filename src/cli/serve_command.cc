// `seam serve --repo DIR`: the inference server of the edge and cloud tiers (docs/server.md).
//
// Signals: SIGTERM and SIGINT are blocked in every thread (they are blocked here, before any
// thread exists, and threads inherit the mask) and taken synchronously by sigwait on this thread,
// which then drains the server and exits 0. No signal handler runs inside gRPC or ORT code.
#include <signal.h>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/cpu_limit.h"
#include "common/allocator.h"
#include "pipeline/stage_backend.h"
#include "repository/model_config.h"
#include "server/backend.h"
#include "server/log.h"
#include "server/server.h"

namespace seam::cli {
namespace {

struct ServeCommandOptions {
  server::ServerOptions server;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  double cpu_quota = 0;                 // cores; 0 = unlimited
  std::string trusted_keys;             // a source of PEM public keys: stages must be signed by one
  std::vector<std::string> model_keys;  // sources of the keys that open sealed models
};

int RunServe(const ServeCommandOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A reader of stdout that went away must not kill the server.
  signal(SIGPIPE, SIG_IGN);

  if (Status s = server::InitLogging(options.log_level, options.log_format); !s.ok())
    return ReportError(s);
  RetainLargeAllocations(static_cast<size_t>(options.server.max_message_mb) << 20);
  // A tier with less CPU than this host (an edge box), emulated with a cgroup quota.
  auto quota = LimitCpu(options.cpu_quota);
  if (!quota.ok()) return ReportError(quota.status());
  // The server runs ONNX Runtime models itself; the pipeline's stages plug in as a backend.
  pipeline::StageOptions stages;
  if (!options.model_keys.empty()) {
    auto keys = ModelKeys::Load(options.model_keys, "--model-key");
    if (!keys.ok()) return ReportError(keys.status());
    stages.model_keys = std::make_shared<const ModelKeys>(std::move(keys).value());
  }
  server::ServerOptions server_options = options.server;
  server_options.model_keys = stages.model_keys;
  if (!options.trusted_keys.empty()) {
    auto keys = pipeline::TrustedKeys::Load(options.trusted_keys);
    if (!keys.ok()) return ReportError(keys.status());
    stages.trusted_keys = std::move(keys).value();
    // Whoever can write the repository could otherwise turn a signed stage into a plain model
    // (a config naming onnxruntime_onnx, or none) and serve its model.onnx unchecked.
    server::RegisterBackend(
        repository::kOnnxPlatform,
        [source = options.trusted_keys](
            const server::VersionFile& file,
            const repository::ModelConfig&) -> Result<std::unique_ptr<server::Backend>> {
          return FailedPrecondition(file.path +
                                    ": a plain ONNX Runtime model, and this server loads only "
                                    "stages signed by a trusted key (--trusted-keys " +
                                    source + "); deploy it as a signed stage");
        });
  }
  pipeline::RegisterStageBackend(stages);
  auto started = server::Server::Start(server_options);
  if (!started.ok()) return ReportError(started.status());
  std::unique_ptr<server::Server> serving = std::move(started).value();
  const std::string& host = options.server.host;
  const bool ipv6 = host.find(':') != std::string::npos;
  // The lines on stdout (gRPC first, then HTTP unless it is off): tests and scripts read the ports
  // from them.
  std::printf("grpc listening on %s%s%s:%d\n", ipv6 ? "[" : "", host.c_str(), ipv6 ? "]" : "",
              serving->grpc_port());
  if (serving->http_port() >= 0) {
    std::printf("http listening on %s%s%s:%d\n", ipv6 ? "[" : "", host.c_str(), ipv6 ? "]" : "",
                serving->http_port());
  }
  std::fflush(stdout);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  spdlog::info("event=signal signal={}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  serving->Shutdown();
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeCommandOptions>();
  server::ServerOptions& s = o->server;
  auto* cmd = app.add_subcommand(
      "serve",
      "serve the models of a repository over the Open Inference Protocol (gRPC and HTTP/REST)");
  cmd->add_option("--repo", s.repo, "model repository: REPO/MODEL/VERSION/model.onnx")->required();
  cmd->add_option("--host", s.host, "address to listen on")->capture_default_str();
  cmd->add_option("--grpc-port", s.grpc_port, "gRPC port; 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--max-message-mb", s.max_message_mb,
                  "largest gRPC message received or sent, MiB")
      ->capture_default_str();
  cmd->add_option("--cpu-quota", o->cpu_quota,
                  "limit this server to this many cores (cgroup), to emulate a weaker tier");
  cmd->add_option("--repo-poll-s", s.repo_poll_s,
                  "rescan the repository every S seconds; 0: only on RepositoryModelLoad")
      ->capture_default_str();
  cmd->add_option("--infer-threads", s.infer_threads,
                  "threads running inferences; 0: one per CPU core")
      ->capture_default_str();
  cmd->add_option("--max-queue", s.max_queue,
                  "requests waiting for a thread before new ones get UNAVAILABLE")
      ->capture_default_str();
  cmd->add_option("--max-request-memory-mb", s.max_request_memory_mb,
                  "bytes of requests held at once (accepted, not yet answered; a JSON body counts "
                  "16x while parsed): past it, RESOURCE_EXHAUSTED / HTTP 429; 0: no limit")
      ->capture_default_str();
  cmd->add_option("--drain-timeout-s", s.drain_timeout_s,
                  "on SIGTERM, longest wait for requests in flight, s")
      ->capture_default_str();
  cmd->add_option("--http-port", s.http_port,
                  "HTTP/REST and /metrics port; 0 picks a free one; -1: no HTTP")
      ->capture_default_str();
  cmd->add_option("--http-threads", s.http_threads,
                  "HTTP connection threads kept waiting for connections")
      ->capture_default_str();
  cmd->add_option("--http-max-connections", s.http_max_connections,
                  "HTTP connections served at once: past --http-threads busy ones, each gets a "
                  "thread of its own, so slow clients cannot starve the health probes")
      ->capture_default_str();
  cmd->add_option("--tls-cert", s.tls_cert,
                  "PEM certificate chain: TLS on both ports (with --tls-key)");
  cmd->add_option("--tls-key", s.tls_key, "PEM private key of --tls-cert (unencrypted)");
  cmd->add_option("--tls-client-ca", s.tls_client_ca,
                  "PEM CA certificate(s): require client certificates signed by it (mutual TLS)");
  cmd->add_option("--trusted-keys", o->trusted_keys,
                  "PEM public key(s) (file:PATH or env:NAME): load only stages signed by one "
                  "(seam deploy --sign)");
  cmd->add_option("--model-key", o->model_keys,
                  "a key that opens encrypted (sealed) models and stages (file:PATH or env:NAME, "
                  "32 bytes raw or as 64 hex digits; seam keygen writes one); repeat for several")
      ->type_name("SRC");
  cmd->add_option("--auth-tokens", s.auth_tokens,
                  "file of bearer tokens, one per line ('#' comments): require "
                  "'authorization: Bearer <token>' (health probes stay open)");
  cmd->add_option("--idempotency-db", s.idempotency_db,
                  "SQLite file of the answers to requests with an idempotency key, so that a "
                  "repeat is answered without running, also after a restart (default: in memory)");
  cmd->add_option("--idempotency-max-entries", s.idempotency_max_entries,
                  "answers kept for repeats; the oldest are forgotten beyond it")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--log-format", o->log_format,
                  "logfmt (key=value) or json (one object per line) on stderr")
      ->capture_default_str();
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = RunServe(*o); });
}

}  // namespace seam::cli
