#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace seam::server {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// 50 us .. 10 s: a tiny model's compute to a long queue under overload.
const Histogram::BucketBoundaries& TimeBuckets() {
  static const Histogram::BucketBoundaries buckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return buckets;
}

const Histogram::BucketBoundaries& BatchBuckets() {
  static const Histogram::BucketBoundaries buckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  return buckets;
}

double Seconds(int64_t us) { return static_cast<double>(us) * 1e-6; }

}  // namespace

struct ServerMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : requests(prometheus::BuildCounter()
                     .Name("seam_inference_requests_total")
                     .Help("Inference requests answered, by outcome (success or failure)")
                     .Register(r)),
        inflight(prometheus::BuildGauge()
                     .Name("seam_inference_inflight_requests")
                     .Help("Inference requests accepted and not yet answered")
                     .Register(r)),
        request_seconds(prometheus::BuildHistogram()
                            .Name("seam_inference_request_duration_seconds")
                            .Help("Time from accepting a request to answering it")
                            .Register(r)),
        queue_seconds(prometheus::BuildHistogram()
                          .Name("seam_inference_queue_duration_seconds")
                          .Help("Time a request waited before the execution that served it")
                          .Register(r)),
        compute_seconds(prometheus::BuildHistogram()
                            .Name("seam_inference_compute_duration_seconds")
                            .Help("Time of the execution that served a request (its whole batch)")
                            .Register(r)),
        batch_size(prometheus::BuildHistogram()
                       .Name("seam_inference_batch_size")
                       .Help("Rows (batch dimension) per model execution")
                       .Register(r)),
        dropped(prometheus::BuildCounter()
                    .Name("seam_inference_dropped_total")
                    .Help("Requests dropped unrun because their deadline passed (reason "
                          "deadline) or their caller cancelled (reason cancelled) first")
                    .Register(r)),
        replays(prometheus::BuildCounter()
                    .Name("seam_inference_replays_total")
                    .Help("Requests with an idempotency key answered before, answered again from "
                          "the idempotency store without running")
                    .Register(r)),
        refusals(prometheus::BuildCounter()
                     .Name("seam_model_load_failures_total")
                     .Help("Loads and verifications of a model version that failed (code: the "
                           "error's, DATA_LOSS for files that do not match their hash or "
                           "signature); a version that serves keeps serving what it loaded before")
                     .Register(r)) {}

  Family<Counter>& requests;
  Family<Gauge>& inflight;
  Family<Histogram>& request_seconds;
  Family<Histogram>& queue_seconds;
  Family<Histogram>& compute_seconds;
  Family<Histogram>& batch_size;
  Family<Counter>& dropped;
  Family<Counter>& replays;
  Family<Counter>& refusals;
};

struct ServerMetrics::Series {
  Counter* success;
  Counter* failure;
  Gauge* inflight;
  Histogram* request_seconds;
  Histogram* queue_seconds;
  Histogram* compute_seconds;
  Histogram* batch_size;
  Counter* dropped_deadline;
  Counter* dropped_cancelled;
  Counter* replays;
};

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)) {}

ServerMetrics::~ServerMetrics() = default;

ServerMetrics::Series& ServerMetrics::For(const std::string& model, int64_t version) {
  std::lock_guard lock(mu_);
  auto& slot = series_[{model, version}];
  if (!slot) {
    const prometheus::Labels labels = {{"model", model}, {"version", std::to_string(version)}};
    auto with = [&](const char* name, const char* value) {
      prometheus::Labels l = labels;
      l.emplace(name, value);
      return l;
    };
    Families& f = *families_;
    slot = std::make_unique<Series>(Series{
        &f.requests.Add(with("outcome", "success")),
        &f.requests.Add(with("outcome", "failure")),
        &f.inflight.Add(labels),
        &f.request_seconds.Add(labels, TimeBuckets()),
        &f.queue_seconds.Add(labels, TimeBuckets()),
        &f.compute_seconds.Add(labels, TimeBuckets()),
        &f.batch_size.Add(labels, BatchBuckets()),
        &f.dropped.Add(with("reason", "deadline")),
        &f.dropped.Add(with("reason", "cancelled")),
        &f.replays.Add(labels),
    });
  }
  return *slot;
}

void ServerMetrics::OnRequest(const std::string& model, int64_t version, bool ok, int64_t queue_us,
                              int64_t compute_us) {
  Series& s = For(model, version);
  (ok ? s.success : s.failure)->Increment();
  // A job the scheduler refused (full queue, shutdown) never ran: it has no times to record.
  if (ok || compute_us > 0) {
    s.queue_seconds->Observe(Seconds(queue_us));
    s.compute_seconds->Observe(Seconds(compute_us));
  }
}

void ServerMetrics::OnBatch(const std::string& model, int64_t version, int64_t rows, int64_t) {
  For(model, version).batch_size->Observe(static_cast<double>(rows));
}

void ServerMetrics::OnDropped(const std::string& model, int64_t version, bool cancelled) {
  Series& s = For(model, version);
  (cancelled ? s.dropped_cancelled : s.dropped_deadline)->Increment();
}

void ServerMetrics::RequestReplayed(const std::string& model, int64_t version) noexcept {
  try {
    For(model, version).replays->Increment();
  } catch (...) {  // bad_alloc: the request goes on uncounted
  }
}

void ServerMetrics::RequestAccepted(const std::string& model, int64_t version) noexcept {
  try {
    For(model, version).inflight->Increment();
  } catch (...) {  // bad_alloc: the request goes on uncounted
  }
}

void ServerMetrics::RequestAnswered(const std::string& model, int64_t version,
                                    int64_t duration_us) noexcept {
  try {
    Series& s = For(model, version);
    s.inflight->Decrement();
    s.request_seconds->Observe(Seconds(duration_us));
  } catch (...) {
  }
}

void ServerMetrics::RequestRefused(const std::string& model, int64_t version) noexcept {
  try {
    For(model, version).failure->Increment();
  } catch (...) {
  }
}

void ServerMetrics::VersionRefused(const std::string& model, int64_t version,
                                   const std::string& code) noexcept {
  try {
    std::lock_guard lock(mu_);
    families_->refusals
        .Add({{"model", model}, {"version", std::to_string(version)}, {"code", code}})
        .Increment();
  } catch (...) {
  }
}

std::string ServerMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace seam::server
