#include "profile/ort_trace.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

namespace seam::profile {

Result<KernelTimes> ParseOrtTrace(const std::string& json_text, const std::string& where) {
  const nlohmann::json trace = nlohmann::json::parse(json_text, nullptr, false);
  if (trace.is_discarded() || !trace.is_array()) {
    return DataLoss(where + ": not an ONNX Runtime profile (expected a JSON array of events)");
  }
  constexpr std::string_view kSuffix = "_kernel_time";
  std::map<std::string, std::vector<std::pair<double, double>>> by_node;  // (ts, dur) in µs
  for (const auto& event : trace) {
    if (!event.is_object() || event.value("cat", "") != "Node") continue;
    const std::string name = event.value("name", "");
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    const auto dur = event.find("dur");
    const auto ts = event.find("ts");
    if (dur == event.end() || !dur->is_number() || ts == event.end() || !ts->is_number()) {
      return DataLoss(where + ": event '" + name + "' has no numeric 'dur' and 'ts'");
    }
    by_node[name.substr(0, name.size() - kSuffix.size())].emplace_back(ts->get<double>(),
                                                                       dur->get<double>());
  }
  KernelTimes times;
  for (auto& [node, events] : by_node) {
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto& ms = times[node];
    for (const auto& [ts, dur] : events) ms.push_back(dur / 1000.0);
  }
  return times;
}

}  // namespace seam::profile
