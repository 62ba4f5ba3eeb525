#include "oip/hop_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <vector>

#include "oip/channel.h"
#include "oip/grpc_status.h"

namespace seam::oip {
namespace {

enum class ConnectOutcome { kReady, kRefused, kTimedOut, kCancelled };

bool IsSet(const std::atomic<bool>* flag) { return flag && flag->load(std::memory_order_relaxed); }

// Waits until `channel` is connected, it fails to connect (a refused or reset connection: the
// tier is down, which waiting longer will not mend), `until`, or `cancelled` is set (checked
// every HopClient::kCancelPoll).
ConnectOutcome WaitConnected(grpc::Channel& channel, SteadyClock::time_point until,
                             const std::atomic<bool>* cancelled) {
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  while (true) {
    if (state == GRPC_CHANNEL_READY) return ConnectOutcome::kReady;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return ConnectOutcome::kRefused;
    }
    if (IsSet(cancelled)) return ConnectOutcome::kCancelled;
    const auto now = SteadyClock::now();
    if (until <= now) return ConnectOutcome::kTimedOut;
    const auto slice = cancelled ? std::min(until, now + HopClient::kCancelPoll) : until;
    if (channel.WaitForStateChange(
            state,
            std::chrono::system_clock::now() +
                std::chrono::duration_cast<std::chrono::system_clock::duration>(slice - now))) {
      state = channel.GetState(/*try_to_connect=*/true);
    }
  }
}

}  // namespace

// A call waiting for its answer.
struct HopClient::Pending {
  bool done = false;
  bool stream_broke = false;
  Result<inference::ModelInferResponse> result = Unavailable("no answer");
};

// One open ModelStreamInfer call and the calls waiting on it.
struct HopClient::Stream {
  grpc::ClientContext context;
  std::unique_ptr<
      grpc::ClientReaderWriter<inference::ModelInferRequest, inference::ModelStreamInferResponse>>
      rw;
  std::mutex write_mu;  // one outstanding write per stream (gRPC's rule)
  std::mutex mu;        // guards pending and broken; never held while writing
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<Pending>> pending;
  bool broken = false;
  uint64_t answers = 0;     // messages read so far
  int silent_expiries = 0;  // calls in a row that expired with no message read meanwhile
  // When the last message was read (or the stream opened): a black hole is a silence of at
  // least HopClient::kMinSilence, not merely short deadlines passing on a slow link.
  std::chrono::steady_clock::time_point last_message = std::chrono::steady_clock::now();
  std::thread reader;
};

Result<std::unique_ptr<HopClient>> HopClient::Open(std::string tier, std::string address,
                                                   HopOptions options) {
  auto client = std::make_unique<HopClient>(std::move(tier), std::move(address), options);
  if (!client->credentials_.ok()) return client->credentials_.status();
  return client;
}

HopClient::HopClient(std::string tier, std::string address, HopOptions options)
    : tier_(std::move(tier)),
      address_(std::move(address)),
      options_(options),
      credentials_(LoadHopCredentials(options_.security, "the hop to " + tier_)) {
  connection_ = NewConnection();
}

HopClient::Connection HopClient::NewConnection() const {
  ChannelOptions channel{.max_message_bytes = options_.max_message_bytes};
  if (credentials_.ok()) {
    channel.credentials = credentials_->channel;
    channel.server_name = credentials_->server_name;
  }
  Connection connection;
  connection.channel = OpenChannel(address_, channel);
  connection.stub = inference::GRPCInferenceService::NewStub(connection.channel);
  return connection;
}

void HopClient::Authorize(grpc::ClientContext& context) const {
  if (credentials_.ok() && !credentials_->authorization.empty()) {
    context.AddMetadata("authorization", credentials_->authorization);
  }
}

std::string HopClient::ConnectHint() const {
  if (credentials_.ok() && credentials_->tls) {
    return "the connection failed: is it running and serving TLS, with a certificate that the "
           "hop's CA (" +
           options_.security.ca + ") verifies" +
           (options_.security.cert.empty()
                ? ", and not requiring a client certificate?"
                : ", and accepting the client certificate " + options_.security.cert + "?");
  }
  return "the connection failed; is it running, without TLS?";
}

Status HopClient::CallError(const grpc::Status& status, const std::string& what,
                            grpc::Channel& channel) const {
  const bool unanswered = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  if (unanswered && channel.GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY) {
    return FromGrpcStatus(status, what + " (unreachable: " + ConnectHint() + ")");
  }
  return FromGrpcStatus(status, what);
}

HopClient::~HopClient() {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    stream = std::move(stream_);
  }
  if (stream) {
    {
      std::lock_guard lock(stream->write_mu);
      stream->rw->WritesDone();
    }
    stream->context.TryCancel();
    if (stream->reader.joinable()) stream->reader.join();
  }
}

Status HopClient::WaitReady(const std::string& model, int64_t version, double timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1e3));
  if (!credentials_.ok()) return credentials_.status();
  Status last = Unavailable(tier_ + " at " + address_ + " did not answer");
  while (true) {
    grpc::ClientContext context;
    Authorize(context);
    const auto left = std::min<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(1000));
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
    context.set_wait_for_ready(true);
    inference::ModelReadyRequest request;
    request.set_name(model);
    request.set_version(std::to_string(version));
    inference::ModelReadyResponse response;
    const Connection connection = Current();
    const grpc::Status status = connection.stub->ModelReady(&context, request, &response);
    if (status.ok() && response.ready()) return Status::Ok();
    if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) {
      last = NotFound(tier_ + " at " + address_ + " does not serve model '" + model + "' version " +
                      std::to_string(version) + " (is it deployed there?)");
    } else {
      last = CallError(status, tier_ + " at " + address_ + " is unreachable", *connection.channel);
      // Waiting does not mend credentials.
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        return FromGrpcStatus(status, tier_ + " at " + address_);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<double> HopClient::MeasureLink(uint64_t bytes, const Deadline& deadline) {
  inference::ModelInferRequest request;
  request.set_model_name(kLinkProbeModel);
  auto* input = request.add_inputs();
  input->set_name("payload");
  input->set_datatype("UINT8");
  input->add_shape(static_cast<int64_t>(bytes));
  request.add_raw_input_contents(std::string(bytes, '\x5a'));
  const auto start = std::chrono::steady_clock::now();
  auto answer = Infer(std::move(request), deadline);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (answer.ok()) {
    return Internal(tier_ + " at " + address_ + " answered a link probe to '" + kLinkProbeModel +
                    "' as if it served that model");
  }
  if (answer.status().code() != StatusCode::kNotFound) return answer.status();
  return ms;
}

Result<ModelMetadata> HopClient::Metadata(const std::string& model, int64_t version,
                                          double timeout_ms) {
  if (!credentials_.ok()) return credentials_.status();
  grpc::ClientContext context;
  Authorize(context);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1e3)));
  context.set_wait_for_ready(true);
  inference::ModelMetadataRequest request;
  request.set_name(model);
  if (version > 0) request.set_version(std::to_string(version));
  inference::ModelMetadataResponse response;
  const std::string what = tier_ + " at " + address_ + ", model '" + model + "'";
  const Connection connection = Current();
  const grpc::Status status = connection.stub->ModelMetadata(&context, request, &response);
  if (!status.ok()) return CallError(status, what, *connection.channel);
  ModelMetadata metadata;
  auto convert = [&](const auto& list, std::vector<TensorSpec>& out) -> Status {
    for (const auto& t : list) {
      auto dtype = DTypeFromName(t.datatype());
      if (!dtype) return DataLoss(what + ": unknown datatype '" + t.datatype() + "'");
      out.push_back({t.name(), *dtype, {t.shape().begin(), t.shape().end()}});
    }
    return Status::Ok();
  };
  SEAM_RETURN_IF_ERROR(convert(response.inputs(), metadata.inputs));
  SEAM_RETURN_IF_ERROR(convert(response.outputs(), metadata.outputs));
  return metadata;
}

Status HopClient::RequestLoad(const std::string& model, double timeout_ms) {
  if (!credentials_.ok()) return credentials_.status();
  grpc::ClientContext context;
  Authorize(context);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1e3)));
  context.set_wait_for_ready(true);
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  const Connection connection = Current();
  const grpc::Status status = connection.stub->RepositoryModelLoad(&context, request, &response);
  if (status.ok()) return Status::Ok();
  return CallError(status, tier_ + " at " + address_ + " could not load '" + model + "'",
                   *connection.channel);
}

Status HopClient::Health() {
  if (!credentials_.ok()) return credentials_.status();
  std::lock_guard lock(mu_);
  if (suspect_link_) {
    return Unavailable(tier_ + " at " + address_ +
                       " took requests without answering (a black-holed link?)");
  }
  return last_connect_error_;
}

HopClient::Connection HopClient::Current() {
  std::lock_guard lock(mu_);
  return connection_;
}

Result<std::shared_ptr<HopClient::Stream>> HopClient::CurrentStream(
    const Deadline& deadline, const std::atomic<bool>* cancelled) {
  auto gave_up = [&] {
    return Cancelled(tier_ + " at " + address_ +
                     ": the caller cancelled the request while it waited for a connection");
  };
  if (!credentials_.ok()) return credentials_.status();
  const auto timeout_at =
      SteadyClock::now() +
      std::chrono::microseconds(static_cast<int64_t>(options_.connect_timeout_ms * 1e3));
  // The request's deadline comes first: a failure to connect by then is no verdict on the tier.
  const bool cut_by_deadline = deadline && *deadline < timeout_at;
  const auto connect_by = cut_by_deadline ? *deadline : timeout_at;
  std::unique_lock connect_lock(connect_mu_, std::defer_lock);
  // Another caller is connecting: wait for its outcome, but not past this request's deadline.
  while (!connect_lock.try_lock_until(
      cancelled ? std::min(connect_by, SteadyClock::now() + kCancelPoll) : connect_by)) {
    if (IsSet(cancelled)) return gave_up();
    if (SteadyClock::now() >= connect_by) {
      return DeadlineExceeded(tier_ + " at " + address_ +
                              ": still connecting when the request's deadline passed");
    }
  }
  std::shared_ptr<Stream> old;
  {
    std::lock_guard lock(mu_);
    if (stream_) {
      std::lock_guard stream_lock(stream_->mu);
      if (!stream_->broken) return stream_;
    }
    const auto since = std::chrono::steady_clock::now() - last_connect_failure_;
    if (!last_connect_error_.ok() && since < std::chrono::microseconds(static_cast<int64_t>(
                                                 options_.reconnect_backoff_ms * 1e3))) {
      return last_connect_error_;
    }
    old = std::move(stream_);
    // A new channel when the old connection swallowed requests without a word, or when the last
    // attempt failed: gRPC keeps a channel whose connection failed in TRANSIENT_FAILURE and
    // retries it in the background on its own schedule, so a tier that came back (restarted
    // behind a relay, say) could stay unreachable to it for long; a fresh channel dials now.
    if (recycle_connection_ || !last_connect_error_.ok()) {
      connection_ = NewConnection();
      recycle_connection_ = false;
    }
  }
  const Connection connection = Current();
  if (old) {
    old->context.TryCancel();
    if (old->reader.joinable()) old->reader.join();
  }
  // Fail fast when the next tier cannot be reached at all, rather than waiting for ever. Other
  // callers wait on connect_mu_ meanwhile, then see this attempt's outcome.
  const ConnectOutcome outcome = WaitConnected(*connection.channel, connect_by, cancelled);
  if (outcome == ConnectOutcome::kCancelled) return gave_up();
  if (outcome == ConnectOutcome::kRefused) {
    std::lock_guard lock(mu_);
    last_connect_error_ =
        Unavailable(tier_ + " at " + address_ + " is unreachable (" + ConnectHint() + ")");
    last_connect_failure_ = std::chrono::steady_clock::now();
    return last_connect_error_;
  }
  if (outcome == ConnectOutcome::kTimedOut) {
    if (cut_by_deadline) {
      // Cut short by the request's deadline: not a verdict on the tier (but on a link that
      // already swallowed a stream, the next attempt gets a fresh connection).
      {
        std::lock_guard lock(mu_);
        if (suspect_link_) recycle_connection_ = true;
      }
      return DeadlineExceeded(tier_ + " at " + address_ +
                              ": not connected when the request's deadline passed");
    }
    std::lock_guard lock(mu_);
    last_connect_error_ =
        Unavailable(tier_ + " at " + address_ + " is unreachable (no connection within " +
                    std::to_string(static_cast<int>(options_.connect_timeout_ms)) + " ms)");
    last_connect_failure_ = std::chrono::steady_clock::now();
    return last_connect_error_;
  }
  auto stream = std::make_shared<Stream>();
  Authorize(stream->context);
  stream->rw = connection.stub->ModelStreamInfer(&stream->context);
  stream->reader = std::thread([this, stream] { ReadLoop(stream); });
  std::lock_guard lock(mu_);
  last_connect_error_ = Status::Ok();
  stream_ = stream;
  return stream;
}

void HopClient::ReadLoop(std::shared_ptr<Stream> stream) {
  inference::ModelStreamInferResponse response;
  while (stream->rw->Read(&response)) {
    {
      std::lock_guard lock(mu_);
      suspect_link_ = false;  // answers flow again
    }
    std::lock_guard lock(stream->mu);
    ++stream->answers;
    stream->last_message = std::chrono::steady_clock::now();
    stream->silent_expiries = 0;
    auto it = stream->pending.find(response.infer_response().id());
    if (it == stream->pending.end()) continue;  // a call that already timed out
    auto& pending = *it->second;
    if (Status error = StreamError(response, tier_); !error.ok()) {
      pending.result = std::move(error);
      // A draining or overloaded server: this stream is no good; the call is retried on a new one.
      if (pending.result.status().code() == StatusCode::kUnavailable) {
        pending.stream_broke = true;
        stream->broken = true;
      }
    } else {
      pending.result = std::move(*response.mutable_infer_response());
    }
    pending.done = true;
    stream->pending.erase(it);
    stream->cv.notify_all();
  }
  const grpc::Status status = stream->rw->Finish();
  // Refused credentials are no broken link: a retry on a new stream would be refused the same,
  // so calls fail at once for the reconnect back-off, as after a failed connection attempt.
  const bool refused = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                       status.error_code() == grpc::StatusCode::PERMISSION_DENIED;
  if (refused) {
    std::lock_guard lock(mu_);
    last_connect_error_ = FromGrpcStatus(status, tier_ + " at " + address_);
    last_connect_failure_ = std::chrono::steady_clock::now();
  }
  std::lock_guard lock(stream->mu);
  stream->broken = true;
  for (auto& [id, pending] : stream->pending) {
    pending->result = FromGrpcStatus(status, tier_ + " at " + address_ + ": stream closed");
    pending->stream_broke = !refused;
    pending->done = true;
  }
  stream->pending.clear();
  stream->cv.notify_all();
}

Result<inference::ModelInferResponse> HopClient::InferOnce(inference::ModelInferRequest& request,
                                                           const Deadline& deadline,
                                                           const std::atomic<bool>* cancelled,
                                                           bool* stream_broke) {
  *stream_broke = false;
  auto expired = [&] {
    return DeadlineExceeded(tier_ + " at " + address_ + ": the request's deadline passed before " +
                            tier_ + " answered");
  };
  if (MsLeft(deadline, SteadyClock::now()) <= 0) return expired();
  SEAM_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, CurrentStream(deadline, cancelled));
  const auto now = SteadyClock::now();
  if (MsLeft(deadline, now) <= 0) return expired();
  SetTimeout(deadline, now, &request);
  if (request.ByteSizeLong() > static_cast<size_t>(options_.max_message_bytes)) {
    return InvalidArgument("the request to " + tier_ + " is " +
                           std::to_string(request.ByteSizeLong()) + " bytes, over the " +
                           std::to_string(options_.max_message_bytes) +
                           "-byte message limit (raise the servers' --max-message-mb)");
  }
  auto pending = std::make_shared<Pending>();
  {
    std::lock_guard lock(stream->mu);
    if (stream->broken) {
      *stream_broke = true;
      return Unavailable(tier_ + " at " + address_ + ": stream closed");
    }
    stream->pending.emplace(request.id(), pending);
  }
  bool written = false;
  {
    std::lock_guard write_lock(stream->write_mu);
    written = stream->rw->Write(request);
  }
  std::unique_lock lock(stream->mu);
  const uint64_t answers_before = stream->answers;
  if (!written && !pending->done) {
    // The stream ended under the write: its reader is about to say why (refused credentials, a
    // server going away); give it a moment rather than answer a vaguer "refused".
    auto until = SteadyClock::now() + std::chrono::seconds(1);
    if (deadline && *deadline < until) until = *deadline;
    stream->cv.wait_until(lock, until, [&] { return pending->done; });
  }
  if (!written && pending->done) {
    *stream_broke = pending->stream_broke;
    return std::move(pending->result);
  }
  if (!written) {
    stream->pending.erase(request.id());
    stream->broken = true;
    *stream_broke = true;
    return Unavailable(tier_ + " at " + address_ + ": the stream refused the request");
  }
  const auto timeout_at =
      now + std::chrono::microseconds(static_cast<int64_t>(options_.call_timeout_ms * 1e3));
  const bool deadline_first = deadline && *deadline < timeout_at;
  const auto wait_end = deadline_first ? *deadline : timeout_at;
  bool answered = false;
  while (true) {
    // With a caller who may cancel, wake now and then to see whether it did.
    const auto until = cancelled ? std::min(wait_end, SteadyClock::now() + kCancelPoll) : wait_end;
    if (stream->cv.wait_until(lock, until, [&] { return pending->done; })) {
      answered = true;
      break;
    }
    if (cancelled && cancelled->load(std::memory_order_relaxed)) {
      stream->pending.erase(request.id());
      return Cancelled(tier_ + " at " + address_ +
                       ": the caller cancelled the request; its answer is no longer awaited");
    }
    if (SteadyClock::now() >= wait_end) break;
  }
  if (!answered) {
    stream->pending.erase(request.id());
    // The tier drops the request itself when its deadline passes; the link may be fine, unless
    // it has delivered nothing through several deadlines in a row.
    if (deadline_first) {
      if (stream->answers == answers_before) {
        const int silent = ++stream->silent_expiries;
        const bool long_silence = SteadyClock::now() - stream->last_message >= kMinSilence;
        lock.unlock();
        std::lock_guard hop_lock(mu_);
        // On a link that already swallowed a stream, one silent expiry is enough.
        if (long_silence && silent >= (suspect_link_ ? 1 : kSilentExpiries)) {
          std::lock_guard stream_lock(stream->mu);
          stream->broken = true;
          recycle_connection_ = suspect_link_ = true;
        }
      }
      return expired();
    }
    stream->broken = true;  // perhaps a silently dead link: the next call opens a new stream
    return Unavailable(tier_ + " at " + address_ + ": no answer within " +
                       std::to_string(static_cast<int>(options_.call_timeout_ms)) + " ms");
  }
  *stream_broke = pending->stream_broke;
  return std::move(pending->result);
}

Result<inference::ModelInferResponse> HopClient::Infer(inference::ModelInferRequest request,
                                                       const Deadline& deadline,
                                                       const std::atomic<bool>* cancelled,
                                                       int* attempts) {
  request.set_id("hop-" + std::to_string(next_id_.fetch_add(1)));
  bool stream_broke = false;
  if (attempts) *attempts = 1;
  auto result = InferOnce(request, deadline, cancelled, &stream_broke);
  if (!result.ok() && stream_broke) {
    // Once, and said: the tier may have run the first attempt before its stream broke.
    (*request.mutable_parameters())[kAttemptParameter].set_int64_param(2);
    if (attempts) *attempts = 2;
    result = InferOnce(request, deadline, cancelled, &stream_broke);
  }
  return result;
}

}  // namespace seam::oip
