// What a profile records about the machine it was taken on (Linux: /proc/cpuinfo, /proc/meminfo).
#pragma once

#include <cstdint>
#include <string>

namespace seam::profile {

struct HostInfo {
  std::string cpu;           // "model name" of the first processor; "unknown" if not found
  int logical_cores = 0;     // online logical CPUs
  int64_t memory_bytes = 0;  // MemTotal; 0 if not found
};

// Never fails: fields it cannot read keep their defaults.
HostInfo ReadHostInfo();

}  // namespace seam::profile
