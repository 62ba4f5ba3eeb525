// HttpService: the HTTP/REST front end of the Open Inference Protocol (cpp-httplib), and the
// Prometheus metrics at GET /metrics. Endpoints and their answers: docs/server.md.
//
// Inference requests go through the same InferHandler as gRPC (one validation and execution
// path); the JSON forms are in http_codec.h, the status mapping in http_status.h. Errors are
// {"error": message} with the HTTP status of the error's code.
//
// Threads: cpp-httplib's accept thread (owned here) and the connection threads: `threads` kept,
// and up to `max_connections` while that many connections are open (HttpConnectionPool); a
// connection thread waits for its inference to be answered (the scheduler's workers run it).
// Inference requests pass the DrainGate like gRPC calls; once it is closed they are answered 503
// and readiness says false.
//
// Security: with TLS, HTTPS only (same certificate and client-CA policy as gRPC); with tokens,
// every endpoint except GET /v2/health/live and /v2/health/ready needs
// `Authorization: Bearer <token>` and is answered 401 without it.
//
// Thread safety: Start and Stop from one thread; handlers run concurrently.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/auth.h"
#include "server/drain_gate.h"
#include "server/infer_handler.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/tls.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace seam::server {

struct HttpServiceOptions {
  std::string host = "127.0.0.1";
  int port = 8000;   // 0: the system picks one (see HttpService::port)
  int threads = 16;  // connection threads kept
  // Connections served at once: past `threads` busy ones, each gets a thread of its own, so that
  // slow clients cannot starve health probes (HttpConnectionPool).
  int max_connections = 512;
  // Held while a JSON body is parsed (kJsonMemoryFactor times its size, once read); null: not
  // bounded.
  MemoryBudget* budget = nullptr;
  size_t max_body_bytes = 64 << 20;
  const TlsMaterial* tls = nullptr;          // null: plain HTTP; else must outlive the service
  const TokenAuthenticator* auth = nullptr;  // null: no authentication; else must outlive it
};

class HttpService {
 public:
  // Binds and starts serving. Everything passed must outlive the service. UNAVAILABLE if the
  // address cannot be bound.
  static Result<std::unique_ptr<HttpService>> Start(const HttpServiceOptions& options,
                                                    ModelRepository& repository,
                                                    InferHandler& handler, DrainGate& gate,
                                                    const ServerMetrics& metrics);
  // Stop()s.
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  int port() const { return port_; }

  // Stops accepting, lets the requests in progress finish (idle keep-alive connections are closed
  // within their 5 s keep-alive timeout), and joins the threads. Idempotent.
  void Stop();

 private:
  HttpService() = default;
  void Route();
  // What parsing a JSON body takes, at most, for its size: nlohmann's tree holds 16 bytes per
  // value (a vector's spare capacity up to twice that) where the text may spend 2 ("0,").
  static constexpr int kJsonMemoryFactor = 16;
  Result<MemoryBudget::Lease> ReserveJson(uint64_t body_bytes) const;
  void Infer(const httplib::Request& req, const std::string& body, httplib::Response& res);

  HttpServiceOptions options_;
  ModelRepository* repository_ = nullptr;  // also loads and unloads by request
  InferHandler* handler_ = nullptr;
  DrainGate* gate_ = nullptr;
  const ServerMetrics* metrics_ = nullptr;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace seam::server
