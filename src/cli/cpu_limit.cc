#include "cli/cpu_limit.h"

#include <cstdio>

#include "profile/host_info.h"

namespace seam::cli {

Result<std::unique_ptr<profile::CpuQuota>> LimitCpu(double cores) {
  if (cores <= 0) return std::unique_ptr<profile::CpuQuota>();
  SEAM_RETURN_IF_ERROR(profile::ValidateCpuQuota(cores, profile::ReadHostInfo().logical_cores));
  auto quota = profile::CpuQuota::Apply(cores);
  if (!quota->applied()) {
    std::fprintf(stderr, "seam: warning: --cpu-quota not applied: %s\n", quota->note().c_str());
  }
  return quota;
}

}  // namespace seam::cli
