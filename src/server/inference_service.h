// InferenceService: the gRPC service of the Open Inference Protocol (proto/inference.proto), on
// gRPC's callback API.
//
// Why the callback API: no thread is parked per request. ModelInfer hands its job to the
// InferenceScheduler and returns; whichever thread finishes the job (a DirectScheduler worker, or
// the batcher after a merged run) completes the RPC. gRPC's own threads only decode, validate and
// encode, which is short. Repository control (load/unload reads and opens models, which takes
// up to seconds) runs on one control thread owned by the service, never on gRPC's threads.
//
// Every RPC answers: exceptions are caught here and become INTERNAL, errors pass through the one
// ToGrpcStatus. With a TokenAuthenticator, every RPC except ServerLive and ServerReady (probed by
// orchestrators without credentials) first checks the `authorization: Bearer <token>` metadata and
// answers UNAUTHENTICATED without a valid token. The check is made here rather than in a gRPC
// AuthMetadataProcessor because gRPC only runs those on TLS ports, and tokens also serve without
// TLS (behind a TLS-terminating proxy, on a private link).
//
// Calls that do work (inference, streams, repository control) are counted by the DrainGate until
// gRPC reports them done (OnDone), so shutdown knows when all are answered.
// Thread safety: as gRPC requires, every method may run concurrently.
#pragma once

#include <inference.grpc.pb.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "server/auth.h"
#include "server/drain_gate.h"
#include "server/infer_handler.h"
#include "server/model_repository.h"

namespace seam::server {

// ModelInfer is served from the raw bytes so that a message that does not parse (malformed bytes,
// a string field that is not UTF-8) is answered INVALID_ARGUMENT saying so, where gRPC's own
// parse answers UNIMPLEMENTED without a word.
class InferenceService final
    : public inference::GRPCInferenceService::WithRawCallbackMethod_ModelInfer<
          inference::GRPCInferenceService::CallbackService> {
 public:
  // All must outlive the service. Inference and repository calls pass through `gate`; once it is
  // closed they are answered UNAVAILABLE and ServerReady / ModelReady say false. `auth` may be
  // null (no authentication).
  InferenceService(ModelRepository& repository, InferHandler& handler, DrainGate& gate,
                   const TokenAuthenticator* auth = nullptr);
  // Joins the control thread (after the gRPC server has shut down, no task is pending).
  ~InferenceService() override;

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelLoad(
      grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
      inference::RepositoryModelLoadResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override;

 private:
  // OK, or UNAUTHENTICATED when tokens are required and the call has no valid one.
  Status Authorize(const grpc::CallbackServerContext* context) const;
  // Runs `task` on the control thread, in submission order.
  void RunOnControlThread(std::function<void()> task);
  void ControlLoop();

  ModelRepository& repository_;
  InferHandler& handler_;
  DrainGate& gate_;
  const TokenAuthenticator* const auth_;

  std::mutex control_mu_;
  std::condition_variable control_cv_;
  std::deque<std::function<void()>> control_tasks_;  // guarded by control_mu_
  bool stopping_ = false;                            // guarded by control_mu_
  std::thread control_thread_;
};

}  // namespace seam::server
