#include "server/infer_handler.h"

#include <chrono>

#include "oip/hop_client.h"
#include "oip/idempotency.h"
#include "oip/infer_codec.h"
#include "server/log.h"

namespace seam::server {
namespace {

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

}  // namespace

InferHandler::InferHandler(const ModelRepository& repository, InferenceScheduler& scheduler,
                           ServerMetrics* metrics, IdempotencyStore* idempotency,
                           MemoryBudget* budget)
    : repository_(repository),
      scheduler_(scheduler),
      metrics_(metrics),
      idempotency_(idempotency),
      budget_(budget) {}

void InferHandler::Infer(const inference::ModelInferRequest& request,
                         inference::ModelInferResponse* response,
                         std::function<void(const Status&)> done, const CallInfo& call) {
  const auto accepted = std::chrono::steady_clock::now();
  // Logs always carry a request id: the client's, or one made up here (not sent back).
  std::string request_id =
      request.id().empty() ? "seam-" + std::to_string(next_id_.fetch_add(1)) : request.id();
  auto reject = [&](const Status& status) {
    // A link probe's NOT_FOUND is its answer, not an event: it may come several times a second.
    const auto level = request.model_name() == oip::HopClient::kLinkProbeModel
                           ? spdlog::level::debug
                           : spdlog::level::info;
    spdlog::log(level, "event=infer_rejected request_id={} model={} version={} code={} error={}",
                LogValue(request_id), LogValue(request.model_name()),
                LogValue(request.model_version()), StatusCodeName(status.code()),
                LogValue(status.message()));
    done(status);
  };
  auto model = repository_.Find(request.model_name(), request.model_version());
  if (!model.ok()) return reject(model.status());
  const int64_t version = (*model)->version();
  if (metrics_) metrics_->RequestAccepted(request.model_name(), version);
  // Refused after acceptance, before scheduling: a failure, answered now.
  auto refuse = [&](const Status& status) {
    if (metrics_) {
      metrics_->RequestRefused(request.model_name(), version);
      metrics_->RequestAnswered(request.model_name(), version, MicrosSince(accepted));
    }
    reject(status);
  };
  auto timeout = oip::ReadDeadline(request, accepted);
  if (!timeout.ok()) return refuse(timeout.status());
  auto context = std::make_shared<RequestContext>();
  context->request_id = request_id;
  context->accepted = accepted;
  context->deadline = oip::Earliest(*timeout, call.deadline);
  context->cancelled = call.cancelled;
  if (Status wanted = context->StillWanted(accepted); !wanted.ok()) {
    if (metrics_) {
      metrics_->OnDropped(request.model_name(), version, wanted.code() == StatusCode::kCancelled);
    }
    return refuse(wanted);
  }
  // Held until answered: its message (which the front end keeps until then) and what decoding
  // makes of it (memory_budget.h).
  std::shared_ptr<MemoryBudget::Lease> lease;
  if (budget_) {
    auto reserved = budget_->Reserve(2 * request.ByteSizeLong(),
                                     "a request of model '" + request.model_name() + "'");
    if (!reserved.ok()) return refuse(reserved.status());
    lease = std::make_shared<MemoryBudget::Lease>(std::move(reserved).value());
  }
  const auto decode_start = std::chrono::steady_clock::now();
  const Backend& backend = (*model)->backend();
  auto decoded = oip::DecodeInferRequest(
      request, (*model)->metadata(), [&backend](const std::string& name, const std::string& codec) {
        return backend.KeepsCoded(name, codec);
      });
  const double decode_ms = MicrosSince(decode_start) / 1e3;
  if (!decoded.ok()) return refuse(decoded.status());

  auto key = oip::ReadIdempotencyKey(request);
  if (!key.ok()) return refuse(key.status());
  std::string fingerprint;
  if (idempotency_ && !key->empty()) {
    std::string stored;
    fingerprint = oip::RequestFingerprint(request, version);
    auto claim = idempotency_->Begin(*key, request.model_name(), fingerprint, &stored);
    if (!claim.ok()) return refuse(claim.status());
    if (*claim == IdempotencyStore::Claim::kReplay) {
      if (!response->ParseFromString(stored)) {
        return refuse(
            DataLoss("the stored answer of idempotency key '" + *key + "' cannot be read"));
      }
      response->set_id(request.id());
      (*response->mutable_parameters())[oip::kReplayedParameter].set_bool_param(true);
      if (metrics_) {
        metrics_->RequestReplayed(request.model_name(), version);
        metrics_->RequestAnswered(request.model_name(), version, MicrosSince(accepted));
      }
      spdlog::info("event=infer_replayed request_id={} model={} version={} key={}",
                   LogValue(request_id), LogValue(request.model_name()), version, LogValue(*key));
      return done(Status::Ok());
    }
  } else {
    key->clear();  // nothing claimed
  }

  response->set_model_name(request.model_name());
  response->set_model_version(std::to_string((*model)->version()));
  response->set_id(request.id());
  context->decode_ms = decode_ms;
  context->output_codecs = std::move(decoded->output_codecs);
  context->coded_inputs = std::move(decoded->coded);
  InferJob job;
  job.model = *model;
  job.inputs = std::move(decoded->inputs);
  job.request_id = request_id;
  job.accepted = accepted;
  job.context = context;
  job.done = [response, outputs = std::move(decoded->outputs), context, done = std::move(done),
              request_id, model_name = request.model_name(), version, accepted, metrics = metrics_,
              idempotency = idempotency_, key = std::move(*key),
              fingerprint = std::move(fingerprint), lease = std::move(lease),
              budget = budget_](Result<TensorMap> result) {
    // Its outputs and their encoded copy, held until answered too.
    MemoryBudget::Lease outputs_lease;
    if (budget && result.ok()) {
      uint64_t bytes = 0;
      for (const auto& [name, tensor] : *result) bytes += tensor.byte_size();
      outputs_lease = budget->Charge(2 * bytes);
    }
    const auto encode_start = std::chrono::steady_clock::now();
    Status status = result.ok()
                        ? oip::EncodeInferOutputs(*result, outputs, response,
                                                  context->output_codecs, &context->coded_outputs)
                        : result.status();
    if (status.ok() && context->finish) {
      context->finish(MicrosSince(encode_start) / 1e3, MicrosSince(accepted) / 1e3, response);
    }
    // The answer is kept before the caller has it: a repeat after this point is replayed.
    if (!key.empty()) {
      if (status.ok()) {
        // Not kept: the answer still goes out (the work is done); a repeat would run again.
        if (Status kept =
                idempotency->Finish(key, model_name, fingerprint, response->SerializeAsString());
            !kept.ok()) {
          spdlog::warn("event=idempotency_store_failed request_id={} model={} key={} error={}",
                       LogValue(request_id), LogValue(model_name), LogValue(key),
                       LogValue(kept.message()));
        }
      } else {
        idempotency->Abandon(key);
      }
    }
    const int64_t duration_us = MicrosSince(accepted);
    // Counted before the client has its answer, so that it finds the request in /metrics.
    if (metrics) metrics->RequestAnswered(model_name, version, duration_us);
    if (status.ok()) {
      spdlog::debug("event=infer request_id={} model={} version={} code=OK duration_us={}",
                    LogValue(request_id), LogValue(model_name), version, duration_us);
    } else {
      spdlog::warn("event=infer_failed request_id={} model={} version={} code={} error={}",
                   LogValue(request_id), LogValue(model_name), version,
                   StatusCodeName(status.code()), LogValue(status.message()));
    }
    done(status);
    // The answer is the front end's now.
    outputs_lease.Release();
    if (lease) lease->Release();
  };
  scheduler_.Submit(std::move(job));
}

}  // namespace seam::server
