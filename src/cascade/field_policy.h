// Field policies: which frames of a camera stream are worth running a model on at all. Cheap
// tricks from the field, each counted so an operator sees what was skipped and why:
//
//   every_n        process 1 frame of every N (a camera at 20 fps, 1 per second is often enough)
//   windows        only inside local time windows, e.g. 00:00-06:00 (rats come out at night);
//                  a window may wrap midnight (22:00-02:00)
//   motion         skip a frame too similar to the last processed one. The measure is the mean
//                  absolute difference per element between the two frames, on the model's input
//                  scale (pixels / 255: 0 = identical, 1 = black against white); a frame whose
//                  difference is below `motion_threshold` is skipped. 0.02 (about 5 grey levels
//                  on average) ignores sensor noise and small lighting drift and passes a person
//                  or an animal crossing a good part of the frame. The first frame always passes.
//
// Order: the window first (outside it nothing is looked at), then 1-of-N over the frames inside
// the windows, then motion over the sampled frames (a sampled frame that shows no motion is
// skipped and does not become the new reference). Pure: the local time of day is passed in
// (LocalMinuteOfDay turns a clock reading into it for a time zone), so tests inject any time.
//
// Not thread-safe: one policy per stream of frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"

namespace seam::cascade {

struct TimeWindow {
  int start_minute = 0;  // minutes after local midnight, [0, 1440)
  int end_minute = 0;    // exclusive; < start_minute: the window wraps midnight
  bool Contains(int minute) const;
};

// "06:30" -> 390. INVALID_ARGUMENT for anything but HH:MM from 00:00 to 24:00.
Result<int> ParseTimeOfDay(const std::string& text);

// "00:00-06:00" (or several, comma-separated). INVALID_ARGUMENT naming the bad part.
Result<std::vector<TimeWindow>> ParseWindows(const std::string& text);

struct FieldPolicyConfig {
  int every_n = 1;                  // >= 1
  std::vector<TimeWindow> windows;  // empty: always
  double motion_threshold = 0;      // 0: no motion gating; else in (0, 1]

  Status Validate() const;
};

enum class FrameVerdict { kProcess, kOutsideWindow, kSampledOut, kNoMotion };
const char* VerdictName(FrameVerdict verdict);

struct FieldCounters {
  int64_t frames = 0, processed = 0, outside_window = 0, sampled_out = 0, no_motion = 0;
};

class FieldPolicy {
 public:
  explicit FieldPolicy(FieldPolicyConfig config) : config_(std::move(config)) {}

  // Whether to run the model on `frame`, seen at `local_minute` (minutes after local midnight).
  // A frame that is processed becomes the motion reference.
  FrameVerdict Admit(const Tensor& frame, int local_minute);

  const FieldCounters& counters() const { return counters_; }

 private:
  FieldPolicyConfig config_;
  FieldCounters counters_;
  int64_t in_window_ = 0;  // frames seen inside the windows, for 1-of-N
  std::optional<Tensor> reference_;
};

// Mean absolute difference per element of two FP32 tensors of the same shape (the motion
// measure); nullopt when they are not comparable (then the frame counts as motion).
std::optional<double> MeanAbsoluteDifference(const Tensor& a, const Tensor& b);

// Minutes after midnight of `when` in `time_zone` (an IANA name such as "Europe/Paris", from the
// system's tzdata; "" or "UTC" for UTC). NOT_FOUND naming the zone when tzdata has no such zone.
// Uses the C library's zone rules (TZ) under a lock: the process's own TZ is restored.
Result<int> LocalMinuteOfDay(std::chrono::system_clock::time_point when,
                             const std::string& time_zone);

}  // namespace seam::cascade
