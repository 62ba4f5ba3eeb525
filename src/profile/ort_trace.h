// Reading ONNX Runtime's profiler output: a Chrome-trace JSON array of events. Per node run, ORT
// writes three "cat": "Node" events; the one named "<node name>_kernel_time" has the kernel's
// duration in "dur" (microseconds). Everything else (session events, fences) is ignored.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::profile {

// Kernel durations in milliseconds by node name, each node's in the order they ran ("ts").
// `where` names the trace in messages.
using KernelTimes = std::map<std::string, std::vector<double>>;
Result<KernelTimes> ParseOrtTrace(const std::string& json_text, const std::string& where);

}  // namespace seam::profile
