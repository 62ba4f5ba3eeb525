#include "server/server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <thread>

#include "server/auth.h"
#include "server/batching_scheduler.h"
#include "server/http_service.h"
#include "server/idempotency_store.h"
#include "server/inference_service.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/tls.h"

namespace seam::server {
namespace {

Status ValidateOptions(const ServerOptions& o) {
  if (o.repo.empty()) return InvalidArgument("--repo: give the model repository directory");
  if (o.grpc_port < 0 || o.grpc_port > 65535) {
    return InvalidArgument("--grpc-port " + std::to_string(o.grpc_port) +
                           ": must be in [0, 65535]");
  }
  if (o.max_message_mb < 1 || o.max_message_mb > 2047) {
    return InvalidArgument("--max-message-mb " + std::to_string(o.max_message_mb) +
                           ": must be in [1, 2047]");
  }
  if (o.repo_poll_s < 0) return InvalidArgument("--repo-poll-s: must be >= 0");
  if (o.infer_threads < 0 || o.infer_threads > 1024) {
    return InvalidArgument("--infer-threads: must be in [0, 1024]");
  }
  if (o.max_queue < 1) return InvalidArgument("--max-queue: must be >= 1");
  if (o.max_request_memory_mb != 0 &&
      (o.max_request_memory_mb < o.max_message_mb || o.max_request_memory_mb > (1 << 22))) {
    return InvalidArgument("--max-request-memory-mb " + std::to_string(o.max_request_memory_mb) +
                           ": must be at least --max-message-mb (" +
                           std::to_string(o.max_message_mb) +
                           "), at most 4194304, or 0 for no "
                           "limit");
  }
  if (o.drain_timeout_s < 0) return InvalidArgument("--drain-timeout-s: must be >= 0");
  if (o.http_port < -1 || o.http_port > 65535) {
    return InvalidArgument("--http-port " + std::to_string(o.http_port) +
                           ": must be in [0, 65535], or -1 for no HTTP");
  }
  if (o.http_threads < 1 || o.http_threads > 1024) {
    return InvalidArgument("--http-threads: must be in [1, 1024]");
  }
  if (o.http_max_connections < o.http_threads || o.http_max_connections > 65536) {
    return InvalidArgument("--http-max-connections " + std::to_string(o.http_max_connections) +
                           ": must be in [--http-threads, 65536]");
  }
  return Status::Ok();
}

std::shared_ptr<grpc::ServerCredentials> GrpcCredentials(const TlsMaterial* tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls->mutual() ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                    : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_root_certs = tls->client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

// "host:port", with brackets for an IPv6 host.
std::string Address(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  SEAM_RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<Server> server(new Server());
  server->options_ = options;
  // Credentials first: a bad file is reported before any model is loaded.
  if (!options.tls_cert.empty() || !options.tls_key.empty() || !options.tls_client_ca.empty()) {
    SEAM_ASSIGN_OR_RETURN(
        TlsMaterial tls, LoadTlsMaterial(options.tls_cert, options.tls_key, options.tls_client_ca));
    server->tls_ = std::make_unique<TlsMaterial>(std::move(tls));
  }
  if (!options.auth_tokens.empty()) {
    SEAM_ASSIGN_OR_RETURN(TokenAuthenticator auth,
                          TokenAuthenticator::FromFile(options.auth_tokens));
    server->auth_ = std::make_unique<TokenAuthenticator>(std::move(auth));
  }
  server->metrics_ = std::make_unique<ServerMetrics>();
  SEAM_ASSIGN_OR_RETURN(server->idempotency_,
                        IdempotencyStore::Open(options.idempotency_db,
                                               {.max_entries = options.idempotency_max_entries}));
  const int threads = options.infer_threads > 0
                          ? options.infer_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // The scheduler comes first: the repository tells it which versions it stops routing to, so
  // that their batchers drain and go.
  auto scheduler = std::make_unique<BatchingScheduler>(
      BatchingSchedulerOptions{.threads = threads,
                               .max_queue = static_cast<size_t>(options.max_queue),
                               .observer = server->metrics_.get()});
  server->repository_ = std::make_unique<ModelRepository>(
      options.repo,
      [s = scheduler.get()](std::shared_ptr<const ModelVersion> retired) { s->Retire(retired); },
      options.model_keys,
      [m = server->metrics_.get()](const std::string& model, int64_t version, const Status& error) {
        m->VersionRefused(model, version, StatusCodeName(error.code()));
      });
  server->scheduler_ = std::move(scheduler);
  SEAM_RETURN_IF_ERROR(server->repository_->Refresh());

  server->budget_ = std::make_unique<MemoryBudget>(
      static_cast<uint64_t>(options.max_request_memory_mb) * 1024 * 1024);
  server->handler_ = std::make_unique<InferHandler>(
      *server->repository_, *server->scheduler_, server->metrics_.get(), server->idempotency_.get(),
      server->budget_.get());
  server->service_ = std::make_unique<InferenceService>(*server->repository_, *server->handler_,
                                                        server->gate_, server->auth_.get());

  grpc::ServerBuilder builder;
  const int max_bytes = options.max_message_mb * 1024 * 1024;
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  // Tiers forwarding to this one keep their stream alive with a ping every 10 s (HopClient); the
  // default would answer pings that frequent with GOAWAY "too_many_pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default on Linux: a second server on a port in use would start and
  // share its traffic. A port in use is an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(Address(options.host, options.grpc_port),
                           GrpcCredentials(server->tls_.get()), &server->grpc_port_);
  builder.RegisterService(server->service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || server->grpc_port_ == 0) {
    server->grpc_server_.reset();
    return Unavailable("cannot listen on " + Address(options.host, options.grpc_port) +
                       " (address in use, or not an address of this host)");
  }
  if (options.http_port >= 0) {
    HttpServiceOptions http{.host = options.host,
                            .port = options.http_port,
                            .threads = options.http_threads,
                            .max_connections = options.http_max_connections,
                            .budget = server->budget_.get(),
                            .max_body_bytes = static_cast<size_t>(max_bytes),
                            .tls = server->tls_.get(),
                            .auth = server->auth_.get()};
    SEAM_ASSIGN_OR_RETURN(server->http_,
                          HttpService::Start(http, *server->repository_, *server->handler_,
                                             server->gate_, *server->metrics_));
  }
  const char* tls = !server->tls_ ? "off" : server->tls_->mutual() ? "mutual" : "on";
  spdlog::info(
      "event=server_started grpc={} http={} tls={} auth_tokens={} repo={} infer_threads={} "
      "max_message_mb={}",
      Address(options.host, server->grpc_port_),
      server->http_ ? Address(options.host, server->http_->port()) : "off", tls,
      server->auth_ ? server->auth_->token_count() : 0, LogValue(options.repo), threads,
      options.max_message_mb);
  if (options.repo_poll_s > 0) {
    server->poll_thread_ =
        std::thread([s = server.get(), p = options.repo_poll_s] { s->PollLoop(p); });
  }
  return server;
}

Server::~Server() { Shutdown(); }

int Server::http_port() const { return http_ ? http_->port() : -1; }

void Server::PollLoop(int period_s) {
  std::unique_lock lock(poll_mu_);
  while (
      !poll_cv_.wait_for(lock, std::chrono::seconds(period_s), [this] { return stop_polling_; })) {
    lock.unlock();
    if (Status s = repository_->Refresh(); !s.ok()) {
      spdlog::error("event=repository_poll_failed error={}", LogValue(s.message()));
    }
    lock.lock();
  }
}

void Server::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (!grpc_server_) return;  // Start failed: nothing was served
    gate_.Close();
    {
      std::lock_guard lock(poll_mu_);
      stop_polling_ = true;
    }
    poll_cv_.notify_all();
    if (poll_thread_.joinable()) poll_thread_.join();
    const auto start = std::chrono::steady_clock::now();
    spdlog::info("event=server_draining in_flight={} timeout_s={}", gate_.in_flight(),
                 options_.drain_timeout_s);
    const bool idle = gate_.WaitIdle(start + std::chrono::seconds(options_.drain_timeout_s));
    if (!idle) {
      spdlog::warn("event=drain_timeout cancelled={}", gate_.in_flight());
    }
    // Every admitted call is done (or out of time): no grace left to give.
    grpc_server_->Shutdown(std::chrono::system_clock::now());
    scheduler_->Drain();
    // After the drain: an HTTP request past the gate waits for its job, which is now answered.
    if (http_) http_->Stop();
    grpc_server_.reset();
    service_.reset();  // joins the control thread
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    spdlog::info("event=server_stopped drain_ms={}", ms);
  });
}

}  // namespace seam::server
