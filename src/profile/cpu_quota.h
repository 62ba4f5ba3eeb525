// CpuQuota: emulates a weaker device by limiting this whole process to a fraction of CPU time
// with a Linux cgroup CPU quota (CFS bandwidth control), for as long as the object lives.
//
// Detection: cgroup v2 when the unified hierarchy's cgroup.controllers lists "cpu"; otherwise
// cgroup v1 when a v1 hierarchy has the cpu controller. The group is created beside the one the
// process is in (v2: as a sibling, because of the "no internal processes" rule, or as a child of
// the root; v1: as a child), named seam-profile-<pid>; the quota is written (v2 cpu.max "QUOTA
// PERIOD", v1 cpu.cfs_quota_us / cpu.cfs_period_us; period 10 ms, quota = cores * period) and the
// process is moved in via cgroup.procs, which moves every thread. Apply it before creating ONNX
// Runtime sessions: threads created later inherit the group. The destructor moves the process back
// and removes the group.
//
// Needs root (or a delegated cgroup) and a writable cgroup filesystem. When the quota cannot be
// applied, Apply still succeeds: applied() is false, mechanism() is "none" and note() says why,
// so a profile can record that it was measured without a quota.
//
// Not thread-safe; one per process at a time.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace seam::profile {

// Where the cgroup hierarchies are mounted and where this process sits in each ("" = absent).
struct CgroupLayout {
  std::string v2_mount;      // e.g. "/sys/fs/cgroup" (or "/sys/fs/cgroup/unified" on hybrid hosts)
  std::string v2_path;       // from "0::<path>" in /proc/self/cgroup
  std::string v1_cpu_mount;  // the v1 hierarchy with the cpu controller, e.g. "/sys/fs/cgroup/cpu"
  std::string v1_cpu_path;
};

// Reads /proc/self/mounts and /proc/self/cgroup.
CgroupLayout DetectCgroupLayout();

class CpuQuota {
 public:
  // `cores` is the CPU time allowed per unit of wall time: 0.5 is half of one core, 2 two cores.
  // Checked by ValidateCpuQuota first. The layout defaults to the host's; tests pass a fake one.
  static std::unique_ptr<CpuQuota> Apply(double cores);
  static std::unique_ptr<CpuQuota> Apply(double cores, const CgroupLayout& layout);
  ~CpuQuota();
  CpuQuota(const CpuQuota&) = delete;
  CpuQuota& operator=(const CpuQuota&) = delete;

  bool applied() const { return applied_; }
  const std::string& mechanism() const { return mechanism_; }  // "cgroup-v1", "cgroup-v2", "none"
  const std::string& note() const { return note_; }
  const std::string& group() const { return group_; }  // the cgroup directory, when applied

  // Moves the process out of the limited group and back (no-ops when no quota is applied): for
  // measurements that must not be throttled.
  Status Suspend();
  Status Resume();

 private:
  CpuQuota() = default;
  Status ApplyV2(const CgroupLayout& layout, double cores);
  Status ApplyV1(const CgroupLayout& layout, double cores);
  Status CreateGroup(const std::string& parent);
  Status Enter();

  bool applied_ = false;
  std::string mechanism_ = "none";
  std::string note_;
  std::string group_;           // created by us; removed by the destructor
  std::string original_;        // the group to return to
  std::string enabled_cpu_in_;  // a v2 subtree_control we added "+cpu" to, restored on exit
};

// Throttling comes in slices: the group runs until its quota for the period is spent (noticed at
// the next scheduler tick, 4 ms at HZ=250), then waits for the next period. A timed sample must
// span many periods to see the average slowdown rather than none or a whole stall, so samples
// taken under a quota are batches of Runs lasting at least this long (TimerSettings).
inline constexpr double kQuotaMinBatchMs = 100;

// A quota must be at least 0.01 of a core and at most `logical_cores`.
Status ValidateCpuQuota(double cores, int logical_cores);

}  // namespace seam::profile
