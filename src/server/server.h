// Server: `seam serve` as a library. Wires the model repository, the scheduler, the inference
// handler, the metrics, and the two front ends (gRPC service, HTTP/REST service), and owns the
// lifecycle: Start loads the repository and binds; Shutdown drains (no new calls, every call in
// flight answered) and stops.
//
// Threads: gRPC's callback threads (decode, validate, encode); the HTTP accept thread and its
// connection threads (each waits for its inference); the scheduler's workers (run models); the
// service's control thread (repository load/unload requests); an optional polling thread
// (--repo-poll-s). The caller's thread only starts and stops.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/model_seal.h"
#include "common/status.h"
#include "server/drain_gate.h"
#include "server/memory_budget.h"

namespace grpc {
class Server;
}

namespace seam::server {

class ModelRepository;
class InferenceScheduler;
class InferHandler;
class InferenceService;
class HttpService;
class ServerMetrics;
class IdempotencyStore;
class TokenAuthenticator;
struct TlsMaterial;

// The flags of `seam serve`, with their defaults (the one table: src/cli/serve_command.cc binds
// each field to its flag).
struct ServerOptions {
  std::string repo;                // model repository directory (required)
  std::string host = "127.0.0.1";  // address to bind; 0.0.0.0 or :: to serve other hosts
  int grpc_port = 8001;            // 0: the system picks a free port (see Server::grpc_port)
  int max_message_mb = 64;         // largest gRPC message received or sent (MiB)
  int repo_poll_s = 0;             // rescan the repository every N seconds; 0: only on request
  int infer_threads = 0;           // scheduler workers; 0: the number of CPU cores
  int max_queue = 1024;            // requests waiting for a worker before UNAVAILABLE
  // Bytes of requests held at once, accepted and not yet answered (server/memory_budget.h);
  // past it, RESOURCE_EXHAUSTED. 0: no limit.
  int max_request_memory_mb = 512;
  int drain_timeout_s = 30;        // longest wait for calls in flight at shutdown (s)
  int http_port = 8000;            // HTTP/REST and /metrics; 0: a free port; -1: no HTTP
  int http_threads = 16;           // HTTP connection threads kept waiting for connections
  int http_max_connections = 512;  // HTTP connections served at once (a thread each)
  std::string tls_cert;            // PEM certificate chain; with tls_key: TLS on both ports
  std::string tls_key;             // PEM private key (unencrypted)
  std::string tls_client_ca;       // PEM CA(s): clients must present a certificate it signed
  std::string auth_tokens;         // file of bearer tokens, one per line; "": no authentication
  // Keys that decrypt sealed model files (common/model_seal.h): a sealed file whose key is not
  // among them fails to load, saying which key id it needs. Null: none.
  std::shared_ptr<const ModelKeys> model_keys;
  // Answers to requests with an idempotency key, kept so that a repeat is not run again
  // (server/idempotency_store.h): a SQLite file that survives restarts; "": in memory.
  std::string idempotency_db;
  int64_t idempotency_max_entries = 1000000;
};

class Server {
 public:
  // Loads the repository (a model that fails to load is reported and left unavailable; the
  // server still starts) and starts serving. Fails on invalid options, an unreadable repository,
  // or an address it cannot bind.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);
  // Shuts down if Shutdown was not called.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound gRPC port (the chosen one when options.grpc_port was 0).
  int grpc_port() const { return grpc_port_; }
  // The bound HTTP port, or -1 when HTTP is off (options.http_port == -1).
  int http_port() const;

  // Closes the drain gate (ServerReady turns false, new calls get UNAVAILABLE), stops polling,
  // waits up to drain_timeout_s for the calls in flight to be answered, then shuts gRPC down
  // (cancelling what is left), finishes every job the scheduler accepted, and stops. Idempotent.
  void Shutdown();

 private:
  Server() = default;
  void PollLoop(int period_s);

  ServerOptions options_;
  int grpc_port_ = 0;
  DrainGate gate_;
  std::unique_ptr<TlsMaterial> tls_;               // null: plaintext
  std::unique_ptr<TokenAuthenticator> auth_;       // null: no authentication
  std::unique_ptr<ServerMetrics> metrics_;         // outlives the scheduler that reports to it
  std::unique_ptr<IdempotencyStore> idempotency_;  // outlives the jobs that store answers
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<InferenceScheduler> scheduler_;
  std::unique_ptr<MemoryBudget> budget_;  // before the handler and front ends that use it
  std::unique_ptr<InferHandler> handler_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<HttpService> http_;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stop_polling_ = false;  // guarded by poll_mu_
  std::thread poll_thread_;
  std::once_flag shutdown_once_;
};

}  // namespace seam::server
