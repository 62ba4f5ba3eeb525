// What `seam run --report-ms W` prints while requests run, and its `--svg` picture: per window,
// the requests, p50 and p99, and how they were answered (sent up, finished on the device,
// degraded, failed); a line whenever the route (or, with a plan set, the plan) changes, with the
// device's reason; latency over
// time with each request coloured by its route.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "seam/client.h"

namespace seam::cli {

class RunReport {
 public:
  // `window_ms` 0: no window lines (the SVG can still be drawn). Lines go to `out`.
  RunReport(double window_ms, std::FILE* out) : window_ms_(window_ms), out_(out) {}

  // One request that started at `t_ms` (since the run began). `trace` is ignored when it failed.
  void Add(double t_ms, double latency_ms, const client::Trace& trace, bool failed);
  // Prints the last, partial window.
  void Finish();
  std::string Svg(const std::string& title) const;

 private:
  struct Point {
    double t_ms, latency_ms;
    char kind;  // 's'ent, 'l'ocal, 'd'egraded, 'f'ailed
  };
  void PrintWindow(size_t from, size_t to);

  const double window_ms_;
  std::FILE* const out_;
  std::vector<Point> points_;
  size_t window_start_ = 0;  // first point of the current window
  char last_route_ = 0;      // 's' or 'l'
  std::string last_plan_;    // with a plan set: the plan of the last request answered
};

}  // namespace seam::cli
