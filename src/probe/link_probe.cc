#include "probe/link_probe.h"

#include <grpcpp/grpcpp.h>
#include <inference.grpc.pb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "oip/channel.h"
#include "oip/grpc_status.h"
#include "oip/hop_client.h"
#include "oip/infer_codec.h"

namespace seam::probe {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::chrono::system_clock::time_point Deadline(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

}  // namespace

std::string LinkEstimate::ToLinkSpec() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4gmbit,%.3gms", bandwidth_bps / 1e6, rtt_ms);
  return buf;
}

Result<LinkEstimate> ProbeLink(const std::string& address, const ProbeOptions& options) {
  if (options.repetitions < 1 || options.large_bytes <= options.small_bytes) {
    return InvalidArgument("probe needs repetitions >= 1 and a large payload above the small one");
  }
  SEAM_ASSIGN_OR_RETURN(oip::HopCredentials credentials,
                        oip::LoadHopCredentials(options.security, "the probe of " + address));
  auto channel = oip::OpenChannel(
      address, {.max_message_bytes = static_cast<int>(options.large_bytes + (1 << 20)),
                .credentials = credentials.channel,
                .server_name = credentials.server_name});
  auto authorize = [&](grpc::ClientContext& context) {
    if (!credentials.authorization.empty()) {
      context.AddMetadata("authorization", credentials.authorization);
    }
  };
  if (!channel->WaitForConnected(Deadline(options.timeout_s))) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", options.timeout_s);
    return Unavailable("cannot reach a server at " + address + " within " + seconds + " s" +
                       (credentials.tls ? " (is it serving TLS with a certificate the CA " +
                                              options.security.ca + " verifies?)"
                                        : ""));
  }
  auto stub = inference::GRPCInferenceService::NewStub(channel);

  // Round trips of tiny calls, after one warm-up.
  std::vector<double> rtts;
  for (int i = 0; i <= options.repetitions; ++i) {
    grpc::ClientContext context;
    authorize(context);
    context.set_deadline(Deadline(options.timeout_s));
    inference::ServerLiveRequest request;
    inference::ServerLiveResponse response;
    const auto start = Clock::now();
    grpc::Status status = stub->ServerLive(&context, request, &response);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!status.ok()) {
      return Unavailable("ServerLive on " + address + " failed: " + status.error_message());
    }
    if (i > 0) rtts.push_back(ms);
  }

  // Upload time of the extra bytes: large minus small payload, each sent whole to a model that
  // does not exist, so no inference runs.
  auto upload_ms = [&](size_t bytes) -> Result<double> {
    inference::ModelInferRequest request;
    request.set_model_name(oip::HopClient::kLinkProbeModel);
    Tensor payload{DType::kUInt8, {static_cast<int64_t>(bytes)}, {}};
    payload.data.assign(bytes, std::byte{0x5a});
    SEAM_RETURN_IF_ERROR(oip::AddInput("payload", payload, "", &request).status());
    grpc::ClientContext context;
    authorize(context);
    context.set_deadline(Deadline(options.timeout_s));
    inference::ModelInferResponse response;
    const auto start = Clock::now();
    grpc::Status status = stub->ModelInfer(&context, request, &response);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return FailedPrecondition("the server at " + address + " refuses a " + std::to_string(bytes) +
                                "-byte message: " + status.error_message() +
                                "; probe with a smaller payload");
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return Unavailable("ModelInfer on " + address + " failed: " + status.error_message());
    }
    // NOT_FOUND is the expected answer (any answer times the upload); refused credentials are
    // not: the server may not have read the payload.
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      return oip::FromGrpcStatus(status, "the probe's upload to " + address);
    }
    return ms;
  };
  std::vector<double> slopes;
  for (int i = 0; i < options.repetitions; ++i) {
    SEAM_ASSIGN_OR_RETURN(double small, upload_ms(options.small_bytes));
    SEAM_ASSIGN_OR_RETURN(double large, upload_ms(options.large_bytes));
    slopes.push_back(std::max(large - small, 1e-6));
  }
  LinkEstimate estimate;
  estimate.rtt_ms = Median(rtts);
  const double extra_bits = 8.0 * static_cast<double>(options.large_bytes - options.small_bytes);
  estimate.bandwidth_bps = extra_bits / (Median(slopes) / 1e3);
  return estimate;
}

}  // namespace seam::probe
