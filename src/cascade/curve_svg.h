// The calibration curve as an SVG picture: accuracy against the share of inputs sent up, each
// model alone as a dashed reference line, the chosen threshold marked.
#pragma once

#include <string>
#include <vector>

#include "cascade/calibration.h"

namespace seam::cascade {

std::string CurveSvg(const std::vector<CurvePoint>& curve, const CurvePoint& chosen,
                     double small_acc, double big_acc, const std::string& title);

}  // namespace seam::cascade
