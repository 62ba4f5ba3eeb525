#include "pipeline/hop_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <vector>

namespace seam::pipeline {

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
  std::thread reader;
};

namespace {

StatusCode CodeFromName(const std::string& name) {
  static const std::pair<const char*, StatusCode> kCodes[] = {
      {"INVALID_ARGUMENT", StatusCode::kInvalidArgument},
      {"NOT_FOUND", StatusCode::kNotFound},
      {"FAILED_PRECONDITION", StatusCode::kFailedPrecondition},
      {"UNIMPLEMENTED", StatusCode::kUnimplemented},
      {"DATA_LOSS", StatusCode::kDataLoss},
      {"UNAVAILABLE", StatusCode::kUnavailable},
      {"INTERNAL", StatusCode::kInternal},
      {"UNAUTHENTICATED", StatusCode::kUnauthenticated}};
  for (const auto& [text, code] : kCodes) {
    if (name == text) return code;
  }
  return StatusCode::kInternal;
}

Status FromGrpc(const grpc::Status& status, const std::string& context) {
  StatusCode code = StatusCode::kInternal;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      code = StatusCode::kInvalidArgument;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = StatusCode::kNotFound;
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      code = StatusCode::kUnauthenticated;
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      code = StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, context + ": " + status.error_message());
}

}  // namespace

Status StatusFromErrorMessage(const std::string& message, const std::string& context) {
  const auto colon = message.find(": ");
  if (colon != std::string::npos) {
    const StatusCode code = CodeFromName(message.substr(0, colon));
    if (code != StatusCode::kInternal || message.rfind("INTERNAL", 0) == 0) {
      return Status(code, context + ": " + message.substr(colon + 2));
    }
  }
  return Status(StatusCode::kInternal, context + ": " + message);
}

HopClient::HopClient(std::string tier, std::string address, HopOptions options)
    : tier_(std::move(tier)), address_(std::move(address)), options_(options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  // Reconnect quickly after a server restart instead of gRPC's default back-off of up to 2 min.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Find a silently dead link between requests (seam serve accepts pings this often).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = inference::GRPCInferenceService::NewStub(channel_);
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
  Status last = Unavailable(tier_ + " at " + address_ + " did not answer");
  while (true) {
    grpc::ClientContext context;
    const auto left = std::min<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(1000));
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
    context.set_wait_for_ready(true);
    inference::ModelReadyRequest request;
    request.set_name(model);
    request.set_version(std::to_string(version));
    inference::ModelReadyResponse response;
    const grpc::Status status = stub_->ModelReady(&context, request, &response);
    if (status.ok() && response.ready()) return Status::Ok();
    if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) {
      last = NotFound(tier_ + " at " + address_ + " does not serve model '" + model + "' version " +
                      std::to_string(version) + " (is it deployed there?)");
    } else {
      last = FromGrpc(status, tier_ + " at " + address_ + " is unreachable");
    }
    if (std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status HopClient::RequestLoad(const std::string& model, double timeout_ms) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1e3)));
  context.set_wait_for_ready(true);
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  const grpc::Status status = stub_->RepositoryModelLoad(&context, request, &response);
  if (status.ok()) return Status::Ok();
  return FromGrpc(status, tier_ + " at " + address_ + " could not load '" + model + "'");
}

Result<std::shared_ptr<HopClient::Stream>> HopClient::CurrentStream() {
  std::lock_guard connect_lock(connect_mu_);
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
  }
  if (old) {
    old->context.TryCancel();
    if (old->reader.joinable()) old->reader.join();
  }
  // Fail fast when the next tier cannot be reached at all, rather than waiting for ever. Other
  // callers wait on connect_mu_ meanwhile, then see this attempt's outcome.
  if (!channel_->WaitForConnected(
          std::chrono::system_clock::now() +
          std::chrono::microseconds(static_cast<int64_t>(options_.connect_timeout_ms * 1e3)))) {
    std::lock_guard lock(mu_);
    last_connect_error_ =
        Unavailable(tier_ + " at " + address_ + " is unreachable (no connection within " +
                    std::to_string(static_cast<int>(options_.connect_timeout_ms)) + " ms)");
    last_connect_failure_ = std::chrono::steady_clock::now();
    return last_connect_error_;
  }
  auto stream = std::make_shared<Stream>();
  stream->rw = stub_->ModelStreamInfer(&stream->context);
  stream->reader = std::thread([this, stream] { ReadLoop(stream); });
  std::lock_guard lock(mu_);
  last_connect_error_ = Status::Ok();
  stream_ = stream;
  return stream;
}

void HopClient::ReadLoop(std::shared_ptr<Stream> stream) {
  inference::ModelStreamInferResponse response;
  while (stream->rw->Read(&response)) {
    std::lock_guard lock(stream->mu);
    auto it = stream->pending.find(response.infer_response().id());
    if (it == stream->pending.end()) continue;  // a call that already timed out
    auto& pending = *it->second;
    if (!response.error_message().empty()) {
      pending.result = StatusFromErrorMessage(response.error_message(), tier_);
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
  std::lock_guard lock(stream->mu);
  stream->broken = true;
  for (auto& [id, pending] : stream->pending) {
    pending->result = FromGrpc(status, tier_ + " at " + address_ + ": stream closed");
    pending->stream_broke = true;
    pending->done = true;
  }
  stream->pending.clear();
  stream->cv.notify_all();
}

Result<inference::ModelInferResponse> HopClient::InferOnce(
    const inference::ModelInferRequest& request, bool* stream_broke) {
  *stream_broke = false;
  SEAM_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, CurrentStream());
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
  if (!written && !pending->done) {
    stream->pending.erase(request.id());
    stream->broken = true;
    *stream_broke = true;
    return Unavailable(tier_ + " at " + address_ + ": the stream refused the request");
  }
  const auto timeout =
      std::chrono::microseconds(static_cast<int64_t>(options_.call_timeout_ms * 1e3));
  if (!stream->cv.wait_for(lock, timeout, [&] { return pending->done; })) {
    stream->pending.erase(request.id());
    stream->broken = true;  // perhaps a silently dead link: the next call opens a new stream
    return Unavailable(tier_ + " at " + address_ + ": no answer within " +
                       std::to_string(static_cast<int>(options_.call_timeout_ms)) + " ms");
  }
  *stream_broke = pending->stream_broke;
  return std::move(pending->result);
}

Result<inference::ModelInferResponse> HopClient::Infer(inference::ModelInferRequest request) {
  request.set_id("hop-" + std::to_string(next_id_.fetch_add(1)));
  bool stream_broke = false;
  auto result = InferOnce(request, &stream_broke);
  if (!result.ok() && stream_broke) result = InferOnce(request, &stream_broke);  // one retry
  return result;
}

}  // namespace seam::pipeline
