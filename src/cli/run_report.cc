#include "cli/run_report.h"

#include <algorithm>
#include <cmath>

#include "common/percentile.h"

namespace seam::cli {

void RunReport::Add(double t_ms, double latency_ms, const client::Trace& trace, bool failed) {
  char kind = 'f';
  if (!failed) kind = trace.degraded ? 'd' : trace.links.empty() ? 'l' : 's';
  if (window_ms_ > 0) {
    if (window_start_ < points_.size() &&
        std::floor(t_ms / window_ms_) > std::floor(points_[window_start_].t_ms / window_ms_)) {
      PrintWindow(window_start_, points_.size());
      window_start_ = points_.size();
    }
    const char route = failed ? 0 : kind == 's' ? 's' : 'l';
    // A change of plan explains a change of route on its own line (below).
    const bool plan_changed =
        !failed && !trace.plan.empty() && !last_plan_.empty() && trace.plan != last_plan_;
    if (route != 0 && last_route_ != 0 && route != last_route_ && !plan_changed) {
      std::fprintf(out_, "[%7.1f s] route: %s -> %s: %s\n", t_ms / 1e3,
                   last_route_ == 's' ? "sent" : "local", route == 's' ? "sent" : "local",
                   (trace.degraded ? trace.degraded_reason : trace.route).c_str());
      std::fflush(out_);
    }
    if (route != 0) last_route_ = route;
    if (!failed && !trace.plan.empty()) {
      if (plan_changed) {
        std::fprintf(out_, "[%7.1f s] plan: %s -> %s\n", t_ms / 1e3, last_plan_.c_str(),
                     trace.plan_reason.c_str());
        std::fflush(out_);
      }
      last_plan_ = trace.plan;
    }
  }
  points_.push_back({t_ms, latency_ms, kind});
}

void RunReport::PrintWindow(size_t from, size_t to) {
  if (from >= to) return;
  std::vector<double> latencies;
  int sent = 0, local = 0, degraded = 0, failed = 0;
  for (size_t i = from; i < to; ++i) {
    latencies.push_back(points_[i].latency_ms);
    switch (points_[i].kind) {
      case 's':
        ++sent;
        break;
      case 'l':
        ++local;
        break;
      case 'd':
        ++local, ++degraded;
        break;
      default:
        ++failed;
    }
  }
  std::fprintf(out_,
               "[%7.1f s] %4zu requests  p50 %8.2f ms  p99 %8.2f ms  sent %4d  local %4d "
               "(degraded %d)  failed %d\n",
               std::floor(points_[from].t_ms / window_ms_) * window_ms_ / 1e3, to - from,
               Percentile(latencies, 0.5), Percentile(latencies, 0.99), sent, local, degraded,
               failed);
  std::fflush(out_);
}

void RunReport::Finish() {
  if (window_ms_ > 0) PrintWindow(window_start_, points_.size());
  window_start_ = points_.size();
}

std::string RunReport::Svg(const std::string& title) const {
  constexpr double kWidth = 900, kHeight = 360, kLeft = 60, kBottom = 40, kTop = 30;
  double t_max = 1, l_max = 1;
  for (const auto& p : points_) {
    t_max = std::max(t_max, p.t_ms);
    l_max = std::max(l_max, p.latency_ms);
  }
  // Log scale from 1 ms to the worst latency.
  const double decades = std::max(1.0, std::ceil(std::log10(l_max)));
  auto x = [&](double t) { return kLeft + (kWidth - kLeft - 20) * t / t_max; };
  auto y = [&](double ms) {
    const double f = std::log10(std::max(ms, 1.0)) / decades;
    return kHeight - kBottom - (kHeight - kBottom - kTop) * f;
  };
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" +
                    std::to_string(static_cast<int>(kWidth)) + "' height='" +
                    std::to_string(static_cast<int>(kHeight)) +
                    "' font-family='sans-serif' font-size='12'>\n<rect width='100%' "
                    "height='100%' fill='white'/>\n<text x='" +
                    std::to_string(static_cast<int>(kLeft)) + "' y='18'>" + title + "</text>\n";
  char buffer[256];
  for (int d = 0; d <= decades; ++d) {
    const double ms = std::pow(10.0, d);
    std::snprintf(buffer, sizeof buffer,
                  "<line x1='%.0f' x2='%.0f' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='5' "
                  "y='%.1f'>%g ms</text>\n",
                  kLeft, kWidth - 20, y(ms), y(ms), y(ms) + 4, ms);
    svg += buffer;
  }
  std::snprintf(buffer, sizeof buffer, "<text x='%.0f' y='%.0f'>time (s), 0 .. %.1f</text>\n",
                kWidth / 2 - 60, kHeight - 8, t_max / 1e3);
  svg += buffer;
  for (const auto& p : points_) {
    const char* colour = p.kind == 's'   ? "#1f77b4"
                         : p.kind == 'l' ? "#2ca02c"
                         : p.kind == 'd' ? "#ff7f0e"
                                         : "#d62728";
    std::snprintf(buffer, sizeof buffer, "<circle cx='%.1f' cy='%.1f' r='1.6' fill='%s'/>\n",
                  x(p.t_ms), y(p.latency_ms), colour);
    svg += buffer;
  }
  const char* legend[][2] = {{"#1f77b4", "sent up"},
                             {"#2ca02c", "local (faster)"},
                             {"#ff7f0e", "local (degraded)"},
                             {"#d62728", "failed"}};
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buffer, sizeof buffer,
                  "<circle cx='%.0f' cy='14' r='4' fill='%s'/><text x='%.0f' y='18'>%s</text>\n",
                  kWidth - 470 + i * 115.0, legend[i][0], kWidth - 462 + i * 115.0, legend[i][1]);
    svg += buffer;
  }
  return svg + "</svg>\n";
}

}  // namespace seam::cli
