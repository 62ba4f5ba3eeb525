// The calibration curve for people: CSV (one row per threshold) and an SVG picture (accuracy
// against the share of inputs sent up, each model alone as a dashed reference line, the chosen
// threshold marked).
#pragma once

#include <string>
#include <vector>

#include "cascade/calibration.h"

namespace seam::cascade {

// "threshold,accuracy,cloud_fraction,bytes_per_input,mean_latency_ms" and a row per point.
std::string CurveCsv(const std::vector<CurvePoint>& curve);

std::string CurveSvg(const std::vector<CurvePoint>& curve, const CurvePoint& chosen,
                     double small_acc, double big_acc, const std::string& title);

}  // namespace seam::cascade
