// DeviceRuntime: the device's side of one deployed plan, behind client::Client. It owns the
// device's stage (its segment and the hop to the next tier), the fallback segment (the rest of
// the model, deployed beside the stage), and what the device has measured so far: the latency of
// its own segment, of the remote part (from sending to the answer), of the fallback, and a circuit
// breaker on the next tier. Each request is routed from those (adapt::DecideRoute): sent with the
// fallback in reserve, or finished on the device; a remote part that fails or runs out of its
// budget is finished by the fallback, flagged degraded. Nothing here prints.
//
// Thread safety: Run may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapt/circuit_breaker.h"
#include "adapt/estimators.h"
#include "adapt/light_probe.h"
#include "adapt/route_policy.h"
#include "adapt/tracked_value.h"
#include "common/status.h"
#include "common/tensor.h"
#include "oip/deadline.h"
#include "pipeline/stage_runner.h"
#include "pipeline/trace.h"
#include "runtime/session.h"
#include "seam/client.h"

namespace seam::client {

class DeviceRuntime {
 public:
  // Reads the plan and its deployment, opens the device's segment and fallback, measures both
  // once (warm-up), and waits for the next tier to serve its stage (without a fallback, a tier
  // that is not ready fails Open; with one, its circuit starts open and requests run locally
  // until it answers).
  static Result<std::unique_ptr<DeviceRuntime>> Open(const std::string& plan_path,
                                                     const Options& options);
  ~DeviceRuntime();  // waits for a probe in flight (bounded: see StartProbe)

  // `inputs`: every input of the device stage, already checked against it. When the tiers above
  // failed, `*remote_error` (may be null) receives their error, whether or not the fallback then
  // answered (the client uses it to notice a redeployment).
  Result<TensorMap> Run(const TensorMap& inputs, pipeline::RequestTrace* trace,
                        Status* remote_error = nullptr) const;

  const pipeline::StageSpec& spec() const { return runner_->spec(); }
  const std::string& model_path() const { return model_path_; }
  // Which deployment this is (DeploymentKey of its stage).
  std::string DeploymentKey() const;
  bool has_fallback() const { return fallback_ != nullptr; }
  // Whether a request may be sent up now: there is a next tier and its circuit is not open.
  bool NextAllowed() const;
  // Whether its circuit is closed: the next tier answered its last calls (not merely due a
  // half-open probe after failing).
  bool NextClosed() const;
  // What the device's own segment takes now (its estimate; 0 when it runs none).
  double DeviceMs() const;
  // Sends a copy of a request through the tiers above whatever the route would be, waiting at
  // most `cap_ms`; its answer feeds this runtime's estimates like a request's and `trace` says
  // what each tier and link took. For a plan set's background measurements (plan_set_runtime.h).
  Status Probe(const TensorMap& inputs, pipeline::RequestTrace& trace, double cap_ms) const;
  // A light probe of the link to the next tier (adapt/light_probe.h): `bytes`, then a tiny
  // payload, each to a model no server has and cut at `cap_ms`; their times go to `sized_ms` and
  // `tiny_ms` (DEADLINE_EXCEEDED with `sized_ms` 0: the sized call was cut).
  Status MeasureLink(uint64_t bytes, double cap_ms, double* tiny_ms, double* sized_ms) const;

 private:
  DeviceRuntime() = default;
  // The device segment then the fallback, from `inputs` (and `computed`, the device segment's
  // outputs when it already ran).
  Result<TensorMap> RunLocally(const TensorMap& inputs, TensorMap computed, bool device_ran,
                               pipeline::TierTrace& mine) const;
  adapt::RouteSnapshot Snapshot(double ms_left) const;  // caller holds mu_
  // While requests stay on the device, the remote estimate would never change: every
  // probe_interval_ one request is also sent up in the background (a copy; its answer only feeds
  // the estimates), so that a link or tier that recovered is noticed without a request paying for
  // it. Caller holds mu_ and has set probing_.
  void StartProbe(const TensorMap& inputs) const;
  // On the probe thread, before a copy: measures the first link alone (adapt/light_probe.h) and
  // says whether the copy should follow -- the link could now make sending win, nothing is known
  // yet to re-predict from, or the last copy is old. When it says no, the probe is over.
  bool LightProbeWantsCopy() const;
  void RecordRemote(const Status& status, const pipeline::RequestTrace& trace, double elapsed_ms,
                    bool fresh) const;  // caller holds mu_
  // The remote part of a request with the fallback in reserve, hedged: when the tiers above have
  // not answered by `give_up`, the device starts the request itself and keeps waiting for them;
  // whichever finishes first answers (a late remote answer, had the device fallen back at
  // give_up, would have cost give_up + the local run; now it costs what it takes). `t` receives
  // the winner's trace.
  Result<TensorMap> RunHedged(const TensorMap& inputs, pipeline::RequestTrace& t,
                              std::chrono::steady_clock::time_point start, oip::Deadline deadline,
                              oip::Deadline give_up, Status* remote_error) const;

  std::string model_path_;
  double deadline_ms_ = 0;
  bool adaptive_ = true;
  std::chrono::microseconds probe_interval_{100000};
  // Options::device_slowdown for the fallback's runs (the runner stretches the segment's); for
  // the segment's runs outside the runner, segment_stretch_.
  std::unique_ptr<pipeline::ComputeStretch> fallback_stretch_, segment_stretch_;
  std::unique_ptr<pipeline::StageRunner> runner_;
  std::unique_ptr<runtime::Session> fallback_;  // null: none deployed, or disabled
  // Why there is no fallback although one was wanted (the plan's device cannot hold the model),
  // added to the error of a request the tiers above could not answer.
  std::string no_fallback_reason_;

  mutable std::mutex mu_;  // guards the estimates and the breaker
  mutable adapt::TrackedValue device_ms_, remote_ms_, fallback_ms_;
  // Probes a tier that failed at least once a second: with the fallback in reserve a probe costs
  // little, and a returning tier is used again soon.
  mutable adapt::CircuitBreaker breaker_{
      {.failures_to_open = 3, .open_ms = 200, .max_open_ms = 1000}};
  mutable std::string last_remote_error_;  // why the breaker counted a failure, for the trace
  // When remote_ms_ last had a sample, and the background probe (StartProbe).
  mutable std::chrono::steady_clock::time_point last_remote_sample_{};
  mutable bool probing_ = false;
  mutable double last_probe_ms_ = 0;  // how long the last background probe took (pacing)
  // Light probes: the first link as requests, copies and light probes measured it; what the
  // tiers above added beyond it; the bytes a request sends over it (both ways); when the last
  // light probe ended.
  bool light_probes_ = true;
  mutable adapt::LinkEstimator link_;
  mutable adapt::TrackedValue beyond_ms_;
  mutable uint64_t copy_bytes_ = 0;
  mutable std::chrono::steady_clock::time_point light_probe_at_{};
  mutable adapt::LightProbeWindow light_window_;  // the light probes since the last real sample
  mutable std::string light_note_;     // what the last light probe found, for the route's reason
  mutable double light_mbps_ = 0;      // the link's rate as the last light probe saw it (0: none)
  mutable double probe_share_ = 0.25;  // of the link's time, for the last probe's kind (pacing)
  mutable std::thread probe_;
  mutable bool was_local_ = false;  // the last route was local by choice (hysteresis)
  // Local runs a hedged request started and then no longer needed (the tiers above answered
  // first) finish in the background; the destructor waits for them.
  mutable int hedges_running_ = 0;  // guarded by mu_
  mutable std::condition_variable hedges_done_;
};

// Which deployment a device stage belongs to: its plan and the version it sends to.
std::string DeploymentKey(const pipeline::StageSpec& spec);

// The deadline a client applies to every request: Options::deadline_ms, else the plan's SLO, else
// call_timeout_ms. INVALID_ARGUMENT for a negative one.
Result<double> RequestDeadlineMs(const Options& options, double plan_slo_ms);

}  // namespace seam::client
