#include "cascade/curve_output.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace seam::cascade {

std::string CurveCsv(const std::vector<CurvePoint>& curve) {
  std::string csv = "threshold,accuracy,cloud_fraction,bytes_per_input,mean_latency_ms\n";
  for (const auto& p : curve) {
    char b[160];
    std::snprintf(b, sizeof b, "%.8g,%.6f,%.6f,%.2f,%.4f\n", p.threshold, p.accuracy,
                  p.cloud_fraction, p.bytes_per_input, p.mean_latency_ms);
    csv += b;
  }
  return csv;
}

std::string CurveSvg(const std::vector<CurvePoint>& curve, const CurvePoint& chosen,
                     double small_acc, double big_acc, const std::string& title) {
  const double w = 640, h = 400, left = 60, right = 20, top = 30, bottom = 50;
  double lo = std::min(small_acc, big_acc), hi = std::max(small_acc, big_acc);
  for (const auto& p : curve) lo = std::min(lo, p.accuracy), hi = std::max(hi, p.accuracy);
  lo -= 0.005;
  hi += 0.005;
  auto x = [&](double f) { return left + f * (w - left - right); };
  auto y = [&](double a) { return top + (hi - a) / (hi - lo) * (h - top - bottom); };
  char b[256];
  std::string svg =
      "<svg xmlns='http://www.w3.org/2000/svg' width='640' height='400' "
      "font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' "
      "fill='white'/>\n";
  std::string escaped;
  for (char ch : title) {
    escaped += ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : std::string(1, ch);
  }
  svg += "<text x='60' y='18'>" + escaped + "</text>\n";
  for (int k = 0; k <= 4; ++k) {
    const double f = k / 4.0, a = lo + (hi - lo) * k / 4.0;
    std::snprintf(b, sizeof b,
                  "<text x='%g' y='%g' text-anchor='middle'>%.0f%%</text>"
                  "<text x='%g' y='%g' text-anchor='end'>%.1f%%</text>\n",
                  x(f), h - bottom + 18, 100 * f, left - 6, y(a) + 4, 100 * a);
    svg += b;
  }
  std::snprintf(b, sizeof b,
                "<text x='%g' y='%g' text-anchor='middle'>inputs sent to the big model</text>\n"
                "<rect x='%g' y='%g' width='%g' height='%g' fill='none' stroke='#888'/>\n",
                (left + w - right) / 2, h - 12, left, top, w - left - right, h - top - bottom);
  svg += b;
  for (const auto& [acc, label, colour] :
       {std::tuple{small_acc, "small alone", "#d62728"}, {big_acc, "big alone", "#2ca02c"}}) {
    std::snprintf(b, sizeof b,
                  "<line x1='%g' x2='%g' y1='%g' y2='%g' stroke='%s' stroke-dasharray='4 3'/>"
                  "<text x='%g' y='%g' fill='%s' text-anchor='end'>%s</text>\n",
                  left, w - right, y(acc), y(acc), colour, w - right - 4, y(acc) - 4, colour,
                  label);
    svg += b;
  }
  svg += "<polyline fill='none' stroke='#1f77b4' stroke-width='1.5' points='";
  for (const auto& p : curve) {
    std::snprintf(b, sizeof b, "%.1f,%.1f ", x(p.cloud_fraction), y(p.accuracy));
    svg += b;
  }
  svg += "'/>\n";
  std::snprintf(b, sizeof b,
                "<circle cx='%g' cy='%g' r='4' fill='#ff7f0e'/><text x='%g' y='%g'>chosen: "
                "threshold %.4g</text>\n",
                x(chosen.cloud_fraction), y(chosen.accuracy), x(chosen.cloud_fraction) + 8,
                y(chosen.accuracy) + 16, chosen.threshold);
  return svg + b + "</svg>\n";
}

}  // namespace seam::cascade
