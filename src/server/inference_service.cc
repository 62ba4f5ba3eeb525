#include "server/inference_service.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <exception>

#include "oip/grpc_status.h"
#include "server/log.h"
#include "server/stream_infer.h"

namespace seam::server {
namespace {

// Runs a synchronous handler body and finishes the call with its status; an exception (a bug, or
// bad_alloc) becomes INTERNAL instead of escaping into gRPC.
template <typename Body>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const char* rpc,
                                 Body&& body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Status status;
  try {
    status = body();
  } catch (const std::exception& e) {
    spdlog::error("event=rpc_exception rpc={} error={}", rpc, LogValue(e.what()));
    status = Internal(std::string(rpc) + ": " + e.what());
  }
  reactor->Finish(oip::ToGrpcStatus(status));
  return reactor;
}

// A unary call counted by the drain gate until gRPC is done with it (status sent). It raises
// `cancelled` when the client cancels or the call's deadline passes, so that a request still
// waiting for a worker is dropped rather than run for no one.
class GatedUnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit GatedUnaryReactor(DrainGate& gate) : gate_(gate) {}
  void OnCancel() override { cancelled_->store(true, std::memory_order_relaxed); }
  void OnDone() override {
    gate_.Leave();
    delete this;
  }
  std::shared_ptr<const std::atomic<bool>> cancelled() const { return cancelled_; }

 private:
  DrainGate& gate_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

// A reactor already finished with `status`.
grpc::ServerUnaryReactor* Refused(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(oip::ToGrpcStatus(status));
  return reactor;
}

// A reactor for a call that does work, or one already finished UNAVAILABLE during shutdown.
grpc::ServerUnaryReactor* EnterOrRefuse(grpc::CallbackServerContext* context, DrainGate& gate,
                                        bool* admitted, CallInfo* call = nullptr) {
  *admitted = gate.TryEnter();
  if (*admitted) {
    auto* reactor = new GatedUnaryReactor(gate);
    if (call) {
      call->deadline =
          oip::FromSystemDeadline(context->deadline(), std::chrono::steady_clock::now());
      call->cancelled = reactor->cancelled();
    }
    return reactor;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(oip::ToGrpcStatus(Unavailable("the server is shutting down")));
  return reactor;
}

void FillTensorMetadata(const runtime::IoSpec& spec,
                        inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(spec.name);
  out->set_datatype(DTypeName(spec.dtype));
  for (int64_t d : spec.shape) out->add_shape(d < 0 ? -1 : d);
}

// seam takes no repository parameters; Triton's unload_dependents has nothing to act on (no
// ensembles) and is accepted. Any other parameter is refused rather than silently ignored.
template <typename Map>
Status CheckRepositoryParameters(const Map& parameters, const char* rpc) {
  for (const auto& [name, unused] : parameters) {
    if (name != "unload_dependents") {
      return InvalidArgument(std::string(rpc) + ": parameter '" + name +
                             "' is not supported by seam");
    }
  }
  return Status::Ok();
}

}  // namespace

InferenceService::InferenceService(ModelRepository& repository, InferHandler& handler,
                                   DrainGate& gate, const TokenAuthenticator* auth)
    : repository_(repository), handler_(handler), gate_(gate), auth_(auth) {
  control_thread_ = std::thread([this] { ControlLoop(); });
}

InferenceService::~InferenceService() {
  {
    std::lock_guard lock(control_mu_);
    stopping_ = true;
  }
  control_cv_.notify_all();
  control_thread_.join();
}

Status InferenceService::Authorize(const grpc::CallbackServerContext* context) const {
  if (!auth_) return Status::Ok();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return auth_->Check(std::nullopt);
  return auth_->Check(std::string_view(it->second.data(), it->second.size()));
}

void InferenceService::RunOnControlThread(std::function<void()> task) {
  {
    std::lock_guard lock(control_mu_);
    control_tasks_.push_back(std::move(task));
  }
  control_cv_.notify_one();
}

void InferenceService::ControlLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(control_mu_);
      control_cv_.wait(lock, [this] { return stopping_ || !control_tasks_.empty(); });
      if (control_tasks_.empty()) return;
      task = std::move(control_tasks_.front());
      control_tasks_.pop_front();
    }
    task();
  }
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const inference::ServerLiveRequest*,
                                                       inference::ServerLiveResponse* response) {
  return Answer(context, "ServerLive", [&] {
    response->set_live(true);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(grpc::CallbackServerContext* context,
                                                        const inference::ServerReadyRequest*,
                                                        inference::ServerReadyResponse* response) {
  return Answer(context, "ServerReady", [&] {
    response->set_ready(!gate_.closed() && repository_.AllReady());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const inference::ModelReadyRequest* request,
                                                       inference::ModelReadyResponse* response) {
  return Answer(context, "ModelReady", [&] {
    SEAM_RETURN_IF_ERROR(Authorize(context));
    // Loaded, and able to serve now: a stage whose next tier is unreachable is not ready.
    auto model = repository_.Find(request->name(), request->version());
    response->set_ready(!gate_.closed() && model.ok() && (*model)->backend().Health().ok());
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  return Answer(context, "ServerMetadata", [&] {
    SEAM_RETURN_IF_ERROR(Authorize(context));
    response->set_name("seam");
    response->set_version(SEAM_VERSION);
    response->add_extensions("model_repository");
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  return Answer(context, "ModelMetadata", [&]() -> Status {
    SEAM_RETURN_IF_ERROR(Authorize(context));
    SEAM_ASSIGN_OR_RETURN(auto model, repository_.Find(request->name(), request->version()));
    response->set_name(request->name());
    for (int64_t v : repository_.ReadyVersions(request->name())) {
      response->add_versions(std::to_string(v));
    }
    response->set_platform(model->config().platform);
    for (const auto& spec : model->metadata().inputs)
      FillTensorMetadata(spec, response->add_inputs());
    for (const auto& spec : model->metadata().outputs) {
      FillTensorMetadata(spec, response->add_outputs());
    }
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw_request,
                                                       grpc::ByteBuffer* raw_response) {
  if (Status s = Authorize(context); !s.ok()) return Refused(context, s);
  bool admitted = false;
  CallInfo call;
  grpc::ServerUnaryReactor* reactor = EnterOrRefuse(context, gate_, &admitted, &call);
  if (!admitted) return reactor;
  // The request, parsed here, and the answer, which must outlive the handler's call of done.
  struct Call {
    inference::ModelInferRequest request;
    inference::ModelInferResponse response;
    std::atomic<bool> finished{false};  // against finishing twice if Infer threw after done
  };
  auto state = std::make_shared<Call>();
  auto finish = [reactor, raw_response, state](const Status& status) {
    if (state->finished.exchange(true)) return;
    if (status.ok()) {
      bool own_buffer = false;
      const grpc::Status serialized =
          grpc::SerializationTraits<inference::ModelInferResponse>::Serialize(
              state->response, raw_response, &own_buffer);
      if (!serialized.ok()) {
        reactor->Finish(oip::ToGrpcStatus(
            Internal("ModelInfer: cannot serialize the answer: " + serialized.error_message())));
        return;
      }
    }
    reactor->Finish(oip::ToGrpcStatus(status));
  };
  try {
    {
      grpc::ByteBuffer copy(*raw_request);  // shares the slices (reference counted)
      grpc::ProtoBufferReader reader(&copy);
      if (!reader.status().ok() || !state->request.ParseFromZeroCopyStream(&reader)) {
        spdlog::info("event=infer_rejected protocol=grpc code=INVALID_ARGUMENT error={}",
                     LogValue("a ModelInferRequest that does not parse"));
        finish(InvalidArgument(
            "the request is not a valid ModelInferRequest (malformed protobuf bytes, or a string "
            "field such as a name that is not UTF-8)"));
        return reactor;
      }
    }
    // Parsed: the received bytes go now rather than when the call ends (gRPC keeps a raw
    // method's request until then), so a request holds what the memory budget counts.
    const_cast<grpc::ByteBuffer*>(raw_request)->Clear();
    handler_.Infer(state->request, &state->response, finish, call);
  } catch (const std::exception& e) {
    spdlog::error("event=rpc_exception rpc=ModelInfer error={}", LogValue(e.what()));
    finish(Internal(std::string("ModelInfer: ") + e.what()));
  }
  return reactor;
}

grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(grpc::CallbackServerContext* context) {
  // Both delete themselves in OnDone.
  if (Status s = Authorize(context); !s.ok()) return new RefusedStreamReactor(oip::ToGrpcStatus(s));
  if (!gate_.TryEnter()) return new RefusedStreamReactor();
  return new StreamInferReactor(handler_, gate_);
}

grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    grpc::CallbackServerContext* context, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  return Answer(context, "RepositoryIndex", [&] {
    SEAM_RETURN_IF_ERROR(Authorize(context));
    for (const auto& entry : repository_.Index(request->ready())) {
      auto* model = response->add_models();
      model->set_name(entry.model);
      model->set_version(entry.version);
      model->set_state(entry.state);
      model->set_reason(entry.reason);
    }
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  if (Status s = Authorize(context); !s.ok()) return Refused(context, s);
  bool admitted = false;
  grpc::ServerUnaryReactor* reactor = EnterOrRefuse(context, gate_, &admitted);
  if (!admitted) return reactor;
  if (Status s = CheckRepositoryParameters(request->parameters(), "RepositoryModelLoad"); !s.ok()) {
    reactor->Finish(oip::ToGrpcStatus(s));
    return reactor;
  }
  RunOnControlThread([this, reactor, model = request->model_name()] {
    Status status;
    try {
      spdlog::info("event=model_load_requested model={}", LogValue(model));
      status = repository_.Load(model);
    } catch (const std::exception& e) {
      status = Internal("RepositoryModelLoad: " + std::string(e.what()));
    }
    reactor->Finish(oip::ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  if (Status s = Authorize(context); !s.ok()) return Refused(context, s);
  bool admitted = false;
  grpc::ServerUnaryReactor* reactor = EnterOrRefuse(context, gate_, &admitted);
  if (!admitted) return reactor;
  if (Status s = CheckRepositoryParameters(request->parameters(), "RepositoryModelUnload");
      !s.ok()) {
    reactor->Finish(oip::ToGrpcStatus(s));
    return reactor;
  }
  RunOnControlThread([this, reactor, model = request->model_name()] {
    Status status;
    try {
      spdlog::info("event=model_unload_requested model={}", LogValue(model));
      status = repository_.Unload(model);
    } catch (const std::exception& e) {
      status = Internal("RepositoryModelUnload: " + std::string(e.what()));
    }
    reactor->Finish(oip::ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace seam::server
