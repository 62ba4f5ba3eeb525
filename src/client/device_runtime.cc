#include "client/device_runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "adapt/light_probe.h"
#include "adapt/probe_pacing.h"
#include "common/file_util.h"
#include "pipeline/stage_spec.h"
#include "plan/plan_file.h"

namespace seam::client {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A light probe's transfer shorter than this is within the round trip's noise: no rate from it.
constexpr double kMinTransferMs = 0.05;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// Times a run of `session` on zeros (dynamic dimensions 1), after one untimed run.
Result<double> WarmUp(const runtime::Session& session, pipeline::ComputeStretch& stretch) {
  TensorMap feed;
  for (const auto& in : session.inputs()) {
    std::vector<int64_t> shape = in.shape;
    for (auto& d : shape) d = d < 0 ? 1 : d;
    feed.emplace(in.name, seam::Tensor::Zeros(in.dtype, shape));
  }
  SEAM_RETURN_IF_ERROR(session.Run(feed).status());
  const auto start = Clock::now();
  SEAM_RETURN_IF_ERROR(session.Run(feed).status());
  return stretch.Apply(MsSince(start));
}

// Failures from above that say the tier is not delivering (as opposed to a bad request).
bool CountsAgainstTheTier(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted ||
         code == StatusCode::kDeadlineExceeded || code == StatusCode::kCancelled ||
         code == StatusCode::kInternal || code == StatusCode::kDataLoss;
}

// The remote part of a request the tiers above answered: the device's time minus its own work.
double RemoteMs(const pipeline::RequestTrace& trace) {
  const pipeline::TierTrace& mine = trace.tiers.front();
  return mine.total_ms - mine.compute_ms - mine.encode_ms - mine.decode_ms;
}

}  // namespace

Result<double> RequestDeadlineMs(const Options& options, double plan_slo_ms) {
  if (options.deadline_ms < 0 || std::isnan(options.deadline_ms)) {
    return InvalidArgument("the deadline must be positive (milliseconds), got " +
                           std::to_string(options.deadline_ms));
  }
  if (options.call_timeout_ms <= 0) {
    return InvalidArgument("the call timeout must be positive (milliseconds), got " +
                           std::to_string(options.call_timeout_ms));
  }
  if (options.deadline_ms > 0) return options.deadline_ms;
  if (plan_slo_ms > 0) return plan_slo_ms;
  return options.call_timeout_ms;
}

Result<std::unique_ptr<DeviceRuntime>> DeviceRuntime::Open(const std::string& plan_path,
                                                           const Options& options) {
  SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlan plan, plan::ReadExecutablePlan(plan_path));
  for (const auto& [tier, security] : options.security) {
    if (std::find(plan.tiers.begin() + 1, plan.tiers.end(), tier) == plan.tiers.end()) {
      return InvalidArgument("security for tier '" + tier + "': " + plan_path +
                             " has no server tier of that name (the device dials only those)");
    }
  }
  SEAM_ASSIGN_OR_RETURN(std::string stage_path, plan::DeviceStagePath(plan));
  pipeline::StageSpec spec;
  if (!options.trusted_keys.empty()) {
    SEAM_ASSIGN_OR_RETURN(auto trusted, pipeline::TrustedKeys::Load(options.trusted_keys));
    SEAM_ASSIGN_OR_RETURN(std::string verified, trusted->VerifiedStage(stage_path));
    SEAM_ASSIGN_OR_RETURN(spec, pipeline::ParseStage(verified, stage_path));
  } else {
    SEAM_ASSIGN_OR_RETURN(spec, pipeline::ReadStage(stage_path));
  }
  if (spec.plan_id != plan.id) {
    return FailedPrecondition(stage_path + " belongs to plan " + spec.plan_id + ", not to " +
                              plan_path + " (" + plan.id + "); deploy the plan again");
  }
  std::unique_ptr<DeviceRuntime> device(new DeviceRuntime());
  SEAM_ASSIGN_OR_RETURN(device->deadline_ms_, RequestDeadlineMs(options, plan.slo_ms));
  device->model_path_ = plan.model_path;
  device->adaptive_ = options.adaptive;
  device->light_probes_ = options.light_probes;
  if (!(options.probe_interval_ms > 0)) {
    return InvalidArgument("the probe interval must be positive (milliseconds), got " +
                           std::to_string(options.probe_interval_ms));
  }
  device->probe_interval_ =
      std::chrono::microseconds(static_cast<int64_t>(options.probe_interval_ms * 1e3));
  if (spec.next && !options.next_address.empty()) spec.next->address = options.next_address;
  const std::string directory = std::filesystem::path(stage_path).parent_path().string();
  pipeline::StageOptions stage_options;
  stage_options.hop.call_timeout_ms = options.call_timeout_ms;
  stage_options.hop.connect_timeout_ms = options.ready_timeout_ms;
  if (spec.next) {
    if (auto it = options.security.find(spec.next->tier); it != options.security.end()) {
      const HopSecurity& s = it->second;
      stage_options.hop.security = {
          .ca = s.ca, .cert = s.cert, .key = s.key, .token = s.token, .server_name = s.server_name};
    }
  }
  stage_options.compute_stretch = options.device_slowdown;
  if (!options.model_keys.empty()) {
    SEAM_ASSIGN_OR_RETURN(ModelKeys keys, ModelKeys::Load(options.model_keys, "model key"));
    stage_options.model_keys = std::make_shared<const ModelKeys>(std::move(keys));
  }
  device->fallback_stretch_ = std::make_unique<pipeline::ComputeStretch>(options.device_slowdown);
  device->segment_stretch_ = std::make_unique<pipeline::ComputeStretch>(options.device_slowdown);
  SEAM_ASSIGN_OR_RETURN(device->runner_,
                        pipeline::StageRunner::Open(spec, directory, stage_options));
  if (options.fallback && spec.fallback) {
    SEAM_ASSIGN_OR_RETURN(device->fallback_, pipeline::OpenSegment(directory, spec.fallback->file,
                                                                   spec.fallback->sha256, spec,
                                                                   stage_options.model_keys.get()));
    SEAM_ASSIGN_OR_RETURN(double fallback_ms,
                          WarmUp(*device->fallback_, *device->fallback_stretch_));
    device->fallback_ms_.Prime(fallback_ms);
  }
  if (options.fallback && !spec.fallback && spec.next) {
    device->no_fallback_reason_ =
        "the device cannot finish it itself: its plan deploys no fallback, the device being "
        "unable to hold the whole model (seam plan --memory)";
  }
  if (const runtime::Session* segment = device->runner_->session()) {
    SEAM_ASSIGN_OR_RETURN(double device_ms, WarmUp(*segment, *device->segment_stretch_));
    device->device_ms_.Prime(device_ms);
  }
  if (spec.next) {
    Status ready = device->runner_->hop()->WaitReady(spec.next->model, spec.next->version,
                                                     options.ready_timeout_ms);
    if (!ready.ok()) {
      if (!device->fallback_) return ready;
      // The device can answer alone: start with the tier's circuit open, not with a failure.
      device->breaker_.Trip(NowUs());
      device->last_remote_error_ = ready.message();
    }
  }
  return device;
}

DeviceRuntime::~DeviceRuntime() {
  std::thread probe;
  {
    std::unique_lock lock(mu_);
    probe = std::move(probe_);
    hedges_done_.wait(lock, [&] { return hedges_running_ == 0; });
  }
  if (probe.joinable()) probe.join();
}

void DeviceRuntime::RecordRemote(const Status& status, const pipeline::RequestTrace& trace,
                                 double elapsed_ms, bool fresh) const {
  // A probe's sample replaces an estimate that went stale; a request's is one more observation.
  auto observe = [&](double ms) {
    if (fresh) {
      remote_ms_.Prime(ms);
    } else {
      remote_ms_.Observe(ms);
    }
    last_remote_sample_ = Clock::now();
  };
  light_window_.Clear();  // the link was measured for real: light probes start over
  if (status.ok()) {
    breaker_.OnSuccess();
    const pipeline::TierTrace& mine = trace.tiers.front();
    if (mine.compute_ms > 0) device_ms_.Observe(mine.compute_ms);
    // A retried call's time spans a broken stream and a reconnection: no measure of the tiers.
    const bool retried = std::any_of(trace.links.begin(), trace.links.end(),
                                     [](const pipeline::LinkTrace& l) { return l.retries > 0; });
    if (!retried) {
      const double remote = RemoteMs(trace);
      observe(remote);
      if (!trace.links.empty()) {
        const pipeline::LinkTrace& link = trace.links.front();
        copy_bytes_ = link.up_bytes + link.down_bytes;
        link_.Observe(copy_bytes_, link.ms);
        // TrackedValue takes positive samples: a tier above that added nothing measurable.
        beyond_ms_.Observe(std::max(remote - link.ms, 1e-3));
      }
    }
    return;
  }
  if (CountsAgainstTheTier(status.code())) {
    breaker_.OnFailure(NowUs());
    last_remote_error_ = status.message();
  }
  // A remote part given up after its budget would have taken longer than that, by an unknown
  // amount: strong evidence that the link or tier slowed down (a single slow answer is not given
  // up: the budget is twice the prediction). The estimate jumps to 1.5x the time waited, so the
  // next requests are routed by it at once; probes bring it back down if it was a blip.
  if (status.code() == StatusCode::kDeadlineExceeded) {
    const double waited = elapsed_ms - device_ms_.value();
    remote_ms_.Prime(std::max(remote_ms_.value(), 1.5 * waited));
    // The request's bytes did not cross in that time: the link is at most that fast, which
    // sizes the first light probe (the estimate from before the change would make it large).
    if (copy_bytes_ > 0 && waited > 0) {
      const double bound = static_cast<double>(copy_bytes_) * 8 / (waited * 1e3);
      light_mbps_ = adapt::SlowerKnownRate(light_mbps_, bound);
    }
    last_remote_sample_ = Clock::now();
  }
}

void DeviceRuntime::StartProbe(const TensorMap& inputs) const {
  if (probe_.joinable()) probe_.join();  // the previous probe has finished (probing_ was false)
  probe_ = std::thread([this, inputs] {
    if (light_probes_ && !LightProbeWantsCopy()) return;
    const auto start = Clock::now();
    double cap_ms = 0, device_ms = 0;
    {
      std::lock_guard lock(mu_);
      device_ms = device_ms_.value();
      cap_ms = std::min(deadline_ms_, adapt::ProbeCapMs(device_ms, device_ms + fallback_ms_.value(),
                                                        adapt::RouteConfig{}.hysteresis));
    }
    pipeline::RequestTrace trace;
    auto result = runner_->Run(
        inputs, &trace,
        {.deadline = start + std::chrono::microseconds(static_cast<int64_t>(cap_ms * 1e3))});
    std::lock_guard lock(mu_);
    // A probe that answered faster than the estimate shows the tiers are at least that fast now
    // (noise can slow an answer, not speed it up much): it replaces the estimate, so a recovered
    // link is used at once. A slower answer is one more observation, so a blip does not flip the
    // route; an estimate with no sample for several intervals is replaced outright too.
    const double waited = MsSince(start);
    last_probe_ms_ = waited;
    probe_share_ = adapt::kProbeShare;
    probing_ = false;
    if (result.status().code() == StatusCode::kDeadlineExceeded) {
      // Cut at its cap (adapt::ProbeCapMs): the tiers above are slower than the device would
      // need to send, which is all the route needs to know. A lower bound, not a failure: a slow
      // link must not open the circuit.
      remote_ms_.Prime(std::max(remote_ms_.value(), cap_ms - 2 * device_ms));
      last_remote_sample_ = Clock::now();
      if (copy_bytes_ > 0) {  // as for a request given up (RecordRemote)
        const double bound = static_cast<double>(copy_bytes_) * 8 / (cap_ms * 1e3);
        light_mbps_ = adapt::SlowerKnownRate(light_mbps_, bound);
      }
      return;
    }
    const bool faster = result.ok() && remote_ms_.known() && RemoteMs(trace) < remote_ms_.value();
    const bool stale =
        Clock::now() - last_remote_sample_ >
        4 * probe_interval_ + std::chrono::microseconds(static_cast<int64_t>(waited * 1e3));
    RecordRemote(result.status(), trace, waited, /*fresh=*/faster || stale);
  });
}

Status DeviceRuntime::MeasureLink(uint64_t bytes, double cap_ms, double* tiny_ms,
                                  double* sized_ms) const {
  if (!spec().next) return FailedPrecondition("the plan sends nothing up: no link to measure");
  oip::HopClient* hop = runner_->hop();
  const oip::Deadline deadline =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(cap_ms * 1e3));
  // The sized call first: anything queued on the link before the probe delays it, not the round
  // trip measured after it, so that traffic makes the link look slower, never faster.
  SEAM_ASSIGN_OR_RETURN(*sized_ms, hop->MeasureLink(bytes, deadline));
  const oip::Deadline tiny_deadline =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(cap_ms * 1e3));
  SEAM_ASSIGN_OR_RETURN(*tiny_ms, hop->MeasureLink(adapt::kLightProbeTinyBytes, tiny_deadline));
  return Status::Ok();
}

bool DeviceRuntime::LightProbeWantsCopy() const {
  uint64_t bytes = 0;
  double cap_ms = 0;
  {
    std::lock_guard lock(mu_);
    if (!beyond_ms_.known() || copy_bytes_ == 0) return true;
    // Sized from the slower of the link's estimate and what the last light probe found: the
    // estimate needs several samples to confirm a change, and a probe too large costs the link.
    const double mbps = adapt::SlowerKnownRate(light_mbps_, link_.mbps());
    bytes = adapt::LightProbeBytes(mbps, copy_bytes_);
    if (bytes == 0) return true;  // the copy is no dearer than a light probe
    // A light probe only tells about the link: when the link takes less of a request's time than
    // the tiers above do (loopback, a fast LAN), what keeps requests local is the tiers, and only
    // a copy measures them.
    const double link_ms =
        link_.rtt_ms() + (mbps > 0 ? static_cast<double>(copy_bytes_) * 8 / (mbps * 1e3) : 0);
    if (link_ms < beyond_ms_.value()) return true;
    if (MsSince(last_remote_sample_) >= adapt::ForcedCopyPauseMs(link_ms)) return true;
    const double device_ms = device_ms_.value();
    const double local_ms = device_ms + fallback_ms_.value();
    const double switch_remote_ms = local_ms / (1 + adapt::RouteConfig{}.hysteresis) - device_ms;
    // The tiers above, not the link, keep requests local: only a copy measures them.
    if (switch_remote_ms <= beyond_ms_.value()) return true;
    // As long as a copy would be given: a light probe is a quarter of a copy at most.
    cap_ms = std::min(deadline_ms_,
                      adapt::ProbeCapMs(device_ms, local_ms, adapt::RouteConfig{}.hysteresis));
  }
  double tiny_ms = 0, sized_ms = 0;
  const Status measured = MeasureLink(bytes, cap_ms, &tiny_ms, &sized_ms);
  std::lock_guard lock(mu_);
  const bool cut = measured.code() == StatusCode::kDeadlineExceeded && sized_ms == 0;
  last_probe_ms_ = adapt::LightProbeLinkMs(tiny_ms, sized_ms);
  probe_share_ = adapt::kLightProbeShare;
  light_probe_at_ = Clock::now();
  bool copy = false;
  char note[160];
  if (measured.ok()) {
    link_.Observe(adapt::kLightProbeTinyBytes, tiny_ms);
    link_.Observe(bytes, sized_ms);
    adapt::RouteSnapshot snapshot = Snapshot(deadline_ms_);
    light_window_.Add(tiny_ms, bytes, sized_ms);
    const double link_ms = light_window_.OptimisticLinkMs(copy_bytes_);
    snapshot.remote_ms = adapt::RepredictRemoteMs(beyond_ms_.value(), link_ms);
    snapshot.was_local = true;
    copy = adapt::DecideRoute(snapshot).kind == adapt::Route::Kind::kRemote;
    const double extra_ms = sized_ms - tiny_ms;
    if (extra_ms >= kMinTransferMs) {
      light_mbps_ = static_cast<double>(bytes) * 8 / (extra_ms * 1e3);
      std::snprintf(note, sizeof(note),
                    "a light probe found the link at %.3g Mbit/s, %.3g ms round trip: a request "
                    "would spend %.0f ms on it",
                    light_mbps_, tiny_ms, link_ms);
    } else {  // crossed within the round trip's noise: fast, by how much it cannot tell
      std::snprintf(note, sizeof(note),
                    "a light probe of %llu bytes crossed the link within its %.3g ms round trip",
                    static_cast<unsigned long long>(bytes), tiny_ms);
    }
    light_note_ = note;
  } else if (cut) {
    // Cut at a copy's cap: the link is slower than sending could use. A lower bound on its time,
    // which brings the next probe's size down.
    link_.Observe(bytes, cap_ms);
    light_mbps_ = static_cast<double>(bytes) * 8 / (cap_ms * 1e3);
    std::snprintf(note, sizeof(note),
                  "a light probe of %llu bytes was not answered within %.0f ms: the link is "
                  "slower than %.3g Mbit/s",
                  static_cast<unsigned long long>(bytes), cap_ms, light_mbps_);
    light_note_ = note;
  } else {
    light_note_ = "a light probe failed: " + measured.message();
    // An unreachable tier is a failure as a copy's would be: the breaker opens after three, the
    // route says why, and a half-open request tries the tier again.
    if (CountsAgainstTheTier(measured.code()) && measured.code() != StatusCode::kDeadlineExceeded) {
      breaker_.OnFailure(NowUs());
      last_remote_error_ = measured.message();
    }
  }
  // Unreachable or unanswered: no copy; the route stays local and the next probe asks again.
  if (!copy) probing_ = false;
  return copy;
}

bool DeviceRuntime::NextAllowed() const {
  if (!spec().next) return false;
  std::lock_guard lock(mu_);
  return breaker_.state(NowUs()) != adapt::CircuitBreaker::State::kOpen;
}

bool DeviceRuntime::NextClosed() const {
  if (!spec().next) return false;
  std::lock_guard lock(mu_);
  return breaker_.state(NowUs()) == adapt::CircuitBreaker::State::kClosed;
}

double DeviceRuntime::DeviceMs() const {
  std::lock_guard lock(mu_);
  return device_ms_.known() ? device_ms_.value() : 0;
}

Status DeviceRuntime::Probe(const TensorMap& inputs, pipeline::RequestTrace& trace,
                            double cap_ms) const {
  if (!spec().next) return FailedPrecondition("the plan sends nothing up: nothing to probe");
  const auto start = Clock::now();
  trace = {};
  auto result = runner_->Run(
      inputs, &trace,
      {.deadline = start + std::chrono::microseconds(static_cast<int64_t>(cap_ms * 1e3))});
  std::lock_guard lock(mu_);
  RecordRemote(result.status(), trace, MsSince(start), /*fresh=*/result.ok());
  return result.status();
}

std::string DeploymentKey(const pipeline::StageSpec& s) {
  return s.plan_id + (s.next ? "|" + s.next->model + "|" + std::to_string(s.next->version) : "");
}

std::string DeviceRuntime::DeploymentKey() const { return client::DeploymentKey(spec()); }

adapt::RouteSnapshot DeviceRuntime::Snapshot(double ms_left) const {
  adapt::RouteSnapshot s;
  s.ms_left = ms_left;
  s.device_ms = device_ms_.value();
  if (remote_ms_.known() && adaptive_) s.remote_ms = remote_ms_.value();  // else always tried
  if (fallback_) s.fallback_ms = fallback_ms_.value();
  s.next_allowed = breaker_.state(NowUs()) != adapt::CircuitBreaker::State::kOpen;
  s.was_local = was_local_;
  return s;
}

Result<TensorMap> DeviceRuntime::RunLocally(const TensorMap& inputs, TensorMap computed,
                                            bool device_ran, pipeline::TierTrace& mine) const {
  TensorMap made = std::move(computed);
  if (!device_ran && runner_->session()) {
    const auto start = Clock::now();
    SEAM_ASSIGN_OR_RETURN(made, runner_->session()->Run(inputs));
    const double ms = segment_stretch_->Apply(MsSince(start));
    mine.compute_ms += ms;
    std::lock_guard lock(mu_);
    device_ms_.Observe(ms);
  }
  // The fallback reads what the device would have sent up: tensors it made, or model inputs.
  TensorMap feed;
  for (const auto& in : fallback_->inputs()) {
    if (auto it = made.find(in.name); it != made.end()) {
      feed.emplace(in.name, it->second);
    } else if (auto it = inputs.find(in.name); it != inputs.end()) {
      feed.emplace(in.name, it->second);
    } else {
      return Internal("the device's fallback reads '" + in.name +
                      "', which the device neither received nor made");
    }
  }
  const auto start = Clock::now();
  auto rest = fallback_->Run(feed);
  if (!rest.ok()) return rest.status().WithContext(spec().tier + " fallback");
  const double ms = fallback_stretch_->Apply(MsSince(start));
  mine.compute_ms += ms;
  {
    std::lock_guard lock(mu_);
    fallback_ms_.Observe(ms);
  }
  TensorMap outputs;
  for (const auto& out : spec().outputs) {
    if (auto it = rest->find(out.name); it != rest->end()) {
      outputs.emplace(out.name, std::move(it->second));
    } else if (auto it = made.find(out.name); it != made.end()) {
      outputs.emplace(out.name, std::move(it->second));
    } else if (auto it = inputs.find(out.name); it != inputs.end()) {
      outputs.emplace(out.name, it->second);
    } else {
      return Internal("output '" + out.name + "' was made neither by the device nor its fallback");
    }
  }
  return outputs;
}

Result<TensorMap> DeviceRuntime::Run(const TensorMap& inputs, pipeline::RequestTrace* trace,
                                     Status* remote_error) const {
  const auto start = Clock::now();
  const oip::Deadline deadline =
      start + std::chrono::microseconds(static_cast<int64_t>(deadline_ms_ * 1e3));
  pipeline::RequestTrace scratch;
  pipeline::RequestTrace& t = trace ? *trace : scratch;
  t = {};
  if (!spec().next) return runner_->Run(inputs, &t, {.deadline = deadline});

  adapt::Route route;
  {
    std::lock_guard lock(mu_);
    const adapt::RouteSnapshot snapshot = Snapshot(deadline_ms_);
    route = adapt::DecideRoute(snapshot);
    if (!adaptive_ && route.kind == adapt::Route::Kind::kRemote) {
      route.reason = "sent: as planned (adaptation off)";
    }
    // Staying local with a remote estimate that is getting old (not for an open circuit, whose
    // half-open probe is a real request): measure the tiers above in the background.
    if (route.kind == adapt::Route::Kind::kLocal && snapshot.next_allowed && !probing_ &&
        MsSince(std::max(last_remote_sample_, light_probe_at_)) >=
            adapt::ProbePauseMs(probe_interval_.count() / 1e3, last_probe_ms_, probe_share_)) {
      probing_ = true;
      StartProbe(inputs);
    }
    was_local_ = route.kind == adapt::Route::Kind::kLocal && !route.degraded;
    // What the device knows of the link since its last measure of the tiers above.
    if (was_local_ && !light_note_.empty() && light_probe_at_ > last_remote_sample_) {
      char ago[48];
      std::snprintf(ago, sizeof(ago), " (%.1f s ago)", MsSince(light_probe_at_) / 1e3);
      route.reason += "; " + light_note_ + ago;
    }
    if (!snapshot.next_allowed && !last_remote_error_.empty()) {
      route.reason += "; last error: " + last_remote_error_;
    }
    // Half-open: only one request probes the tier; the others stay local meanwhile.
    if (route.kind == adapt::Route::Kind::kRemote && fallback_ && !breaker_.Allow(NowUs())) {
      route = {adapt::Route::Kind::kLocal, 0,
               "local: the next tier's circuit is half-open and another request is probing it",
               /*degraded=*/true};
    }
  }
  t.route = route.reason;
  auto finish_locally = [&](TensorMap computed, bool device_ran, bool degraded,
                            const std::string& reason) -> Result<TensorMap> {
    pipeline::TierTrace mine{.tier = spec().tier};
    auto outputs = RunLocally(inputs, std::move(computed), device_ran, mine);
    mine.total_ms = MsSince(start);
    t.tiers = {mine};
    t.links.clear();
    t.degraded = degraded;
    t.degraded_reason = degraded ? reason : "";
    return outputs;
  };
  if (route.kind == adapt::Route::Kind::kLocal) {
    return finish_locally({}, false, route.degraded, route.reason);
  }

  const oip::Deadline remote_deadline =
      std::isinf(route.remote_budget_ms)
          ? deadline
          : oip::Deadline{start + std::chrono::microseconds(
                                      static_cast<int64_t>(route.remote_budget_ms * 1e3))};
  if (fallback_ && adaptive_ && !std::isinf(route.remote_budget_ms)) {
    return RunHedged(inputs, t, start, deadline, remote_deadline, remote_error);
  }
  TensorMap computed;
  bool next_failed = false;
  auto result = runner_->Run(inputs, &t,
                             {.deadline = oip::Earliest(remote_deadline, deadline),
                              .computed = &computed,
                              .next_failed = &next_failed});
  if (result.ok() || next_failed) {
    std::lock_guard lock(mu_);
    RecordRemote(result.status(), t, MsSince(start), /*fresh=*/false);
  }
  if (result.ok()) return result;
  if (!next_failed) return result;  // the device's own segment failed: nothing to fall back on
  if (remote_error) *remote_error = result.status();
  if (!fallback_) {
    if (no_fallback_reason_.empty()) return result;
    return Status(result.status().code(), result.status().message() + "; " + no_fallback_reason_);
  }
  return finish_locally(std::move(computed), runner_->session() != nullptr, /*degraded=*/true,
                        "fallback: " + result.status().message());
}

// What a hedged request shares with the local run it may start (which can outlive the request
// when the tiers above answer first).
struct HedgeState {
  std::mutex mu;
  std::condition_variable cv;
  bool remote_done = false;  // the request no longer waits on the tiers above
  bool local_started = false, local_done = false;
  TensorMap inputs;  // the local run's own copy, taken under mu while the request still waits
  Result<TensorMap> local = Internal("no local run");
  pipeline::TierTrace mine;
  double local_started_ms = 0;
  std::atomic<bool> stop_remote{false};  // the local run answered: stop waiting on the tiers
};

Result<TensorMap> DeviceRuntime::RunHedged(const TensorMap& inputs, pipeline::RequestTrace& t,
                                           Clock::time_point start, oip::Deadline deadline,
                                           oip::Deadline give_up, Status* remote_error) const {
  auto hedge = std::make_shared<HedgeState>();
  {
    std::lock_guard lock(mu_);
    ++hedges_running_;
  }
  // Waits until give_up (or the end of the remote part), then runs the request on the device.
  std::thread([this, hedge, &inputs, start, give_up] {
    {
      std::unique_lock lock(hedge->mu);
      hedge->cv.wait_until(lock, *give_up, [&] { return hedge->remote_done; });
      if (!hedge->remote_done) {
        hedge->local_started = true;
        hedge->local_started_ms = MsSince(start);
        hedge->inputs = inputs;  // the request is still waiting, so `inputs` is alive
      }
    }
    if (hedge->local_started) {
      hedge->mine.tier = spec().tier;
      auto local = RunLocally(hedge->inputs, {}, /*device_ran=*/false, hedge->mine);
      std::lock_guard lock(hedge->mu);
      // Only an answer stops the wait on the tiers above: a failed local run leaves them a chance.
      if (local.ok()) hedge->stop_remote = true;
      hedge->local = std::move(local);
      hedge->local_done = true;
      hedge->cv.notify_all();
    }
    std::lock_guard lock(mu_);
    if (--hedges_running_ == 0) hedges_done_.notify_all();
  }).detach();

  TensorMap computed;
  bool next_failed = false;
  auto result = runner_->Run(inputs, &t,
                             {.deadline = deadline,
                              .computed = &computed,
                              .next_failed = &next_failed,
                              .cancelled = &hedge->stop_remote});
  bool local_started = false;
  double local_started_ms = 0;
  {
    std::lock_guard lock(hedge->mu);
    hedge->remote_done = true;
    local_started = hedge->local_started;
    local_started_ms = hedge->local_started_ms;
    hedge->cv.notify_all();
  }
  const double elapsed = MsSince(start);
  if (result.ok()) {
    std::lock_guard lock(mu_);
    RecordRemote(result.status(), t, elapsed, /*fresh=*/false);
    // The device's own run, started when the answer was late, finishes in the background.
    if (local_started) t.route += "; answered after the device had started the request too";
    return result;
  }
  if (!next_failed) return result;  // the device's own segment failed: nothing to fall back on
  Status remote = result.status();
  if (local_started && remote.code() == StatusCode::kCancelled) {
    // The device answered first and the call was cancelled: the tiers above had not answered by
    // then, which is what the estimates learn (a late answer, by an unknown amount).
    remote = DeadlineExceeded(spec().next->tier + " had not answered after " +
                              std::to_string(static_cast<int>(local_started_ms)) +
                              " ms, when the device started the request itself");
  }
  {
    std::lock_guard lock(mu_);
    RecordRemote(remote, t, elapsed, /*fresh=*/false);
  }
  if (remote_error) *remote_error = remote;
  Result<TensorMap> outputs = Internal("no answer");
  pipeline::TierTrace mine{.tier = spec().tier};
  if (local_started) {
    std::unique_lock lock(hedge->mu);
    hedge->cv.wait(lock, [&] { return hedge->local_done; });
    outputs = std::move(hedge->local);
    mine = hedge->mine;
  } else {
    // The tiers above failed before give_up: finish from what the device holds.
    outputs = RunLocally(inputs, std::move(computed), runner_->session() != nullptr, mine);
  }
  mine.total_ms = MsSince(start);
  t.tiers = {mine};
  t.links.clear();
  t.degraded = true;
  t.degraded_reason = "fallback: " + remote.message();
  return outputs;
}

}  // namespace seam::client
