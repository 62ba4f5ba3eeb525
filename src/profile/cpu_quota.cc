#include "profile/cpu_quota.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace seam::profile {
namespace {
namespace fs = std::filesystem;

// CFS bandwidth period: 10 ms rather than the kernel's default 100 ms, so that a throttled
// process alternates between running and waiting at a finer grain (closer to a uniformly slower
// CPU); longer when needed to keep the quota at the kernel's minimum of 1 ms.
int64_t PeriodUs(double cores) {
  return std::max<int64_t>(10000, static_cast<int64_t>(std::ceil(1000 / cores)));
}
int64_t QuotaUs(double cores) { return std::llround(cores * PeriodUs(cores)); }

constexpr const char* kGroupPrefix = "seam-profile-";

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

bool ContainsWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// cgroupfs files take one write(2); its errno is the reason a write is refused.
Status WriteControl(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Unavailable("cannot write '" + text + "' to " + path + ": " + std::strerror(error));
  }
  return Status::Ok();
}

// The group directory for `path` under `mount`; the mount itself when the path is not visible
// there (a container that mounts only its own subtree).
std::string GroupDir(const std::string& mount, const std::string& path) {
  const std::string dir = mount + (path == "/" ? "" : path);
  std::error_code ec;
  return fs::is_directory(dir, ec) ? dir : mount;
}

// Removes groups left by seam processes that died without cleaning up (rmdir only succeeds on
// empty groups, so a live one is never touched).
void RemoveStaleGroups(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kGroupPrefix)) continue;
    const std::string pid = name.substr(std::strlen(kGroupPrefix));
    if (!fs::exists("/proc/" + pid, ec)) ::rmdir(entry.path().c_str());
  }
}

}  // namespace

CgroupLayout DetectCgroupLayout() {
  CgroupLayout layout;
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    const auto f = Split(line, ' ');  // device mountpoint type options dump pass
    if (f.size() < 4) continue;
    if (f[2] == "cgroup2" && layout.v2_mount.empty()) layout.v2_mount = f[1];
    if (f[2] == "cgroup" && layout.v1_cpu_mount.empty()) {
      for (const auto& option : Split(f[3], ',')) {
        if (option == "cpu") layout.v1_cpu_mount = f[1];
      }
    }
  }
  std::ifstream cgroups("/proc/self/cgroup");
  while (std::getline(cgroups, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.substr(0, a) == "0" && controllers.empty()) layout.v2_path = path;
    for (const auto& c : Split(controllers, ',')) {
      if (c == "cpu") layout.v1_cpu_path = path;
    }
  }
  return layout;
}

Status ValidateCpuQuota(double cores, int logical_cores) {
  if (!std::isfinite(cores) || cores < 0.01 || cores > logical_cores) {
    std::ostringstream msg;
    msg << "--cpu-quota " << cores << ": must be a fraction of CPU time between 0.01 and the "
        << logical_cores << " logical cores of this host (0.5 = half of one core)";
    return InvalidArgument(msg.str());
  }
  return Status::Ok();
}

std::unique_ptr<CpuQuota> CpuQuota::Apply(double cores) {
  return Apply(cores, DetectCgroupLayout());
}

std::unique_ptr<CpuQuota> CpuQuota::Apply(double cores, const CgroupLayout& layout) {
  std::unique_ptr<CpuQuota> quota(new CpuQuota());
  Status status;
  std::string mechanism;
  if (!layout.v2_mount.empty() &&
      ContainsWord(ReadSmall(layout.v2_mount + "/cgroup.controllers"), "cpu")) {
    mechanism = "cgroup-v2";
    status = quota->ApplyV2(layout, cores);
  } else if (!layout.v1_cpu_mount.empty()) {
    mechanism = "cgroup-v1";
    status = quota->ApplyV1(layout, cores);
  } else {
    status = Unavailable("no cgroup hierarchy with the cpu controller is mounted");
  }
  if (status.ok()) {
    quota->applied_ = true;
    quota->mechanism_ = mechanism;
  } else {
    quota->note_ = status.message();
  }
  return quota;
}

Status CpuQuota::CreateGroup(const std::string& parent) {
  RemoveStaleGroups(parent);
  const std::string group = parent + "/" + kGroupPrefix + std::to_string(::getpid());
  if (::mkdir(group.c_str(), 0755) != 0 && errno != EEXIST) {
    return Unavailable("cannot create cgroup " + group + ": " + std::strerror(errno));
  }
  group_ = group;
  return Status::Ok();
}

Status CpuQuota::Enter() {
  return WriteControl(group_ + "/cgroup.procs", std::to_string(::getpid()));
}

Status CpuQuota::ApplyV2(const CgroupLayout& layout, double cores) {
  original_ = GroupDir(layout.v2_mount, layout.v2_path);
  // A non-root group that holds processes cannot pass controllers to children, so the new group
  // goes beside ours, under our parent (or under the root, which is exempt from that rule).
  const std::string parent =
      original_ == layout.v2_mount ? original_ : fs::path(original_).parent_path().string();
  const std::string subtree = parent + "/cgroup.subtree_control";
  if (!ContainsWord(ReadSmall(subtree), "cpu")) {
    SEAM_RETURN_IF_ERROR(WriteControl(subtree, "+cpu"));
    enabled_cpu_in_ = subtree;
  }
  SEAM_RETURN_IF_ERROR(CreateGroup(parent));
  SEAM_RETURN_IF_ERROR(WriteControl(
      group_ + "/cpu.max", std::to_string(QuotaUs(cores)) + " " + std::to_string(PeriodUs(cores))));
  return Enter();
}

Status CpuQuota::ApplyV1(const CgroupLayout& layout, double cores) {
  original_ = GroupDir(layout.v1_cpu_mount, layout.v1_cpu_path);
  SEAM_RETURN_IF_ERROR(CreateGroup(original_));
  SEAM_RETURN_IF_ERROR(
      WriteControl(group_ + "/cpu.cfs_period_us", std::to_string(PeriodUs(cores))));
  SEAM_RETURN_IF_ERROR(WriteControl(group_ + "/cpu.cfs_quota_us", std::to_string(QuotaUs(cores))));
  return Enter();
}

Status CpuQuota::Suspend() {
  if (!applied_) return Status::Ok();
  return WriteControl(original_ + "/cgroup.procs", std::to_string(::getpid()));
}

Status CpuQuota::Resume() {
  if (!applied_) return Status::Ok();
  return Enter();
}

CpuQuota::~CpuQuota() {
  // Best effort: a destructor has no one to report to, and a leftover empty group is removed by
  // the next run (RemoveStaleGroups).
  if (applied_) (void)WriteControl(original_ + "/cgroup.procs", std::to_string(::getpid()));
  if (!group_.empty()) ::rmdir(group_.c_str());
  if (!enabled_cpu_in_.empty()) (void)WriteControl(enabled_cpu_in_, "-cpu");
}

}  // namespace seam::profile
