// --cpu-quota for the commands that stand for a weaker tier (run: the device; serve: an edge box).
#pragma once

#include <memory>

#include "common/status.h"
#include "profile/cpu_quota.h"

namespace seam::cli {

// Limits this process to `cores` with a cgroup quota (profile/cpu_quota.h) for as long as the
// returned object lives; null for cores <= 0. Warns on stderr, and carries on, where no cgroup
// can be made (not root, a fresh /sys inside a network namespace).
Result<std::unique_ptr<profile::CpuQuota>> LimitCpu(double cores);

}  // namespace seam::cli
