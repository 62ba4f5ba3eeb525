#include "profile/host_info.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace seam::profile {
namespace {

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// The value of the first "key : value" line of a /proc file whose key is `key`.
std::string ProcField(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon != std::string::npos && Trim(line.substr(0, colon)) == key) {
      return Trim(line.substr(colon + 1));
    }
  }
  return "";
}

}  // namespace

HostInfo ReadHostInfo() {
  HostInfo info;
  info.cpu = ProcField("/proc/cpuinfo", "model name");
  if (info.cpu.empty()) info.cpu = "unknown";
  info.logical_cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  // "24684084 kB"
  std::istringstream mem(ProcField("/proc/meminfo", "MemTotal"));
  int64_t kib = 0;
  if (mem >> kib) info.memory_bytes = kib * 1024;
  return info;
}

}  // namespace seam::profile
