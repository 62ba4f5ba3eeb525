#include "adapt/plan_choice.h"

#include <cstdio>

namespace seam::adapt {
namespace {

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

// "m0 12.3 ms, m1 15.0 ms (down)": every plan's prediction, for the trace.
std::string Predictions(const std::vector<PlanOption>& options) {
  std::string out;
  for (const auto& o : options) {
    if (!out.empty()) out += ", ";
    out += o.name.substr(0, o.name.find(' '));
    out += ' ';
    out += Ms(o.predicted_ms);
    if (!o.allowed) out += " (its next tier is down)";
  }
  return out;
}

}  // namespace

PlanChoice ChoosePlan(const std::vector<PlanOption>& options, int current, double hysteresis) {
  PlanChoice choice;
  const int n = static_cast<int>(options.size());
  if (n == 0) return choice;
  int best = -1;
  for (int i = 0; i < n; ++i) {
    if (!options[i].allowed) continue;
    if (best < 0 || options[i].predicted_ms < options[best].predicted_ms) best = i;
  }
  const bool have_current = current >= 0 && current < n;
  if (best < 0) {
    // Nothing may be sent up: a plan that needs nothing above, else stay (its fallback answers).
    best = have_current ? current : 0;
    for (int i = 0; i < n; ++i) {
      if (options[i].local_only) best = i;
    }
    choice.index = best;
    choice.switched = have_current && best != current;
    choice.reason = "no plan's next tier is reachable; " + options[best].name + " (" +
                    Predictions(options) + ")";
    return choice;
  }
  if (have_current && options[current].allowed && best != current &&
      options[best].predicted_ms > (1 - hysteresis) * options[current].predicted_ms) {
    choice.index = current;
    choice.reason = "kept " + options[current].name + ": the fastest, " +
                    options[best].name.substr(0, options[best].name.find(' ')) +
                    ", is not faster by " + std::to_string(static_cast<int>(hysteresis * 100)) +
                    "% (" + Predictions(options) + ")";
    return choice;
  }
  choice.index = best;
  choice.switched = have_current && best != current;
  std::string why = "the fastest predicted";
  if (have_current && !options[current].allowed && best != current) {
    why = options[current].name.substr(0, options[current].name.find(' ')) +
          "'s next tier is down; the fastest of the others";
  }
  choice.reason = options[best].name + ", " + why + " (" + Predictions(options) + ")";
  return choice;
}

}  // namespace seam::adapt
