#include "client/plan_set_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "adapt/light_probe.h"
#include "adapt/plan_choice.h"
#include "adapt/probe_pacing.h"
#include "common/file_util.h"
#include "pipeline/stage_spec.h"
#include "plan/plan_file.h"
#include "plan/plan_output.h"
#include "plan/planner.h"
#include "plan/request_builder.h"

namespace seam::client {
namespace {

using Clock = std::chrono::steady_clock;

// A probe waits at most this long (or twice the chosen plan's prediction, if longer).
constexpr double kMinProbeCapMs = 250;
// Tiers whose predicted work in a plan is below this (a relay's per-run overhead) say nothing
// about their speed.
constexpr double kMinPredictedMs = 0.05;
// How often the device may re-plan while it measures conditions beyond its set's range.
constexpr auto kReplanEvery = std::chrono::seconds(5);
// Copies that follow one a light probe called for, so that the link's estimate confirms the
// change (adapt::TrackerConfig::confirm samples in a row) rather than creeping towards it.
constexpr int kCopiesToConfirm = adapt::TrackerConfig{}.confirm - 1;

// A re-planned placement is proposed when predicted this much faster than the set's best.
constexpr double kReplanGain = 0.05;
// A server's queueing delay worth naming in a choice's reason.
constexpr double kReportedQueueMs = 1;

// What to plan a set for, from what is measured: "plan a set for these links: seam plan --set
// --link device-edge=3.2mbit,12.0ms ..." (round trips as measured, protocol overheads included).
std::string ReplanHint(const std::vector<std::string>& tiers, const plan::PlanConditions& c) {
  std::string hint = "plan a set for the links as measured: seam plan --set";
  for (size_t k = 0; k < c.bandwidth_bps.size() && k + 1 < tiers.size(); ++k) {
    char link[160];
    const double mbit = c.bandwidth_bps[k] / 1e6;
    std::snprintf(link, sizeof link, " --link %s-%s=%.4g%s,%.1fms", tiers[k].c_str(),
                  tiers[k + 1].c_str(), mbit < 1000 ? mbit : mbit / 1e3,
                  mbit < 1000 ? "mbit" : "gbit", c.rtt_ms[k]);
    hint += link;
  }
  return hint;
}

int IndexOf(const std::vector<std::string>& tiers, const std::string& name) {
  auto it = std::find(tiers.begin(), tiers.end(), name);
  return it == tiers.end() ? -1 : static_cast<int>(it - tiers.begin());
}

bool RanLocally(const pipeline::RequestTrace& t) {
  return t.degraded || t.route.rfind("local", 0) == 0;
}

}  // namespace

Result<std::unique_ptr<PlanSetRuntime>> PlanSetRuntime::Open(const std::string& path,
                                                             const Options& options) {
  SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlanSet set, plan::ReadPlanSet(path));
  std::unique_ptr<PlanSetRuntime> runtime(new PlanSetRuntime());
  for (size_t i = 0; i < set.members.size(); ++i) {
    const plan::PlanSetEntry& entry = set.members[i];
    std::string name = "m";
    name += std::to_string(i);
    auto member = DeviceRuntime::Open(entry.plan_path, options);
    if (!member.ok()) {
      if (!set.is_set) return member.status();
      std::string where = path;
      where += ", plan ";
      where += name;
      return member.status().WithContext(where);
    }
    name += " (";
    name += entry.label;
    name += ")";
    runtime->members_.push_back({std::move(member).value(), entry, std::move(name)});
  }
  // Credentials for a tier no plan has the device dial would be silently unused: the hops above
  // the device dial with what `seam deploy --hop-*` wrote into their own stages.
  for (const auto& [tier, security] : options.security) {
    bool dialled = false;
    std::string dialled_tiers;
    for (const Member& m : runtime->members_) {
      if (!m.runtime->spec().next) continue;
      const std::string& next = m.runtime->spec().next->tier;
      dialled = dialled || next == tier;
      std::string quoted = "'";
      quoted += next;
      quoted += "'";
      if (dialled_tiers.find(quoted) == std::string::npos) {
        if (!dialled_tiers.empty()) dialled_tiers += ", ";
        dialled_tiers += quoted;
      }
    }
    if (!dialled) {
      return InvalidArgument(
          "security for tier '" + tier + "': the device dials only " +
          (dialled_tiers.empty() ? std::string("no tier") : dialled_tiers) + " in " + path +
          "; a tier above dials the next with what `seam deploy --hop-*` recorded in its stage");
    }
  }
  runtime->set_ = std::move(set);
  runtime->deadline_ms_ = options.deadline_ms > 0 ? options.deadline_ms : options.call_timeout_ms;
  runtime->probe_interval_ =
      std::chrono::microseconds(static_cast<int64_t>(options.probe_interval_ms * 1e3));
  const size_t links = runtime->set_.nominal.bandwidth_bps.size();
  // Not primed with the planned links: the first real transfer over a link is a better guess than
  // the --link the set was planned for (until then, predictions use that).
  runtime->links_.resize(links);
  runtime->link_sampled_.assign(links, Clock::time_point{});  // never: probe at once
  runtime->link_probe_ms_.assign(links, 0.0);
  runtime->link_probe_share_.assign(links, adapt::kProbeShare);
  runtime->link_light_mbps_.assign(links, 0.0);
  runtime->link_copied_.assign(links, Clock::time_point{});
  runtime->link_light_at_.assign(links, Clock::time_point{});
  runtime->link_light_note_.assign(links, std::string());
  runtime->link_windows_.assign(links, adapt::LightProbeWindow());
  runtime->link_copies_left_.assign(links, 0);
  runtime->light_probes_ = options.light_probes;
  runtime->tiers_.resize(runtime->set_.tiers.size());
  runtime->hold_ms_.assign(runtime->members_.size(), 0);
  // The device's speed from the warm-up runs: every plan's own segment against its prediction.
  for (const Member& m : runtime->members_) {
    const double measured = m.runtime->DeviceMs();
    if (runtime->set_.is_set && measured > 0 && m.entry.terms.cpu_ms[0] > kMinPredictedMs) {
      runtime->tiers_[0].ObserveCompute(measured, m.entry.terms.cpu_ms[0]);
    }
  }
  return runtime;
}

PlanSetRuntime::~PlanSetRuntime() {
  std::thread probe, replan;
  {
    std::lock_guard lock(mu_);
    probe = std::move(probe_);
    replan = std::move(replan_);
  }
  if (probe.joinable()) probe.join();
  if (replan.joinable()) replan.join();
}

plan::PlanConditions PlanSetRuntime::Conditions() const {
  plan::PlanConditions c = set_.nominal;
  c.queue_ms.assign(tiers_.size(), 0.0);
  for (size_t j = 0; j < tiers_.size(); ++j) {
    c.tier_speed[j] = tiers_[j].speed_factor();
    c.queue_ms[j] = tiers_[j].queue_ms();
  }
  for (size_t k = 0; k < links_.size(); ++k) {
    // With only large transfers seen, the bandwidth estimate is their throughput (RTT included)
    // and the RTT is unknown: count it as nil rather than twice.
    if (links_[k].mbps() > 0) {
      c.bandwidth_bps[k] = links_[k].mbps() * 1e6;
      c.rtt_ms[k] = links_[k].known() ? links_[k].rtt_ms() : 0;
    } else if (links_[k].rtt_ms() > 0) {
      c.rtt_ms[k] = links_[k].rtt_ms();
    }
  }
  return c;
}

double PlanSetRuntime::PredictMs(size_t m, const plan::PlanConditions& c, bool with_hold) const {
  const double ms = plan::PredictLatencyMs(members_[m].entry.terms, c);
  return with_hold ? std::max(ms, hold_ms_[m]) : ms;
}

void PlanSetRuntime::Observe(size_t m, const pipeline::RequestTrace& t) const {
  const plan::PlanTerms& terms = members_[m].entry.terms;
  const bool local = RanLocally(t);
  for (const auto& tier : t.tiers) {
    const int j = IndexOf(set_.tiers, tier.tier);
    if (j < 0 || (j == 0 && local)) continue;  // a local run did other work than the plan's
    if (j > 0) tiers_[j].ObserveQueue(tier.queue_ms);
    const double measured = tier.compute_ms + tier.encode_ms + tier.decode_ms;
    if (tier.compute_ms > 0 && terms.cpu_ms[j] > kMinPredictedMs) {
      tiers_[j].ObserveCompute(measured, terms.cpu_ms[j]);
    }
  }
  for (const auto& link : t.links) {
    const int k = IndexOf(set_.tiers, link.from);
    // A retried call's time spans a broken stream and a reconnection: not the link's.
    if (k < 0 || k >= static_cast<int>(links_.size()) || link.retries > 0) continue;
    links_[k].Observe(link.up_bytes + link.down_bytes, link.ms);
    link_sampled_[k] = link_copied_[k] = Clock::now();
    link_windows_[k].Clear();  // measured for real: light probes start over
  }
}

void PlanSetRuntime::MaybeProbe(const TensorMap& inputs, size_t chosen) const {
  if (probing_) return;
  const auto now = Clock::now();
  const plan::PlanConditions c = Conditions();
  for (size_t k = 0; k < links_.size(); ++k) {
    const double pause_ms =
        adapt::ProbePauseMs(probe_interval_.count() / 1e3, link_probe_ms_[k], link_probe_share_[k]);
    if (members_[chosen].entry.terms.link_used[k] ||
        now - link_sampled_[k] < std::chrono::microseconds(static_cast<int64_t>(pause_ms * 1e3))) {
      continue;
    }
    // The fastest plan (its hold ignored: the probe is what lifts it) that crosses the link.
    int pick = -1;
    for (size_t m = 0; m < members_.size(); ++m) {
      if (!members_[m].entry.terms.link_used[k] || !members_[m].runtime->NextAllowed()) continue;
      if (pick < 0 || PredictMs(m, c, false) < PredictMs(pick, c, false))
        pick = static_cast<int>(m);
    }
    if (pick < 0) continue;
    const double cap_ms = std::min(deadline_ms_ > 0 ? deadline_ms_ : 1e9,
                                   std::max(kMinProbeCapMs, 2 * PredictMs(chosen, c, true)));
    link_sampled_[k] = now;                // one probe per interval, whatever it finds
    if (probe_.joinable()) probe_.join();  // finished: probing_ was false
    probing_ = true;
    const uint64_t light_bytes = LightProbeBytes(pick, k);
    probe_ = std::thread([this, inputs, pick, cap_ms, k, light_bytes] {
      if (light_bytes > 0 && !LightProbeWantsCopy(pick, k, light_bytes, cap_ms)) return;
      const bool called_for = light_bytes > 0;  // by a light probe
      pipeline::RequestTrace trace;
      const auto start = Clock::now();
      const Status status = members_[pick].runtime->Probe(inputs, trace, cap_ms);
      std::lock_guard lock(mu_);
      // The pause before the next probe of this link runs from this one's end.
      link_probe_ms_[k] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      link_probe_share_[k] = adapt::kProbeShare;
      link_sampled_[k] = link_copied_[k] = Clock::now();
      if (status.ok()) {
        Observe(pick, trace);
        hold_ms_[pick] = 0;
        if (called_for) link_copies_left_[k] = kCopiesToConfirm;
      } else {
        link_copies_left_[k] = 0;
      }
      if (status.code() == StatusCode::kDeadlineExceeded) {
        hold_ms_[pick] =
            std::max(hold_ms_[pick],
                     1.5 * std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
      probing_ = false;
    });
    return;
  }
}

uint64_t PlanSetRuntime::LightProbeBytes(size_t pick, size_t k) const {
  // Only the device's own link can be measured from here; a copy measures the links beyond.
  if (!light_probes_ || k != 0) return 0;
  // A copy a light probe called for came back: a couple more in a row, so that the link's
  // estimate sees the change confirmed (TrackedValue's `confirm`) rather than one sample.
  if (link_copies_left_[k] > 0) {
    --link_copies_left_[k];
    return 0;
  }
  const double estimate = links_[k].mbps(), light = link_light_mbps_[k];
  const double mbps = adapt::SlowerKnownRate(estimate, light);
  const double wire = members_[pick].entry.terms.wire_bytes[k];
  // A light probe only tells about the link: when the link is the smaller part of the plan's
  // time, what keeps it unchosen is the tiers, and only a copy measures them.
  const double link_ms = links_[k].rtt_ms() + (mbps > 0 ? wire * 8 / (mbps * 1e3) : 0);
  if (link_ms < PredictMs(pick, Conditions(), false) - link_ms) return 0;
  if (std::chrono::duration<double, std::milli>(Clock::now() - link_copied_[k]).count() >=
      adapt::ForcedCopyPauseMs(link_ms)) {
    return 0;
  }
  return adapt::LightProbeBytes(mbps, static_cast<uint64_t>(wire));
}

bool PlanSetRuntime::LightProbeWantsCopy(size_t pick, size_t k, uint64_t bytes,
                                         double cap_ms) const {
  double tiny_ms = 0, sized_ms = 0;
  const Status measured = members_[pick].runtime->MeasureLink(bytes, cap_ms, &tiny_ms, &sized_ms);
  std::lock_guard lock(mu_);
  const bool cut = measured.code() == StatusCode::kDeadlineExceeded && sized_ms == 0;
  link_probe_ms_[k] = adapt::LightProbeLinkMs(tiny_ms, sized_ms);
  link_probe_share_[k] = adapt::kLightProbeShare;
  link_sampled_[k] = Clock::now();
  bool copy = false;
  std::string note_text;
  if (measured.ok()) {
    // The link as this probe saw it, for the plan that would cross it: a copy follows only when
    // that plan would then be chosen (ChoosePlan's hysteresis) -- the copy measures for real.
    const double extra_ms = sized_ms - tiny_ms;
    const plan::PlanConditions now = Conditions();
    plan::PlanConditions seen = now;
    // The link at its best over the last few probes: one reading on a busy device says little.
    link_windows_[k].Add(tiny_ms, bytes, sized_ms);
    seen.rtt_ms[k] = link_windows_[k].BestRttMs();
    char note[128];
    seen.bandwidth_bps[k] = std::min(link_windows_[k].BestMbps(), 1e6) * 1e6;
    if (extra_ms >= 0.05) {  // else within the round trip's noise: fast, the estimate stands
      link_light_mbps_[k] = static_cast<double>(bytes) * 8 / (extra_ms * 1e3);
      std::snprintf(note, sizeof note,
                    "a light probe found the link at %.3g Mbit/s, %.3g ms round trip",
                    link_light_mbps_[k], tiny_ms);
    } else {
      std::snprintf(note, sizeof note,
                    "a light probe crossed the link within its %.3g ms round trip", tiny_ms);
    }
    const double current = current_ >= 0 ? PredictMs(current_, now, true) : 1e300;
    const double predicted = PredictMs(pick, seen, false);
    copy = predicted * (1 + adapt::kPlanHysteresis) < current;
    char tail[96];
    std::snprintf(tail, sizeof tail, "; at the link's best lately, %s predicted %.1f ms",
                  members_[pick].name.c_str(), predicted);
    note_text = std::string(note) + tail;
  } else if (cut) {
    link_light_mbps_[k] = static_cast<double>(bytes) * 8 / (cap_ms * 1e3);  // at most that fast
  }
  if (measured.ok()) {
    link_light_note_[k] = note_text;
  } else {
    link_light_note_[k] =
        "a light probe " + std::string(cut ? "was cut: " : "failed: ") + measured.message();
  }
  link_light_at_[k] = Clock::now();
  if (!copy) probing_ = false;
  return copy;
}

std::string PlanSetRuntime::ReplanAge() const {
  char age[64];
  std::snprintf(age, sizeof age, "re-planned %.1f s ago for what was measured then: ",
                std::chrono::duration<double>(Clock::now() - replanned_at_).count());
  return age;
}

void PlanSetRuntime::MaybeReplan(const plan::PlanConditions& c) const {
  if (!set_.planning || replanning_ ||
      (last_replan_ != Clock::time_point{} && Clock::now() - last_replan_ < kReplanEvery)) {
    return;
  }
  replanning_ = true;
  last_replan_ = Clock::now();
  // The set's best under the same conditions: a new plan is worth deploying only if clearly faster.
  size_t best = 0;
  for (size_t m = 1; m < members_.size(); ++m) {
    if (PredictMs(m, c, false) < PredictMs(best, c, false)) best = m;
  }
  const double best_ms = PredictMs(best, c, false);
  if (replan_.joinable()) replan_.join();  // finished: replanning_ was false
  replan_ = std::thread([this, c, best, best_ms] {
    std::string note;
    auto found = [&]() -> Result<std::string> {
      if (!replan_request_) {
        SEAM_ASSIGN_OR_RETURN(plan::PlanRequest request,
                              plan::BuildPlanRequestFromFiles(*set_.planning));
        replan_request_ = std::make_unique<plan::PlanRequest>(std::move(request));
      }
      const plan::PlanRequest scaled = plan::ScaledRequest(*replan_request_, c);
      SEAM_ASSIGN_OR_RETURN(plan::Plan fresh, plan::MakePlan(scaled));
      const nlohmann::json json = plan::PlanToJson(scaled, fresh);
      char predicted[64], versus[160];
      std::snprintf(predicted, sizeof predicted, "%.1f ms", fresh.latency_ms);
      std::snprintf(versus, sizeof versus, "%s predicted %.1f ms", members_[best].name.c_str(),
                    best_ms);
      for (const Member& m : members_) {
        SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(m.entry.plan_path));
        if (plan::SamePlacementAndCodecs(json, nlohmann::json::parse(text))) {
          return m.name + " is that plan (" + predicted + ")";
        }
      }
      if (fresh.latency_ms > best_ms * (1 - kReplanGain)) {
        return "nothing clearly faster than " + std::string(versus) +
               " (the planner's best: " + predicted + ")";
      }
      std::string path = set_.path;
      if (path.size() > 5 && path.ends_with(".json")) path.resize(path.size() - 5);
      path += ".replan.json";
      SEAM_RETURN_IF_ERROR(WriteFileAtomic(path, json.dump(2) + "\n"));
      return plan::PlacementLabel(scaled, fresh.tier_of_node) + ", predicted " + predicted +
             " against " + versus + ", is not in the set; written to " + path +
             " (deploy it: seam deploy " + path + ")";
    };
    try {
      auto result = found();
      note = result.ok() ? *result : "re-planning failed: " + result.status().message();
    } catch (const std::exception& e) {
      note = std::string("re-planning failed: ") + e.what();
    }
    std::lock_guard lock(mu_);
    replan_note_ = note;
    replanned_at_ = Clock::now();
    replanning_ = false;
  });
}

Result<TensorMap> PlanSetRuntime::Run(const TensorMap& inputs, pipeline::RequestTrace* trace,
                                      Status* remote_error) const {
  if (members_.size() == 1) return members_.front().runtime->Run(inputs, trace, remote_error);
  adapt::PlanChoice choice;
  {
    std::lock_guard lock(mu_);
    const plan::PlanConditions c = Conditions();
    // A plan whose next tier failed is not given a real request to find out whether the tier
    // is back (its half-open probe) while another plan can take it: the background probe finds
    // out (MaybeProbe), so that a dead tier costs requests nothing. Only when no other plan is
    // left does a request probe it, with the fallback in reserve.
    std::vector<adapt::PlanOption> options;
    bool any_closed = false;
    for (size_t m = 0; m < members_.size(); ++m) {
      const bool local_only = !members_[m].runtime->spec().next;
      const bool closed = local_only || members_[m].runtime->NextClosed();
      any_closed |= closed;
      options.push_back({members_[m].name, PredictMs(m, c, true), closed, local_only});
    }
    if (!any_closed) {
      for (size_t m = 0; m < members_.size(); ++m) {
        options[m].allowed = members_[m].runtime->NextAllowed();
      }
    }
    choice = adapt::ChoosePlan(options, current_);
    // Load reported by the servers is part of the predictions: name it where it matters.
    std::string queued;
    for (size_t j = 1; j < c.queue_ms.size(); ++j) {
      if (c.queue_ms[j] < kReportedQueueMs) continue;
      char part[96];
      std::snprintf(part, sizeof part, "%s%s %.1f ms", queued.empty() ? "" : ", ",
                    set_.tiers[j].c_str(), c.queue_ms[j]);
      queued += part;
    }
    if (!queued.empty()) choice.reason += "; servers' queues: " + queued;
    // What the light probes found of links the chosen plan does not cross (since their last
    // copy), as the device's route does for its own link.
    for (size_t k = 0; k < links_.size(); ++k) {
      if (members_[choice.index].entry.terms.link_used[k] || link_light_note_[k].empty() ||
          link_light_at_[k] <= link_copied_[k]) {
        continue;
      }
      char ago[48];
      std::snprintf(ago, sizeof ago, " (%.1f s ago)",
                    std::chrono::duration<double>(Clock::now() - link_light_at_[k]).count());
      choice.reason +=
          "; " + set_.tiers[k] + "-" + set_.tiers[k + 1] + ": " + link_light_note_[k] + ago;
    }
    // The set's plans were chosen for a range of conditions; beyond it another plan may be
    // better than any of them: say so (a new set, planned for what is measured, would cover it).
    if (const std::string outside = plan::OutsideRange(set_.tiers, set_.nominal, set_.range, c);
        !outside.empty()) {
      choice.reason +=
          "; measured outside the set's range: " + outside + " (" +
          (replan_note_.empty() ? ReplanHint(set_.tiers, c) : ReplanAge() + replan_note_) + ")";
      MaybeReplan(c);
    }
    current_ = choice.index;
    MaybeProbe(inputs, static_cast<size_t>(choice.index));
  }
  const Member& member = members_[choice.index];
  pipeline::RequestTrace scratch;
  pipeline::RequestTrace& t = trace ? *trace : scratch;
  Status remote;
  auto result = member.runtime->Run(inputs, &t, &remote);
  t.plan = member.name;
  t.plan_reason = choice.reason;
  {
    std::lock_guard lock(mu_);
    if (result.ok() && remote.ok()) {
      Observe(choice.index, t);
      if (!RanLocally(t)) hold_ms_[choice.index] = 0;
    } else if (remote.code() == StatusCode::kDeadlineExceeded) {
      hold_ms_[choice.index] = std::max(hold_ms_[choice.index], 1.5 * t.TotalMs());
    }
  }
  if (remote_error) *remote_error = remote;
  return result;
}

std::string PlanSetRuntime::DeploymentKey() const {
  std::string key;
  for (const Member& m : members_) {
    key += m.runtime->DeploymentKey();
    key += ';';
  }
  return key;
}

Result<std::string> DeploymentKeyOf(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlanSet set, plan::ReadPlanSet(path));
  std::string key;
  for (const auto& entry : set.members) {
    SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlan plan, plan::ReadExecutablePlan(entry.plan_path));
    SEAM_ASSIGN_OR_RETURN(std::string stage_path, plan::DeviceStagePath(plan));
    SEAM_ASSIGN_OR_RETURN(pipeline::StageSpec spec, pipeline::ReadStage(stage_path));
    key += client::DeploymentKey(spec);
    key += ';';
  }
  return key;
}

}  // namespace seam::client
