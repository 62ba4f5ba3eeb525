// PlanSetRuntime: the device's side of a deployed plan set (plan/plan_set_file.h), behind
// client::Client. It holds a DeviceRuntime per plan of the set (each with its own hop, fallback
// and circuit breaker) and what the device has learnt of the tiers and links they share: per link
// a LinkEstimator (RTT and bandwidth from the bytes and times of real transfers), per tier a
// TierEstimator (measured / predicted compute: a speed factor), fed by every request's trace.
// For each request it re-predicts every plan from its cost terms under those estimates
// (microseconds), chooses with adapt::ChoosePlan (hysteresis; a plan whose next tier's circuit is
// open is skipped) and runs the chosen plan's DeviceRuntime, whose own routing still falls back
// to the device when the tiers above fail or run late. The trace names the plan and why.
//
// Links that the chosen plan does not cross get no samples, so a link that recovered would never
// be noticed: while one has had no sample for probe_interval_ms, one request in the background is
// also sent through the fastest plan that crosses it (a copy; its answer only feeds the
// estimates). A plan whose remote part ran out of time is held at 1.5x the time it took until a
// request or probe through it succeeds.
//
// A lone plan (seam.plan/v1) opens as a set of one: no choice, its DeviceRuntime as before.
// Thread safety: Run may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapt/estimators.h"
#include "adapt/light_probe.h"
#include "client/device_runtime.h"
#include "plan/plan_set_file.h"

namespace seam::client {

class PlanSetRuntime {
 public:
  static Result<std::unique_ptr<PlanSetRuntime>> Open(const std::string& path,
                                                      const Options& options);
  ~PlanSetRuntime();  // waits for a probe in flight (bounded by its cap)

  Result<TensorMap> Run(const TensorMap& inputs, pipeline::RequestTrace* trace,
                        Status* remote_error = nullptr) const;

  // The device stage of the set's first plan (every plan has the same inputs and outputs).
  const pipeline::StageSpec& spec() const { return members_.front().runtime->spec(); }
  const std::string& model_path() const { return members_.front().runtime->model_path(); }
  // Which deployment of every plan this is (DeploymentKeyOf: equal while nothing was redeployed).
  std::string DeploymentKey() const;
  size_t size() const { return members_.size(); }

 private:
  struct Member {
    std::unique_ptr<DeviceRuntime> runtime;
    plan::PlanSetEntry entry;
    std::string name;  // "m1 (device 12 | edge 88)"
  };
  PlanSetRuntime() = default;
  plan::PlanConditions Conditions() const;  // caller holds mu_
  double PredictMs(size_t member, const plan::PlanConditions& c, bool with_hold) const;
  // Feeds the estimators from a trace of `member` (caller holds mu_).
  void Observe(size_t member, const pipeline::RequestTrace& trace) const;
  // A link that the chosen plan does not cross and that has had no sample lately: probe it in
  // the background through the fastest plan that crosses it (caller holds mu_).
  void MaybeProbe(const TensorMap& inputs, size_t chosen) const;
  // Light probes (adapt/light_probe.h) of the device's own link before a copy through `pick`:
  // the payload (0: send the copy) and, on the probe thread, whether the copy should follow
  // (`pick` would be chosen with the link as measured); when not, the probe is over.
  uint64_t LightProbeBytes(size_t pick, size_t k) const;  // caller holds mu_
  bool LightProbeWantsCopy(size_t pick, size_t k, uint64_t bytes, double cap_ms) const;
  // Conditions `c` lie beyond the set's range: plan again for them (the planner, from the inputs
  // the set recorded), in the background and at most every kReplanEvery. If the plan it finds is
  // not in the set, it is written beside the set (SET.replan.json) for `seam deploy`; either way
  // replan_note_ says what it found (caller holds mu_).
  void MaybeReplan(const plan::PlanConditions& c) const;
  std::string ReplanAge() const;  // "re-planned 3.2 s ago for what was measured then: "

  plan::ExecutablePlanSet set_;
  std::vector<Member> members_;
  std::chrono::microseconds probe_interval_{100000};
  double deadline_ms_ = 0;

  mutable std::mutex mu_;  // guards everything below
  mutable std::vector<adapt::LinkEstimator> links_;
  mutable std::vector<adapt::TierEstimator> tiers_;
  mutable std::vector<std::chrono::steady_clock::time_point> link_sampled_;
  mutable std::vector<double> link_probe_ms_;  // how long each link's last probe took (pacing)
  // Per link: the share of its time the last probe's kind may take (light or copy), the rate the
  // last light probe found (0: none), when a copy last crossed it.
  mutable std::vector<double> link_probe_share_;
  mutable std::vector<double> link_light_mbps_;
  mutable std::vector<std::chrono::steady_clock::time_point> link_copied_;
  // What the last light probe of each link found (for the plan's reason), and when.
  mutable std::vector<std::string> link_light_note_;
  mutable std::vector<adapt::LightProbeWindow> link_windows_;  // light probes since a real sample
  mutable std::vector<int> link_copies_left_;  // copies to send before light probes again
  mutable std::vector<std::chrono::steady_clock::time_point> link_light_at_;
  bool light_probes_ = true;
  mutable std::vector<double> hold_ms_;  // per member: 0, or its floor after running out of time
  mutable int current_ = -1;
  mutable bool probing_ = false;
  mutable std::thread probe_;
  mutable bool replanning_ = false;
  mutable std::chrono::steady_clock::time_point last_replan_{};
  mutable std::string replan_note_;
  mutable std::chrono::steady_clock::time_point replanned_at_{};
  mutable std::thread replan_;
  // Built by the first re-plan, from the set's planning inputs (touched by the replan thread only).
  mutable std::unique_ptr<plan::PlanRequest> replan_request_;
};

// The deployment of every plan in the plan or plan-set file at `path`, as its files record it
// now: equal to a PlanSetRuntime's DeploymentKey() until the set or a plan is deployed again.
Result<std::string> DeploymentKeyOf(const std::string& path);

}  // namespace seam::client
