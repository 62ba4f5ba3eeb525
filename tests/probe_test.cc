// `seam probe` against a real `seam serve` on loopback: it measures, prints a --link flag that
// `seam plan` accepts, and fails clearly when nothing listens.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

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

// A `seam relay` child in front of `target` (with `flags`), stopped when this goes out of scope
// whatever the test's outcome. address() is empty if it did not print its listening line.
class RelayProcess {
 public:
  RelayProcess(const std::string& dir, const std::string& target, const std::string& flags) {
    const std::string log = dir + "/relay.out", pid_file = dir + "/relay.pid";
    const std::string start = std::string(SEAM_BINARY) + " relay --listen 127.0.0.1:0 --to " +
                              target + " " + flags + " > " + log + " 2>&1 & echo $! > " + pid_file;
    if (std::system(start.c_str()) != 0) return;
    std::ifstream(pid_file) >> pid_;
    for (int i = 0; i < 200 && address_.empty(); ++i) {
      std::ifstream in(log);
      std::string line;
      if (std::getline(in, line) && line.rfind("relay listening on ", 0) == 0) {
        address_ = line.substr(19, line.find(' ', 19) - 19);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  ~RelayProcess() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  const std::string& address() const { return address_; }
  int pid() const { return pid_; }

 private:
  int pid_ = 0;
  std::string address_;
};

// `seam probe ADDRESS ARGS` and the link it prints as a ready --link flag, parsed.
Result<plan::Link> ProbedLink(const std::string& address, const std::string& args,
                              std::string* output) {
  testing::Outcome o = testing::RunSeam("probe " + address + " --link device-edge " + args);
  *output = o.output;
  if (o.exit_code != 0) return Unavailable("seam probe exited " + std::to_string(o.exit_code));
  const auto flag = o.output.find("--link device-edge=");
  if (flag == std::string::npos) return NotFound("no --link device-edge= line");
  const std::string spec = o.output.substr(flag + 19);
  return plan::ParseLink(spec.substr(0, spec.find('\n')));
}

// `seam relay` between the probe and the server shapes the link for real: the probe sees at least
// the added round trip and at most the relay's rate.
TEST(ProbeTest, ARelayShapesWhatTheProbeMeasures) {
  testing::TestRepository repository;
  std::string error;
  auto server = testing::ServerProcess::Start({"--repo", repository.root()}, &error);
  ASSERT_TRUE(server) << error;
  RelayProcess relay_process(repository.root(), server->address(), "--delay-ms 15 --rate 40mbit");
  const std::string relay = relay_process.address();
  ASSERT_FALSE(relay.empty()) << "no 'relay listening on' line";
  std::string output;
  auto link = ProbedLink(relay, "--repetitions 3 --payload-mb 1", &output);
  ASSERT_TRUE(link.ok()) << link.status().ToString() << ": " << output;
  EXPECT_GE(link->rtt_ms, 30) << output;           // 15 ms each way
  EXPECT_LE(link->bandwidth_bps, 44e6) << output;  // 40 Mbit/s, plus the burst
  EXPECT_GT(link->bandwidth_bps, 1e6) << output;
  EXPECT_EQ(server->Stop(), 0);
}

// `seam relay --trace` replays a link trace from its start; SIGUSR1 starts it over (the demo lines
// a trace up with its client's first request this way). The trace: 50 Mbit/s for 0.5 s, then
// 200 kbit/s for a minute. A probe after SIGUSR1 sees the fast start again.
TEST(ProbeTest, SigusrOneStartsARelaysTraceOver) {
  testing::TestRepository repository;
  std::string error;
  auto server = testing::ServerProcess::Start({"--repo", repository.root()}, &error);
  ASSERT_TRUE(server) << error;
  const std::string trace_file = repository.root() + "/fast-then-slow.trace";
  {
    std::ofstream trace(trace_file);
    for (int ms = 1; ms <= 500; ++ms) {
      for (int k = 0; k < 4; ++k) trace << ms << '\n';  // 4 x 1500 B per ms: 48 Mbit/s
    }
    for (int ms = 560; ms <= 60500; ms += 60) trace << ms << '\n';  // 200 kbit/s
  }
  RelayProcess relay_process(repository.root(), server->address(),
                             "--trace " + trace_file + " --window-ms 100");
  const std::string relay = relay_process.address();
  const int pid = relay_process.pid();
  ASSERT_FALSE(relay.empty()) << "no 'relay listening on' line";
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the trace is in its slow part
  ASSERT_EQ(::kill(pid, SIGUSR1), 0);
  std::string output;
  auto link = ProbedLink(relay, "--repetitions 2 --payload-mb 0.1", &output);
  ASSERT_TRUE(link.ok()) << link.status().ToString() << ": " << output;
  EXPECT_GT(link->bandwidth_bps, 5e6) << "the trace did not start over: " << output;
  ASSERT_EQ(::kill(pid, 0), 0) << "SIGUSR1 stopped the relay";
  EXPECT_EQ(server->Stop(), 0);
}

TEST(ProbeTest, ParseBandwidthReadsTheUnitsAndRefusesNonsense) {
  EXPECT_DOUBLE_EQ(*plan::ParseBandwidth("20mbit"), 20e6);
  EXPECT_DOUBLE_EQ(*plan::ParseBandwidth("1.5gbit"), 1.5e9);
  EXPECT_DOUBLE_EQ(*plan::ParseBandwidth("800kbit"), 800e3);
  EXPECT_DOUBLE_EQ(*plan::ParseBandwidth("12345"), 12345);
  EXPECT_FALSE(plan::ParseBandwidth("fast").ok());
  EXPECT_FALSE(plan::ParseBandwidth("-5mbit").ok());
}

TEST(ProbeTest, UnreachableServerIsOneLineAndExitOne) {
  testing::Outcome o = testing::RunSeam("probe 127.0.0.1:1 --timeout-s 0.5");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.output, "seam: error: cannot reach a server at 127.0.0.1:1 within 0.5 s\n");
}

}  // namespace
}  // namespace seam
