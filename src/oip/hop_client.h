// HopClient: a connection to the next OIP server up a chain (a tier's next hop, the device's
// edge). One ModelStreamInfer stream (one HTTP/2 connection) carries every request of this hop;
// concurrent callers share it and their answers are matched by request id, so the hop costs no
// connection set-up per request.
//
// Failure: if the stream breaks (the server restarted, the link dropped, the server answered
// UNAVAILABLE because it is draining), every waiting call is retried once on a fresh stream
// (inference has no side effects, so a retry is safe and the request is not lost); a second
// failure returns UNAVAILABLE naming the tier and its address. A call also fails after
// `call_timeout_ms`, and the stream it waited on is replaced (a silently dead link is not reused);
// keepalive pings find dead links between calls. A request over max_message_bytes fails alone,
// before it is sent, rather than breaking the stream that others share.
//
// Deadlines: a call with a deadline waits no longer than that, and the stream stays (a slow
// answer is not a dead link) -- unless kSilentExpiries calls in a row expire on a stream that
// delivered nothing meanwhile and has read nothing for kMinSilence: then the link is taken for a
// black hole (a stalled relay or middlebox keeps TCP open and forwards nothing), and the next call
// opens a new connection; until an answer arrives again, one silent expiry (after kMinSilence) is
// enough to redial.
//
// Thread safety: Infer may be called from any number of threads at once.
#pragma once

#include <inference.grpc.pb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "oip/deadline.h"
#include "oip/hop_security.h"
#include "oip/model_metadata.h"

namespace seam::oip {

struct HopOptions {
  double connect_timeout_ms = 5000;
  double call_timeout_ms = 60000;
  int max_message_bytes = 64 << 20;  // as seam serve's default --max-message-mb
  // After a failed connection attempt, calls fail at once for this long instead of each waiting
  // connect_timeout_ms in turn.
  double reconnect_backoff_ms = 1000;
  // TLS and the bearer token this hop presents (read when the client is made).
  HopSecurity security;
};

class HopClient {
 public:
  static constexpr int kSilentExpiries = 3;
  // ...and the stream has read nothing for at least this long: on a link whose round trip is
  // longer than the callers' deadlines (300 ms against 25 ms probes), answers arrive after their
  // calls expired, and three expiries in a row are not a black hole. Redialling such a link each
  // time kept the tier unreachable for seconds after the link recovered.
  static constexpr std::chrono::milliseconds kMinSilence{1000};

  // Does not connect yet: the stream opens on the first call (or WaitReady). Open fails at once
  // when the hop's credentials (options.security) cannot be read; the constructor keeps that
  // error and every call returns it.
  static Result<std::unique_ptr<HopClient>> Open(std::string tier, std::string address,
                                                 HopOptions options = {});
  HopClient(std::string tier, std::string address, HopOptions options = {});
  ~HopClient();
  HopClient(const HopClient&) = delete;
  HopClient& operator=(const HopClient&) = delete;

  // Waits until the next tier serves `model` at `version` (ModelReady), up to `timeout_ms`.
  // UNAVAILABLE if the tier does not answer, NOT_FOUND if it answers without the model.
  Status WaitReady(const std::string& model, int64_t version, double timeout_ms);

  // What the next tier's `model` (version 0: its newest) takes and returns (ModelMetadata), up
  // to `timeout_ms`. Errors name the tier, its address and the model.
  Result<ModelMetadata> Metadata(const std::string& model, int64_t version, double timeout_ms);

  // Asks the next tier to (re)load `model` from its repository now (RepositoryModelLoad) rather
  // than at its next poll. Errors carry the server's message.
  Status RequestLoad(const std::string& model, double timeout_ms);

  // Sends `request` (its id is replaced by the hop's own) and returns the answer. An answer with
  // an error becomes a Status with the server's code and message, prefixed by the tier's name.
  // With a `deadline`, the request carries the time it has left (oip/deadline.h), so the tier
  // drops it rather than work for a caller who gave up, and the call waits no longer than that:
  // DEADLINE_EXCEEDED, and the stream stays up (a slow answer is not a dead link). A deadline
  // already past fails at once without sending. When `cancelled` (may be null) becomes true while
  // the call waits (this tier's caller gave up), it stops waiting within kCancelPoll: CANCELLED;
  // the tier above drops the request itself once its deadline passes.
  // `attempts` (may be null) is set to the number of times the request was sent: 2 when the
  // stream broke and it was retried, in which case the tier may have run it twice (the retry
  // carries kAttemptParameter = 2, same id, so the tier can tell).
  Result<inference::ModelInferResponse> Infer(inference::ModelInferRequest request,
                                              const Deadline& deadline = {},
                                              const std::atomic<bool>* cancelled = nullptr,
                                              int* attempts = nullptr);
  static constexpr char kAttemptParameter[] = "seam_attempt";
  // Link probes (adapt/light_probe.h) are sent to this model, which no server has: the tier reads
  // the whole message and answers NOT_FOUND without running anything (seam serve logs such a
  // request at debug level only).
  static constexpr char kLinkProbeModel[] = "__seam_link_probe__";
  // Sends `bytes` of payload to kLinkProbeModel on this hop's stream (the connection requests
  // use) and returns how long its NOT_FOUND answer took, in ms: the link's round trip plus the
  // payload's transfer. Any other answer is an error (UNAVAILABLE: the tier is unreachable;
  // DEADLINE_EXCEEDED: not answered in time).
  Result<double> MeasureLink(uint64_t bytes, const Deadline& deadline);
  static constexpr std::chrono::milliseconds kCancelPoll{10};

  // OK unless the next tier is known to be unreachable: the last connection attempt failed (and
  // nothing has connected since), or the link swallowed requests without answering.
  Status Health();

  const std::string& tier() const { return tier_; }
  const std::string& address() const { return address_; }

 private:
  struct Stream;
  struct Pending;
  // The open stream, or a new one; a connection attempt waits no longer than `deadline`.
  Result<std::shared_ptr<Stream>> CurrentStream(const Deadline& deadline,
                                                const std::atomic<bool>* cancelled = nullptr);
  Result<inference::ModelInferResponse> InferOnce(inference::ModelInferRequest& request,
                                                  const Deadline& deadline,
                                                  const std::atomic<bool>* cancelled,
                                                  bool* stream_broke);
  void ReadLoop(std::shared_ptr<Stream> stream);

  const std::string tier_;
  const std::string address_;
  const HopOptions options_;
  // The connection: replaced (under mu_) when a stream went silent (see InferOnce); users take a
  // copy of the pointers under mu_.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<inference::GRPCInferenceService::Stub> stub;
  };
  Connection Current();
  Connection NewConnection() const;
  // Adds the bearer token, if the hop has one.
  void Authorize(grpc::ClientContext& context) const;
  // Where a connection that failed may have failed, for its error message.
  std::string ConnectHint() const;
  // A unary call's failure, its code kept and `what` before its message; with ConnectHint when
  // the call was not answered and `channel` (the one it used) is not connected.
  Status CallError(const grpc::Status& status, const std::string& what,
                   grpc::Channel& channel) const;
  Result<HopCredentials> credentials_;  // immutable after construction
  Connection connection_;
  bool recycle_connection_ = false;  // guarded by mu_
  // A silent stream made us recycle the connection: until an answer arrives again, one silent
  // expiry or a connection attempt that stalls until the deadline recycles it again (it went
  // into the same black hole).
  bool suspect_link_ = false;  // guarded by mu_

  std::timed_mutex connect_mu_;  // one connection attempt at a time; taken before mu_
  std::mutex mu_;
  std::shared_ptr<Stream> stream_;  // null until first use or after it broke
  Status last_connect_error_;
  std::chrono::steady_clock::time_point last_connect_failure_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace seam::oip
