// ServerMetrics: the Prometheus metrics of `seam serve`, per model and version, served as text at
// GET /metrics on the HTTP port (docs/server.md lists them).
//
// Two kinds of source feed it, and together they count every inference request that named a model
// version the repository serves, whichever front end (gRPC unary, gRPC stream, HTTP) carried it:
//   - the schedulers, through the ServerObserver interface: each job they were given (success or
//     failure, queue and compute time) and each model execution (batch size);
//   - the InferHandler, for what the schedulers never see: the requests in flight, and requests
//     refused before scheduling (INVALID_ARGUMENT from validation).
// Requests for a model or version the repository does not have are not counted: their names come
// from clients, and a label per unknown name would let any client grow the metrics without bound.
//
// Units: durations are recorded in seconds (Prometheus convention), from microseconds.
// Thread safety: every method may be called from any thread at once; none blocks on I/O.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "server/server_observer.h"

namespace prometheus {
class Registry;
}

namespace seam::server {

class ServerMetrics final : public ServerObserver {
 public:
  ServerMetrics();
  ~ServerMetrics() override;
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // ServerObserver: from the schedulers.
  void OnRequest(const std::string& model, int64_t version, bool ok, int64_t queue_us,
                 int64_t compute_us) override;
  void OnBatch(const std::string& model, int64_t version, int64_t rows, int64_t requests) override;
  void OnDropped(const std::string& model, int64_t version, bool cancelled) override;

  // From the InferHandler: a request for a served version was accepted (in flight until
  // RequestAnswered), and, for one refused before scheduling, RequestRefused. They never throw:
  // metrics must not cost a request its answer.
  void RequestAccepted(const std::string& model, int64_t version) noexcept;
  void RequestAnswered(const std::string& model, int64_t version, int64_t duration_us) noexcept;
  void RequestRefused(const std::string& model, int64_t version) noexcept;
  // A keyed request answered from the idempotency store, without running (still answered:
  // RequestAnswered counts it too).
  void RequestReplayed(const std::string& model, int64_t version) noexcept;

  // From the repository: a version failed to load, or its files failed verification (`code`,
  // e.g. "DATA_LOSS"). Labels come from the repository's directory names, not from clients.
  void VersionRefused(const std::string& model, int64_t version, const std::string& code) noexcept;

  // Everything in the Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  struct Series;  // the metrics of one (model, version), created on first use
  Series& For(const std::string& model, int64_t version);

  std::shared_ptr<prometheus::Registry> registry_;
  struct Families;
  std::unique_ptr<Families> families_;
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<Series>> series_;  // guarded by mu_
};

}  // namespace seam::server
