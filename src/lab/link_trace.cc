#include "lab/link_trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

#include "common/file_util.h"

namespace seam::lab {

double LinkTrace::RateBps(int64_t k, int64_t window_ms) const {
  if (opportunities_ms.empty() || period_ms <= 0 || window_ms <= 0) return 0;
  // Count opportunities in [start, end) of the repeated trace.
  auto count_until = [&](int64_t t) {  // opportunities with time < t, over repetitions
    const int64_t laps = t / period_ms;
    const int64_t rest = t % period_ms;
    const auto within = std::lower_bound(opportunities_ms.begin(), opportunities_ms.end(), rest) -
                        opportunities_ms.begin();
    return laps * static_cast<int64_t>(opportunities_ms.size()) + within;
  };
  const int64_t start = k * window_ms;
  const int64_t packets = count_until(start + window_ms) - count_until(start);
  return static_cast<double>(packets) * kMahimahiPacketBytes * 8 / (window_ms * 1e-3);
}

double LinkTrace::MeanRateBps() const {
  if (period_ms <= 0) return 0;
  return static_cast<double>(opportunities_ms.size()) * kMahimahiPacketBytes * 8 /
         (period_ms * 1e-3);
}

Result<LinkTrace> ParseMahimahi(const std::string& text, const std::string& where) {
  LinkTrace trace;
  size_t line_number = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    int64_t ms = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), ms);
    const std::string at = where + ":" + std::to_string(line_number);
    if (ec != std::errc() || ptr != line.data() + line.size() || ms < 0) {
      return InvalidArgument(at + ": '" + std::string(line.substr(0, 40)) +
                             "' is not a delivery time (a non-negative integer of milliseconds, "
                             "one per 1500-byte packet: the Mahimahi trace format)");
    }
    if (!trace.opportunities_ms.empty() && ms < trace.opportunities_ms.back()) {
      return InvalidArgument(at + ": time " + std::to_string(ms) + " ms goes back from " +
                             std::to_string(trace.opportunities_ms.back()) + " ms");
    }
    trace.opportunities_ms.push_back(ms);
  }
  if (trace.opportunities_ms.empty()) {
    return InvalidArgument(where + ": no delivery times: not a Mahimahi trace");
  }
  trace.period_ms = std::max<int64_t>(1, trace.opportunities_ms.back());
  return trace;
}

Result<LinkTrace> ReadMahimahi(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseMahimahi(text, path);
}

std::string ToMahimahi(const LinkTrace& trace) {
  std::string out;
  out.reserve(trace.opportunities_ms.size() * 6);
  for (int64_t ms : trace.opportunities_ms) {
    out += std::to_string(ms);
    out += '\n';
  }
  return out;
}

Status SyntheticLteOptions::Validate() const {
  if (duration_ms < 1 || step_ms < 1)
    return InvalidArgument("trace duration and step must be >= 1 ms");
  if (!(min_mbps > 0) || !(max_mbps >= min_mbps) || start_mbps < min_mbps ||
      start_mbps > max_mbps) {
    return InvalidArgument("synthetic trace rates must satisfy 0 < min <= start <= max");
  }
  if (!(volatility >= 0) || !(fade_probability >= 0 && fade_probability <= 1)) {
    return InvalidArgument("volatility must be >= 0 and the fade probability in [0, 1]");
  }
  return Status::Ok();
}

Result<LinkTrace> SyntheticLteTrace(const SyntheticLteOptions& o) {
  SEAM_RETURN_IF_ERROR(o.Validate());
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> step(0, o.volatility);
  std::bernoulli_distribution fade(o.fade_probability);
  LinkTrace trace;
  double log_rate = std::log(o.start_mbps);
  double owed = 0;  // fractional packets carried to the next millisecond
  for (int64_t t0 = 0; t0 < o.duration_ms; t0 += o.step_ms) {
    log_rate = std::clamp(log_rate + step(rng), std::log(o.min_mbps), std::log(o.max_mbps));
    const double mbps = std::exp(log_rate) / (fade(rng) ? 10 : 1);
    const double per_ms = mbps * 1e6 / 8 / kMahimahiPacketBytes / 1000;
    for (int64_t t = t0; t < std::min(o.duration_ms, t0 + o.step_ms); ++t) {
      owed += per_ms;
      for (; owed >= 1; owed -= 1) trace.opportunities_ms.push_back(t + 1);
    }
  }
  if (trace.opportunities_ms.empty()) trace.opportunities_ms.push_back(o.duration_ms);
  trace.period_ms = std::max<int64_t>(1, o.duration_ms);
  return trace;
}

}  // namespace seam::lab
