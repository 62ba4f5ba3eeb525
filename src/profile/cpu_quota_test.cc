// CpuQuota against fake cgroup trees in a temporary directory: which files it writes, where it
// creates its group, and how it reports what it could not do. (tests/profile_test.cc checks that
// a real quota slows the process down, where the host allows one.)
#include "profile/cpu_quota.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace seam::profile {
namespace {
namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Touch(const fs::path& path, const std::string& contents = "") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << contents;
}

class CpuQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("seam_cpu_quota_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Group() const { return "seam-profile-" + std::to_string(::getpid()); }
  fs::path root_;
};

TEST(ValidateCpuQuotaTest, AcceptsFractionsUpToTheCoreCount) {
  EXPECT_TRUE(ValidateCpuQuota(0.5, 2).ok());
  EXPECT_TRUE(ValidateCpuQuota(2, 2).ok());
  EXPECT_TRUE(ValidateCpuQuota(0.01, 1).ok());
  for (double bad : std::initializer_list<double>{0.0, -1.0, 0.005, 2.5, NAN, INFINITY}) {
    Status s = ValidateCpuQuota(bad, 2);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateCpuQuota(3, 2).message(),
            "--cpu-quota 3: must be a fraction of CPU time between 0.01 and the 2 logical cores "
            "of this host (0.5 = half of one core)");
}

TEST_F(CpuQuotaTest, V2CreatesASiblingGroupAndEnablesTheController) {
  // /<root>/cgroup.controllers lists cpu; we sit in /user.slice/session, so the group goes into
  // /user.slice, whose subtree_control does not have cpu yet.
  Touch(root_ / "cgroup.controllers", "cpuset cpu io memory pids\n");
  Touch(root_ / "user.slice/cgroup.subtree_control", "memory pids\n");
  Touch(root_ / "user.slice/session/cgroup.procs");
  const fs::path group = root_ / "user.slice" / Group();
  Touch(group / "cpu.max", "max 100000\n");  // cgroupfs makes these; a plain directory does not
  Touch(group / "cgroup.procs");
  const CgroupLayout layout{.v2_mount = root_.string(), .v2_path = "/user.slice/session"};
  {
    auto quota = CpuQuota::Apply(0.5, layout);
    ASSERT_TRUE(quota->applied()) << quota->note();
    EXPECT_EQ(quota->mechanism(), "cgroup-v2");
    EXPECT_EQ(quota->group(), group.string());
    EXPECT_EQ(Slurp(group / "cpu.max").substr(0, 10), "5000 10000");
    EXPECT_EQ(Slurp(group / "cgroup.procs"), std::to_string(::getpid()));
    EXPECT_EQ(Slurp(root_ / "user.slice/cgroup.subtree_control").substr(0, 4), "+cpu");
  }
  // Back where it was, and the controller change undone.
  EXPECT_EQ(Slurp(root_ / "user.slice/session/cgroup.procs"), std::to_string(::getpid()));
  EXPECT_EQ(Slurp(root_ / "user.slice/cgroup.subtree_control").substr(0, 4), "-cpu");
}

TEST_F(CpuQuotaTest, V2AtTheRootUsesAChildOfTheRoot) {
  Touch(root_ / "cgroup.controllers", "cpu\n");
  Touch(root_ / "cgroup.subtree_control", "cpu\n");
  Touch(root_ / "cgroup.procs");
  Touch(root_ / Group() / "cpu.max");
  Touch(root_ / Group() / "cgroup.procs");
  auto quota = CpuQuota::Apply(1.5, {.v2_mount = root_.string(), .v2_path = "/"});
  ASSERT_TRUE(quota->applied()) << quota->note();
  EXPECT_EQ(Slurp(root_ / Group() / "cpu.max"), "15000 10000");
  EXPECT_EQ(Slurp(root_ / "cgroup.subtree_control"), "cpu\n");  // already enabled: untouched
}

TEST_F(CpuQuotaTest, V1CreatesAChildAndWritesQuotaAndPeriod) {
  const fs::path cpu = root_ / "cpu";
  Touch(cpu / "cgroup.procs");
  Touch(cpu / Group() / "cpu.cfs_period_us");
  Touch(cpu / Group() / "cpu.cfs_quota_us");
  Touch(cpu / Group() / "cgroup.procs");
  fs::create_directories(cpu / "seam-profile-999999999");  // left by a process that died
  // A hybrid host: a unified hierarchy without the cpu controller, which stays with v1.
  Touch(root_ / "unified/cgroup.controllers", "\n");
  auto quota = CpuQuota::Apply(0.25, {.v2_mount = (root_ / "unified").string(),
                                      .v2_path = "/",
                                      .v1_cpu_mount = cpu.string(),
                                      .v1_cpu_path = "/"});
  ASSERT_TRUE(quota->applied()) << quota->note();
  EXPECT_EQ(quota->mechanism(), "cgroup-v1");
  EXPECT_EQ(Slurp(cpu / Group() / "cpu.cfs_quota_us"), "2500");
  EXPECT_EQ(Slurp(cpu / Group() / "cpu.cfs_period_us"), "10000");
  EXPECT_EQ(Slurp(cpu / Group() / "cgroup.procs"), std::to_string(::getpid()));
  EXPECT_FALSE(fs::exists(cpu / "seam-profile-999999999"));
}

TEST_F(CpuQuotaTest, ReportsWhyNoQuotaWasApplied) {
  auto quota = CpuQuota::Apply(0.5, {});
  EXPECT_FALSE(quota->applied());
  EXPECT_EQ(quota->mechanism(), "none");
  EXPECT_EQ(quota->note(), "no cgroup hierarchy with the cpu controller is mounted");

  const std::string missing = (root_ / "no/such/cpu").string();
  quota = CpuQuota::Apply(0.5, {.v1_cpu_mount = missing, .v1_cpu_path = "/"});
  EXPECT_FALSE(quota->applied());
  EXPECT_EQ(quota->note(),
            "cannot create cgroup " + missing + "/" + Group() + ": No such file or directory");
}

}  // namespace
}  // namespace seam::profile
