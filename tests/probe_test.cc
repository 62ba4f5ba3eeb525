// `seam probe` against a real `seam serve` on loopback: it measures, prints a --link flag that
// `seam plan` accepts, and fails clearly when nothing listens.
#include <gtest/gtest.h>

#include "plan/link.h"
#include "tests/server_process.h"
#include "tests/support/run_seam.h"

namespace seam {
namespace {

TEST(ProbeTest, MeasuresALoopbackServerAndPrintsAPlanLink) {
  testing::TestRepository repository;  // empty: the probe needs no model
  std::string error;
  auto server = testing::ServerProcess::Start({"--repo", repository.root()}, &error);
  ASSERT_TRUE(server) << error;
  testing::Outcome o =
      testing::RunSeam("probe " + server->address() + " --link device-edge --repetitions 3");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const auto flag = o.output.find("--link device-edge=");
  ASSERT_NE(flag, std::string::npos) << o.output;
  std::string spec = o.output.substr(flag + 19);
  spec = spec.substr(0, spec.find('\n'));
  auto link = plan::ParseLink(spec);
  ASSERT_TRUE(link.ok()) << spec << ": " << link.status().ToString();
  EXPECT_GT(link->bandwidth_bps, 1e6);  // loopback moves far more than 1 Mbit/s
  EXPECT_GT(link->rtt_ms, 0);
  EXPECT_EQ(server->Stop(), 0);
}

TEST(ProbeTest, UnreachableServerIsOneLineAndExitOne) {
  testing::Outcome o = testing::RunSeam("probe 127.0.0.1:1 --timeout-s 0.5");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.output, "seam: error: cannot reach a server at 127.0.0.1:1 within 0.5 s\n");
}

}  // namespace
}  // namespace seam
