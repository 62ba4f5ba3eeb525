// seam's device client: run a model the way a deployed plan divides it. The device's segment runs
// here on ONNX Runtime, the tensors that cross to the edge travel coded as the plan says, the edge
// and the cloud run theirs, and the model's outputs come back.
//
//   std::string error;
//   auto client = seam::client::Client::Open("plan.json", {}, &error);   // after `seam deploy`
//   if (!client) { std::cerr << error << "\n"; return 1; }
//   seam::client::Tensors outputs;
//   seam::client::Trace trace;
//   if (!client->Infer({{"image", {"FP32", {1, 3, 128, 128}, bytes}}}, &outputs, &trace, &error))
//   ...
//
// This header is the whole public API: standard library types only. A Client may be used from
// several threads at once; it keeps one streaming connection to the edge.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace seam::client {

struct Tensor {
  std::string datatype;        // Open Inference Protocol name: "FP32", "INT64", "UINT8"...
  std::vector<int64_t> shape;  // row-major
  std::string data;            // little-endian element bytes

  bool operator==(const Tensor&) const = default;
};
using Tensors = std::map<std::string, Tensor>;

// An input in memory the caller owns, read in place during Infer (never kept).
struct TensorView {
  std::string datatype;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t size = 0;  // bytes
};
using TensorViews = std::map<std::string, TensorView>;

// Where the caller wants an output written: `capacity` bytes at `data`, which Infer fills and
// describes (datatype, shape, size). An output too large for its buffer fails the call, saying
// how many bytes it needs.
struct OutputBuffer {
  void* data = nullptr;
  size_t capacity = 0;
  std::string datatype;        // set by Infer
  std::vector<int64_t> shape;  // set by Infer
  size_t size = 0;             // bytes written, set by Infer
};
using OutputBuffers = std::map<std::string, OutputBuffer>;

struct InputInfo {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;  // -1 for a dynamic dimension
};

struct TierTiming {
  std::string tier;
  double compute_ms = 0, encode_ms = 0, decode_ms = 0, total_ms = 0;
  double queue_ms = 0;  // of total_ms, waiting in the tier's server behind other requests
};
struct LinkTiming {
  std::string from, to;
  uint64_t up_bytes = 0, down_bytes = 0;
  double ms = 0;  // wall time of the hop minus the time spent above it
  // Sent again on a new connection after the stream broke under it: the tier above may have run
  // the request twice.
  int retries = 0;
};
struct Trace {
  std::vector<TierTiming> tiers;  // the device first
  std::vector<LinkTiming> links;
  double total_ms = 0;
  // How the device routed this request and why: "sent: ..." (to the tiers above) or "local: ..."
  // (finished on the device), with the prediction or the failure that decided.
  std::string route;
  // With a plan set (seam plan --set): the plan that ran this request ("m1 (device 12 | edge
  // 88)") and why it was chosen (every plan's predicted latency under the current estimates).
  std::string plan;
  std::string plan_reason;
  // True when the device finished the request itself because the tiers above could not answer
  // in time (a fallback); the outputs are those of the same model, computed on the device.
  bool degraded = false;
  std::string degraded_reason;
};

// How the device dials a tier: TLS and a bearer token, as `seam serve --tls-* --auth-tokens`
// expect. Each field names where the secret is -- "file:PATH" or "env:NAME" (the CA and the
// certificate may be a bare path) -- never the secret itself; they are read when the client
// opens.
struct HopSecurity {
  std::string ca;           // verifies the tier's certificate ("system": the system's roots);
                            // "" = no TLS
  std::string cert, key;    // the device's certificate and key, for a tier requiring mutual TLS
  std::string token;        // the bearer token
  std::string server_name;  // the name in the tier's certificate, when not the host dialled
};

struct Options {
  // Overrides the address the plan's deployment recorded for the next tier ("" keeps it).
  std::string next_address;
  // By tier name: how the device dials that tier; the fields set here replace those `seam deploy
  // --hop-*` recorded in the device's stage, the others are kept. Only tiers the device dials (its
  // next tier, in any plan of a set) may be named.
  std::map<std::string, HopSecurity> security;
  // PEM public key(s), "file:PATH" or "env:NAME": when set, the device loads only a stage that one
  // of them signed (`seam deploy --sign`), and refuses an unsigned or changed one.
  std::string trusted_keys;
  // Keys that open the device's encrypted segments (`seam deploy --encrypt device=SRC`), each
  // "file:PATH" or "env:NAME" holding 32 bytes (raw or 64 hex digits).
  std::vector<std::string> model_keys;
  // How long Open waits for the next tier to serve its stage.
  double ready_timeout_ms = 10000;
  // How long one request may take end to end before it fails, when it has no deadline.
  double call_timeout_ms = 60000;
  // Every request's deadline, counted from the start of Infer: it is answered by then (from the
  // tiers above, or by the device's fallback) or fails DEADLINE_EXCEEDED, never later; the tiers
  // above get what is left of it and drop the request when it passes. 0: the plan's SLO (seam
  // plan --slo-ms) when it has one, else call_timeout_ms. Negative is an error.
  double deadline_ms = 0;
  // Let the device finish a request itself (the rest of the model, deployed beside its stage)
  // when the tiers above fail, are unreachable or are predicted too slow for the deadline. Such
  // an answer is flagged degraded in the trace.
  bool fallback = true;
  // Route each request by what the client measures (send it, or finish it on the device when
  // that is predicted faster). false: always send as the plan says, finishing on the device only
  // when the tiers above fail or cannot answer in time (fault tolerance stays).
  bool adaptive = true;
  // While requests stay on the device, the tiers above are re-measured in the background (one
  // request's copy, its answer discarded) at most this often, so that a recovered link or tier is
  // used again within about this long.
  double probe_interval_ms = 100;
  // When a copy of a request is dear (its input at least twice a light probe's payload), measure
  // the link alone first -- a few KB to a model no server has, as `seam probe` does -- and send
  // the copy only when the link as measured could make sending win. false: every probe is a
  // copy (how adapt_bench compares the two).
  bool light_probes = true;
  // For benchmarks and tests: emulate a slower, dedicated device CPU by stretching each device
  // run (its segment, its fallback) to this many times its measured time. 1: off.
  double device_slowdown = 1;
};

class Client {
 public:
  // Reads the plan and its deployment (written by `seam deploy`), opens the device's segment and
  // waits until the next tier is ready. nullptr and `*error` set on failure. `plan_path` may name
  // a plan set (seam plan --set, deployed with seam deploy): the client then holds every plan of
  // the set and chooses per request the one predicted fastest under what it has measured of the
  // links and tiers (the trace's `plan` and `plan_reason` say which and why).
  static std::unique_ptr<Client> Open(const std::string& plan_path, const Options& options,
                                      std::string* error);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::vector<InputInfo> inputs() const;
  std::string plan_id() const;
  // The whole model the plan was made for, as the plan file records it, and whether the stages run
  // with ONNX Runtime's graph optimisations (false: outputs are bitwise those of the whole model
  // run unoptimised): what an application needs to check answers against the whole model.
  std::string model_path() const;
  bool optimized() const;
  // The device and, when the plan sends anything, the tier it sends to.
  std::vector<std::string> tiers() const;

  // Runs one request. On failure returns false with `*error` saying what and where (the input and
  // its mismatch, or the tier that failed). `trace` may be null. If the next tier no longer serves
  // this client's deployment (the plan was redeployed several times since), the client reads the
  // plan file again and, if it holds a newer deployment, switches to it and retries the request.
  // Each request is routed by what the client has measured so far (adaptive: the remote part's
  // latency, the device's, the fallback's, and a circuit breaker on the next tier); the trace says
  // how and why.
  bool Infer(const Tensors& inputs, Tensors* outputs, Trace* trace, std::string* error) const;

  // The same on caller-owned memory: inputs are read where they are; each output named in
  // `outputs` is written into its buffer, and any other output of the model into `others` (may
  // be null: then they are dropped). Saves the copies into and out of Tensor's strings.
  bool Infer(const TensorViews& inputs, OutputBuffers* outputs, Tensors* others, Trace* trace,
             std::string* error) const;

  struct Impl;  // opaque: the device's stage, its runner, its fallback and its estimates

 private:
  Client(std::shared_ptr<Impl> impl, std::string plan_path, Options options);
  std::shared_ptr<Impl> Current() const;

  const std::string plan_path_;
  const Options options_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<Impl> impl_;  // guarded by mu_; replaced when the plan is redeployed
};

}  // namespace seam::client
