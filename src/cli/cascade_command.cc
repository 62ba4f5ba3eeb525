// `seam cascade run` and `seam cascade calibrate` (docs/cascade.md): a cascade over a labelled
// image set, and its threshold chosen on a validation half and checked on a held-out half.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>

#include "cascade/calibration.h"
#include "cascade/cascade_file.h"
#include "cascade/cascade_runner.h"
#include "cascade/curve_output.h"
#include "cascade/dataset_run.h"
#include "cascade/field_policy.h"
#include "cli/commands.h"
#include "common/file_util.h"

namespace seam::cli {
namespace {

using cascade::CurvePoint;
using cascade::ExampleRecord;

struct Range {
  size_t begin = 0, end = 0;
};

Result<Range> ParseRange(const std::string& text, const char* flag) {
  const auto colon = text.find(':');
  Range r;
  try {
    if (colon == std::string::npos) throw std::invalid_argument(text);
    size_t used = 0;
    r.begin = std::stoul(text.substr(0, colon), &used);
    if (used != colon) throw std::invalid_argument(text);
    r.end = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return InvalidArgument(std::string(flag) + " takes FIRST:END (e.g. 0:5000), got '" + text +
                           "'");
  }
  if (r.end <= r.begin) return InvalidArgument(std::string(flag) + " " + text + " is empty");
  return r;
}

struct CommonOptions {
  std::string cascade;
  std::string dataset = cascade::kFashionMnistDir;
  std::string split = "test";
  double connect_timeout_s = 10;
};

struct Opened {
  cascade::CascadeFile file;
  std::unique_ptr<cascade::CascadeRunner> runner;
  cascade::LabelledImages set;
};

Result<Opened> Open(const CommonOptions& o,
                    const cascade::CascadeRunner::StoreAndForward& store_and_forward = {}) {
  Opened out;
  SEAM_ASSIGN_OR_RETURN(out.file, cascade::ReadCascadeFile(o.cascade));
  SEAM_ASSIGN_OR_RETURN(out.set, cascade::ReadFashionMnist(o.dataset, o.split));
  SEAM_ASSIGN_OR_RETURN(out.runner, cascade::CascadeRunner::Open(
                                        out.file, o.connect_timeout_s * 1e3, store_and_forward));
  return out;
}

Result<cascade::LabelledImages> Take(const cascade::LabelledImages& set, const std::string& range,
                                     const char* flag) {
  SEAM_ASSIGN_OR_RETURN(Range r, ParseRange(range, flag));
  if (r.end > set.size()) {
    return InvalidArgument(std::string(flag) + " " + range + " goes past the set's " +
                           std::to_string(set.size()) + " examples");
  }
  return cascade::Slice(set, r.begin, r.end);
}

// The labels must be classes the models answer: a set labelled for another task is refused.
Status CheckLabels(const cascade::LabelledImages& set, const cascade::CascadeRunner& runner) {
  const std::string& out = runner.cascade().rule.output;
  int64_t classes = -1;
  for (const auto& o : runner.small().outputs()) {
    if (o.name == out && !o.shape.empty()) classes = o.shape.back();
  }
  if (classes <= 0) return Status::Ok();
  for (size_t i = 0; i < set.size(); ++i) {
    if (set.labels[i] >= classes) {
      return InvalidArgument("example " + std::to_string(i) + " is labelled " +
                             std::to_string(set.labels[i]) + ", not one of the models' " +
                             std::to_string(classes) + " classes (a set for another task?)");
    }
  }
  return Status::Ok();
}

std::string Pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * v);
  return b;
}

// ---- seam cascade run ----

struct RunOptions : CommonOptions {
  std::string range = "0:10000";
  std::string json;
  // Field policies (cascade/field_policy.h).
  int every_n = 1;
  std::string windows, time_zone, local_time;
  double motion_threshold = 0;
  // Store-and-forward (cascade/outbox.h, cascade/forwarder.h).
  std::string outbox;
  int64_t outbox_max_items = 100000;
  std::string when_full = "refuse";
  double drain_s = 10;
};

// The policy the flags ask for (none when they ask for nothing), and the clock it reads.
Result<std::optional<cascade::FieldPolicy>> MakePolicy(const RunOptions& o,
                                                       std::function<int()>* local_minute) {
  cascade::FieldPolicyConfig config{.every_n = o.every_n, .motion_threshold = o.motion_threshold};
  if (!o.windows.empty()) {
    SEAM_ASSIGN_OR_RETURN(config.windows, cascade::ParseWindows(o.windows));
  }
  SEAM_RETURN_IF_ERROR(config.Validate());
  // A zone named is checked once, here; the clock is read (through the C library's zone rules)
  // only when windows need it.
  if (!o.time_zone.empty()) {
    SEAM_RETURN_IF_ERROR(
        cascade::LocalMinuteOfDay(std::chrono::system_clock::now(), o.time_zone).status());
  }
  if (!o.local_time.empty()) {
    SEAM_ASSIGN_OR_RETURN(const int minute, cascade::ParseTimeOfDay(o.local_time));
    *local_minute = [minute] { return minute; };
  } else if (!config.windows.empty()) {
    *local_minute = [zone = o.time_zone] {
      auto m = cascade::LocalMinuteOfDay(std::chrono::system_clock::now(), zone);
      return m.ok() ? *m : 0;
    };
  }
  if (config.every_n == 1 && config.windows.empty() && config.motion_threshold == 0) {
    return std::optional<cascade::FieldPolicy>();
  }
  return std::optional<cascade::FieldPolicy>(cascade::FieldPolicy(config));
}

// The run id the outbox keeps: reused while items of that run are queued, new otherwise.
Result<std::string> RunId(cascade::Outbox& box) {
  if (box.size() != 0) {
    SEAM_ASSIGN_OR_RETURN(std::optional<std::string> kept, box.Note("run_id"));
    if (kept) return *kept;
  }
  std::random_device random;
  char id[24];
  std::snprintf(id, sizeof(id), "%08x%08x", random(), random());
  SEAM_RETURN_IF_ERROR(box.SetNote("run_id", id));
  return std::string(id);
}

int RunCascade(const RunOptions& o) {
  // The flags first: a mistake in them is named before models load or a server is waited for.
  std::function<int()> local_minute;
  auto policy = MakePolicy(o, &local_minute);
  if (!policy.ok()) return ReportError(policy.status());
  if (Status s = ParseRange(o.range, "--range").status(); !s.ok()) return ReportError(s);
  cascade::CascadeRunner::StoreAndForward saf{.outbox = o.outbox};
  saf.limits.max_items = o.outbox_max_items;
  saf.limits.when_full = o.when_full == "drop-oldest" ? cascade::OutboxLimits::WhenFull::kDropOldest
                                                      : cascade::OutboxLimits::WhenFull::kRefuseNew;
  auto opened = Open(o, saf);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->runner->started_offline()) {
    std::printf(
        "the big model's server at %s is unreachable: started from the metadata %s "
        "kept; hard examples queue until it answers\n",
        opened->file.big_address.c_str(), o.outbox.c_str());
  }
  auto set = Take(opened->set, o.range, "--range");
  if (!set.ok()) return ReportError(set.status());
  if (Status s = CheckLabels(*set, *opened->runner); !s.ok()) return ReportError(s);
  // With an outbox, keys name the example within a run kept in the outbox: a run restarted
  // after a crash (items still queued) sends the same keys, so nothing is delivered twice; a new
  // run (nothing queued) gets a new id, so the server does not answer it from an earlier one.
  // Without, the runner makes keys up.
  std::string key_prefix;
  if (cascade::Outbox* box = opened->runner->outbox()) {
    auto run_id = RunId(*box);
    if (!run_id.ok()) return ReportError(run_id.status());
    key_prefix = *run_id + ":" + opened->file.name + ":" + o.split + ":";
  }
  const auto begin = ParseRange(o.range, "--range")->begin;
  auto summary =
      cascade::RunOnDataset(*opened->runner, *set, policy->has_value() ? &**policy : nullptr,
                            local_minute, key_prefix, begin);
  if (!summary.ok()) return ReportError(summary.status());
  int64_t pending = 0;
  nlohmann::json outbox_json;
  if (cascade::Outbox* box = opened->runner->outbox()) {
    pending = opened->runner->DrainOutbox(o.drain_s * 1e3);
    const auto& f = opened->runner->forwarder()->counters();
    std::printf(
        "outbox %s: %lld queued this run, %lld delivered (%lld of them answered before, a "
        "repeat), %lld set aside as undeliverable, %lld still waiting%s%s\n",
        box->path().c_str(), static_cast<long long>(opened->runner->counters().queued.load()),
        static_cast<long long>(f.delivered.load()), static_cast<long long>(f.replayed.load()),
        static_cast<long long>(f.rejected.load()), static_cast<long long>(pending),
        pending > 0 ? " (delivered by the next run): " : "",
        pending > 0 ? opened->runner->forwarder()->last_error().c_str() : "");
    outbox_json = {{"path", box->path()},
                   {"delivered", f.delivered.load()},
                   {"replayed", f.replayed.load()},
                   {"rejected", f.rejected.load()},
                   {"pending", pending}};
  }
  const auto& s = *summary;
  const auto n = static_cast<double>(std::max<int64_t>(1, s.examples));  // no NaN for 0 run
  std::printf("cascade %s: %lld examples (%s %s %s)\n", opened->file.name.c_str(),
              static_cast<long long>(s.examples), o.dataset.c_str(), o.split.c_str(),
              o.range.c_str());
  if (policy->has_value()) {
    const auto& c = s.field;
    std::printf(
        "  field policy: %lld frames, %lld run; skipped %lld outside the time windows, "
        "%lld not the 1 of %d, %lld without motion\n",
        static_cast<long long>(c.frames), static_cast<long long>(c.processed),
        static_cast<long long>(c.outside_window), static_cast<long long>(c.sampled_out), o.every_n,
        static_cast<long long>(c.no_motion));
  }
  std::printf("  answered by the small model   %lld (%s)\n",
              static_cast<long long>(s.small_answered), Pct(s.small_answered / n).c_str());
  std::printf("  handed off to the big model   %lld (%s), %lld of them degraded (%lld queued)\n",
              static_cast<long long>(s.handed_off), Pct(s.handed_off / n).c_str(),
              static_cast<long long>(s.degraded), static_cast<long long>(s.queued));
  std::printf("  accuracy                      %s\n", Pct(s.accuracy()).c_str());
  std::printf("  latency                       p50 %.3f ms, p99 %.3f ms\n", s.p50_ms, s.p99_ms);
  std::printf("  bytes sent up per input       %.1f\n", s.bytes_up_per_input);
  if (!o.json.empty()) {
    nlohmann::json j = {{"cascade", opened->file.path},
                        {"examples", s.examples},
                        {"accuracy", s.accuracy()},
                        {"small_answered", s.small_answered},
                        {"handed_off", s.handed_off},
                        {"degraded", s.degraded},
                        {"queued", s.queued},
                        {"outbox_pending", pending},
                        {"outbox", outbox_json},
                        {"cloud_fraction", s.cloud_fraction()},
                        {"p50_ms", s.p50_ms},
                        {"p99_ms", s.p99_ms},
                        {"bytes_up_per_input", s.bytes_up_per_input},
                        {"field",
                         {{"frames", s.field.frames},
                          {"processed", s.field.processed},
                          {"outside_window", s.field.outside_window},
                          {"sampled_out", s.field.sampled_out},
                          {"no_motion", s.field.no_motion}}}};
    if (Status w = WriteFileAtomic(o.json, j.dump(2) + "\n"); !w.ok()) return ReportError(w);
  }
  return 0;
}

// ---- seam cascade calibrate ----

struct CalibrateOptions : CommonOptions {
  std::string validation = "0:5000", test = "5000:10000";
  std::optional<double> accuracy, within_big_pp, max_cloud_ratio;
  std::string curve, svg, write, json;
};

int Calibrate(const CalibrateOptions& o) {
  const int targets =
      o.accuracy.has_value() + o.within_big_pp.has_value() + o.max_cloud_ratio.has_value();
  if (targets != 1) {
    return ReportError(InvalidArgument(
        "give one target: --accuracy A, --accuracy-within-big PP or --max-cloud-ratio R"));
  }
  if (o.accuracy && !(*o.accuracy > 0 && *o.accuracy <= 1)) {
    return ReportError(InvalidArgument("--accuracy is a fraction, 0 to 1 (e.g. 0.91)"));
  }
  if (o.max_cloud_ratio && !(*o.max_cloud_ratio >= 0 && *o.max_cloud_ratio <= 1)) {
    return ReportError(InvalidArgument("--max-cloud-ratio is a fraction, 0 to 1"));
  }
  if (o.within_big_pp && !(*o.within_big_pp >= 0 && *o.within_big_pp < 100)) {
    return ReportError(InvalidArgument("--accuracy-within-big is in percentage points, 0 to 100"));
  }
  auto opened = Open(o);
  if (!opened.ok()) return ReportError(opened.status());
  auto& runner = *opened->runner;
  {
    auto v = ParseRange(o.validation, "--validation");
    auto t = ParseRange(o.test, "--test");
    if (!v.ok()) return ReportError(v.status());
    if (!t.ok()) return ReportError(t.status());
    if (v->begin < t->end && t->begin < v->end) {
      return ReportError(InvalidArgument("--validation " + o.validation + " and --test " + o.test +
                                         " overlap: the held-out figures would not be held out"));
    }
  }
  auto validation = Take(opened->set, o.validation, "--validation");
  if (!validation.ok()) return ReportError(validation.status());
  auto test = Take(opened->set, o.test, "--test");
  if (!test.ok()) return ReportError(test.status());
  for (const auto* set : {&*validation, &*test}) {
    if (Status s = CheckLabels(*set, runner); !s.ok()) return ReportError(s);
  }
  const auto kind = opened->file.rule.kind;
  std::fprintf(stderr, "[calibrate] both models on %zu validation examples...\n",
               validation->size());
  auto records = cascade::RecordBoth(runner, *validation);
  if (!records.ok()) return ReportError(records.status());
  const double small_acc = cascade::SmallAccuracy(*records),
               big_acc = cascade::BigAccuracy(*records);
  cascade::Target target;
  std::string target_text;
  if (o.max_cloud_ratio) {
    target.max_cloud_fraction = *o.max_cloud_ratio;
    target_text = "send at most " + Pct(*o.max_cloud_ratio) + " up";
  } else {
    target.min_accuracy = o.accuracy ? *o.accuracy : big_acc - *o.within_big_pp / 100;
    target_text =
        "accuracy >= " + Pct(*target.min_accuracy) +
        (o.within_big_pp ? " (big alone - " + std::to_string(*o.within_big_pp).substr(0, 4) + " pp)"
                         : "");
  }
  const auto curve = cascade::Sweep(kind, *records);
  auto chosen = cascade::Choose(curve, target);
  if (!chosen.ok()) return ReportError(chosen.status().WithContext("validation " + o.validation));
  std::printf("validation (%s %s): small alone %s, big alone %s; target: %s\n", o.split.c_str(),
              o.validation.c_str(), Pct(small_acc).c_str(), Pct(big_acc).c_str(),
              target_text.c_str());
  const std::string kind_name = cascade::RuleKindName(kind);
  const bool higher = opened->file.rule.HigherIsConfident();
  std::printf(
      "chosen: %s %s %.6g keeps the answer near the data; validation accuracy %s, "
      "%s sent up\n",
      kind_name.c_str(), higher ? ">=" : "<=", chosen->threshold, Pct(chosen->accuracy).c_str(),
      Pct(chosen->cloud_fraction).c_str());

  std::fprintf(stderr, "[calibrate] both models on %zu held-out examples...\n", test->size());
  auto held = cascade::RecordBoth(runner, *test);
  if (!held.ok()) return ReportError(held.status());
  const CurvePoint at = cascade::Evaluate(kind, *held, chosen->threshold);
  using cascade::Strategy;
  auto p50 = [&](Strategy s) {
    return cascade::LatencyPercentileMs(kind, *held, s, chosen->threshold, 0.5);
  };
  double bytes_all = 0;
  for (const auto& r : *held) bytes_all += r.bytes_up / static_cast<double>(held->size());
  std::printf("held-out (%s %s):\n", o.split.c_str(), o.test.c_str());
  std::printf("  %-12s %9s %8s %12s %9s\n", "strategy", "accuracy", "sent up", "bytes/input",
              "p50 ms");
  std::printf("  %-12s %9s %8s %12.1f %9.3f\n", "small only",
              Pct(cascade::SmallAccuracy(*held)).c_str(), Pct(0).c_str(), 0.0,
              p50(Strategy::kSmallOnly));
  std::printf("  %-12s %9s %8s %12.1f %9.3f\n", "big only",
              Pct(cascade::BigAccuracy(*held)).c_str(), Pct(1).c_str(), bytes_all,
              p50(Strategy::kBigOnly));
  std::printf("  %-12s %9s %8s %12.1f %9.3f\n", "cascade", Pct(at.accuracy).c_str(),
              Pct(at.cloud_fraction).c_str(), at.bytes_per_input, p50(Strategy::kCascade));

  if (!o.curve.empty()) {
    if (Status s = WriteFileAtomic(o.curve, cascade::CurveCsv(cascade::Thin(curve, 201)));
        !s.ok()) {
      return ReportError(s);
    }
    std::printf("curve: %s\n", o.curve.c_str());
  }
  if (!o.svg.empty()) {
    const std::string svg = CurveSvg(
        cascade::Thin(curve, 401), *chosen, small_acc, big_acc,
        opened->file.name + ": accuracy against hand-offs (" + kind_name + ", validation)");
    if (Status s = WriteFileAtomic(o.svg, svg); !s.ok()) return ReportError(s);
    std::printf("plot: %s\n", o.svg.c_str());
  }
  if (!o.write.empty()) {
    cascade::CascadeFile out = opened->file;
    out.rule.threshold = chosen->threshold;
    if (Status s = out.rule.Validate(); !s.ok()) {
      return ReportError(s.WithContext("the chosen threshold cannot be written"));
    }
    const std::string dir = std::filesystem::absolute(o.write).parent_path().string();
    if (Status s = WriteFileAtomic(o.write, cascade::ToJson(out, dir).dump(2) + "\n"); !s.ok()) {
      return ReportError(s);
    }
    std::printf("wrote %s (threshold %.6g)\n", o.write.c_str(), chosen->threshold);
  }
  if (!o.json.empty()) {
    nlohmann::json j = {{"rule", kind_name},
                        {"threshold", chosen->threshold},
                        {"validation",
                         {{"examples", records->size()},
                          {"small_accuracy", small_acc},
                          {"big_accuracy", big_acc},
                          {"accuracy", chosen->accuracy},
                          {"cloud_fraction", chosen->cloud_fraction}}},
                        {"held_out",
                         {{"examples", held->size()},
                          {"small_only",
                           {{"accuracy", cascade::SmallAccuracy(*held)},
                            {"p50_ms", p50(Strategy::kSmallOnly)},
                            {"bytes_per_input", 0}}},
                          {"big_only",
                           {{"accuracy", cascade::BigAccuracy(*held)},
                            {"p50_ms", p50(Strategy::kBigOnly)},
                            {"bytes_per_input", bytes_all}}},
                          {"cascade",
                           {{"accuracy", at.accuracy},
                            {"cloud_fraction", at.cloud_fraction},
                            {"p50_ms", p50(Strategy::kCascade)},
                            {"bytes_per_input", at.bytes_per_input}}}}}};
    if (Status s = WriteFileAtomic(o.json, j.dump(2) + "\n"); !s.ok()) return ReportError(s);
  }
  return 0;
}

void AddCommon(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--cascade", o.cascade, "the cascade file (docs/cascade.md)")->required();
  cmd->add_option("--dataset", o.dataset,
                  "a directory of Fashion-MNIST IDX files (Debian's dataset-fashion-mnist)");
  cmd->add_option("--split", o.split, "train or test");
  cmd->add_option("--connect-timeout-s", o.connect_timeout_s,
                  "how long to wait for the big model's server")
      ->check(kPositive);
}

}  // namespace

void RegisterCascadeCommand(CLI::App& app, int& exit_code) {
  auto* cascade = app.add_subcommand(
      "cascade", "joint inference: a small model near the data, a big one on a server");
  cascade->require_subcommand(1);

  auto run = std::make_shared<RunOptions>();
  auto* r = cascade->add_subcommand("run", "run a cascade over a labelled image set");
  AddCommon(r, *run);
  r->add_option("--range", run->range, "examples FIRST:END of the split");
  r->add_option("--json", run->json, "also write the summary as JSON");
  r->add_option("--every-n", run->every_n, "field policy: run 1 frame of every N");
  r->add_option("--windows", run->windows,
                "field policy: run only inside local time windows, e.g. 00:00-06:00,22:00-23:00");
  r->add_option("--time-zone", run->time_zone, "the site's time zone (IANA name; default UTC)");
  r->add_option("--local-time", run->local_time,
                "take this as the local time of every frame (HH:MM), instead of the clock");
  r->add_option("--motion-threshold", run->motion_threshold,
                "field policy: skip frames whose mean difference from the last one run is below "
                "this (0-1, pixels / 255; 0.02 ~ 5 grey levels)");
  r->add_option("--outbox", run->outbox,
                "store-and-forward: queue hard examples the big model cannot take now in this "
                "file (SQLite) and deliver them in order when it answers again");
  r->add_option("--outbox-max-items", run->outbox_max_items, "items the outbox holds at most")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  r->add_option("--outbox-when-full", run->when_full,
                "refuse (keep what is queued, answer the new one unqueued) or drop-oldest")
      ->check(CLI::IsMember({"refuse", "drop-oldest"}));
  r->add_option("--drain-s", run->drain_s,
                "at the end, wait up to this long for the outbox to be delivered")
      ->check(kNonNegative);
  r->callback([run, &exit_code] { exit_code = RunCascade(*run); });

  auto cal = std::make_shared<CalibrateOptions>();
  auto* c = cascade->add_subcommand(
      "calibrate", "choose the hand-off threshold on a validation set, check it on a held-out one");
  AddCommon(c, *cal);
  c->add_option("--validation", cal->validation, "examples FIRST:END to choose on");
  c->add_option("--test", cal->test, "held-out examples FIRST:END to report on");
  c->add_option("--accuracy", cal->accuracy, "target: at least this accuracy (0-1)");
  c->add_option("--accuracy-within-big", cal->within_big_pp,
                "target: at most this many percentage points below the big model alone");
  c->add_option("--max-cloud-ratio", cal->max_cloud_ratio,
                "target: send at most this share of inputs up (0-1)");
  c->add_option("--curve", cal->curve, "write the threshold sweep as CSV");
  c->add_option("--svg", cal->svg, "plot the sweep (accuracy against inputs sent up)");
  c->add_option("--write", cal->write, "write the cascade file with the chosen threshold");
  c->add_option("--json", cal->json, "write the figures as JSON");
  c->callback([cal, &exit_code] { exit_code = Calibrate(*cal); });
}

}  // namespace seam::cli
