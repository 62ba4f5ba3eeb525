#include "cascade/field_policy.h"

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

namespace seam::cascade {
namespace {

Result<int> ParseClock(const std::string& text, const std::string& whole) {
  int h = -1, m = -1;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 ||
      m > 59 || (h == 24 && m != 0) || text.size() != 5) {
    return InvalidArgument("time window '" + whole + "': '" + text +
                           "' is not a time of day HH:MM (00:00 to 24:00)");
  }
  return h * 60 + m;
}

}  // namespace

Result<int> ParseTimeOfDay(const std::string& text) {
  auto minute = ParseClock(text, text);
  if (!minute.ok())
    return InvalidArgument("'" + text + "' is not a time of day HH:MM (00:00 to 24:00)");
  return minute;
}

bool TimeWindow::Contains(int minute) const {
  if (start_minute <= end_minute) return minute >= start_minute && minute < end_minute;
  return minute >= start_minute || minute < end_minute;  // wraps midnight
}

Result<std::vector<TimeWindow>> ParseWindows(const std::string& text) {
  std::vector<TimeWindow> windows;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string part = text.substr(begin, comma - begin);
    const size_t dash = part.find('-');
    if (dash == std::string::npos) {
      return InvalidArgument("time window '" + part + "' is not START-END (e.g. 00:00-06:00)");
    }
    SEAM_ASSIGN_OR_RETURN(int start, ParseClock(part.substr(0, dash), part));
    SEAM_ASSIGN_OR_RETURN(int end, ParseClock(part.substr(dash + 1), part));
    if (start == end || start == 1440) {
      return InvalidArgument("time window '" + part + "' is empty");
    }
    windows.push_back({start, end});
    begin = comma + 1;
  }
  return windows;
}

Status FieldPolicyConfig::Validate() const {
  if (every_n < 1) {
    return InvalidArgument("every_n must be >= 1 (process 1 frame of N), got " +
                           std::to_string(every_n));
  }
  if (!(motion_threshold >= 0 && motion_threshold <= 1)) {
    return InvalidArgument(
        "the motion threshold is a mean difference per pixel on a 0-1 scale, 0 (off) to 1; got " +
        std::to_string(motion_threshold));
  }
  return Status::Ok();
}

const char* VerdictName(FrameVerdict verdict) {
  switch (verdict) {
    case FrameVerdict::kProcess:
      return "processed";
    case FrameVerdict::kOutsideWindow:
      return "outside the time windows";
    case FrameVerdict::kSampledOut:
      return "not the 1 of N";
    case FrameVerdict::kNoMotion:
      return "no motion";
  }
  return "?";
}

std::optional<double> MeanAbsoluteDifference(const Tensor& a, const Tensor& b) {
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || a.shape != b.shape ||
      a.data.size() != b.data.size() || a.data.empty()) {
    return std::nullopt;
  }
  const float* x = a.data_as<float>();
  const float* y = b.data_as<float>();
  const size_t n = a.data.size() / sizeof(float);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(x[i]) - y[i]);
  return sum / static_cast<double>(n);
}

FrameVerdict FieldPolicy::Admit(const Tensor& frame, int local_minute) {
  ++counters_.frames;
  auto verdict = [&]() {
    if (!config_.windows.empty()) {
      bool inside = false;
      for (const auto& w : config_.windows) inside = inside || w.Contains(local_minute);
      if (!inside) return FrameVerdict::kOutsideWindow;
    }
    if (in_window_++ % config_.every_n != 0) return FrameVerdict::kSampledOut;
    if (config_.motion_threshold > 0 && reference_) {
      const auto diff = MeanAbsoluteDifference(frame, *reference_);
      if (diff && *diff < config_.motion_threshold) return FrameVerdict::kNoMotion;
    }
    return FrameVerdict::kProcess;
  }();
  switch (verdict) {
    case FrameVerdict::kProcess:
      ++counters_.processed;
      if (config_.motion_threshold > 0) reference_ = frame;
      break;
    case FrameVerdict::kOutsideWindow:
      ++counters_.outside_window;
      break;
    case FrameVerdict::kSampledOut:
      ++counters_.sampled_out;
      break;
    case FrameVerdict::kNoMotion:
      ++counters_.no_motion;
      break;
  }
  return verdict;
}

Result<int> LocalMinuteOfDay(std::chrono::system_clock::time_point when,
                             const std::string& time_zone) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  if (time_zone.empty() || time_zone == "UTC") {
    gmtime_r(&t, &tm);
    return tm.tm_hour * 60 + tm.tm_min;
  }
  if (time_zone.find("..") != std::string::npos || time_zone.front() == '/' ||
      !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + time_zone)) {
    return NotFound(
        "unknown time zone '" + time_zone +
        "' (an IANA name from /usr/share/zoneinfo, e.g. Europe/Paris; Debian's tzdata)");
  }
  // The C library converts through the process's TZ: set it for the call, then put it back.
  static std::mutex mu;
  std::lock_guard lock(mu);
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  setenv("TZ", time_zone.c_str(), 1);
  tzset();
  localtime_r(&t, &tm);
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  return tm.tm_hour * 60 + tm.tm_min;
}

}  // namespace seam::cascade
