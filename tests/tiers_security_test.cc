// TLS and bearer tokens on every hop, as a user sets them up: an edge and a cloud each requiring
// mutual TLS and their own tokens, certificates the test makes with the openssl command. `seam
// deploy --hop-*` writes where each tier finds its credentials into the stage of the tier below
// (never the secrets), dials the tiers itself with them, and `seam run` answers bitwise as the
// whole model. Each missing or wrong credential is refused with a message that names the tier and
// what to give. Skipped when openssl is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "graph/test_models.h"
#include "tests/support/http_tools.h"
#include "tests/support/run_seam.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

constexpr char kEdgeToken[] = "edge-token-7f3a";
constexpr char kCloudToken[] = "cloud-token-91c2";
constexpr char kEdgeTokenEnv[] = "SEAM_TEST_EDGE_TOKEN";

class TiersSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (FindProgram("openssl").empty()) return;
    dir_ = new TestRepository();  // a temporary directory for certificates and tokens
    setup_error_ = MakeCertificates(dir_->root());
    if (!setup_error_.empty()) return;
    std::ofstream(File("edge.tokens")) << "# the edge's clients\n" << kEdgeToken << "\n";
    std::ofstream(File("cloud.tokens")) << kCloudToken << "\n";
    std::ofstream(File("cloud.token")) << kCloudToken << "\n";  // what the edge presents
    std::ofstream(File("wrong.token")) << "not-a-known-token\n";
    const std::vector<std::string> tls = {"--tls-cert", File("server.pem"), "--tls-key",
                                          File("server.key")};
    std::vector<std::string> edge = tls, cloud = tls;
    edge.insert(edge.end(),
                {"--tls-client-ca", File("ca.pem"), "--auth-tokens", File("edge.tokens")});
    cloud.insert(cloud.end(),
                 {"--tls-client-ca", File("ca.pem"), "--auth-tokens", File("cloud.tokens")});
    tiers_ = LoopbackTiers::Start(&setup_error_, edge, cloud).release();
  }
  static void TearDownTestSuite() {
    delete tiers_;
    tiers_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "openssl is not installed";
    ASSERT_EQ(setup_error_, "");
    ASSERT_NE(tiers_, nullptr);
    ::setenv(kEdgeTokenEnv, kEdgeToken, 1);
  }
  void TearDown() override { ::unsetenv(kEdgeTokenEnv); }
  static std::string File(const std::string& name) { return dir_->root() + "/" + name; }

  // The device's credentials for the edge (its client certificate, a token from the
  // environment) and the edge's for the cloud (its client certificate, a token file).
  static std::string EdgeCertificate() {
    return " --hop-ca edge=" + File("server.pem") + " --hop-cert edge=" + File("client.pem") +
           " --hop-key edge=file:" + File("client.key");
  }
  static std::string EdgeHop() {
    return EdgeCertificate() + " --hop-token edge=env:" + kEdgeTokenEnv;
  }
  static std::string CloudHop() {
    return " --hop-ca cloud=file:" + File("server.pem") +
           " --hop-cert cloud=" + File("client.pem") +
           " --hop-key cloud=file:" + File("client.key") +
           " --hop-token cloud=file:" + File("cloud.token");
  }
  static std::string DeployArgs(const std::string& plan) {
    return "deploy " + plan + " --bitwise" + tiers_->DeployFlags();
  }
  static std::string Plan(const std::string& name) {
    return WriteThirdsPlan(tiers_->scratch(), name);
  }

  static inline TestRepository* dir_ = nullptr;
  static inline LoopbackTiers* tiers_ = nullptr;
  static inline std::string setup_error_;
};

// Every stage.json under `root`, concatenated.
std::string StageTexts(const std::string& root) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().filename() == "stage.json") all += ReadFile(entry.path().string()) + "\n";
  }
  return all;
}

TEST_F(TiersSecurityTest, DeployAndRunOverTlsAndTokensOnEveryHop) {
  const std::string plan = Plan("secure");
  const Outcome deploy = RunSeam(DeployArgs(plan) + EdgeHop() + CloudHop());
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  EXPECT_NE(deploy.output.find("deployed on 3 tiers"), std::string::npos) << deploy.output;

  const Outcome run =
      RunSeam("run --plan " + plan + " --random 2 --repeat 2 --check --no-adapt --no-fallback");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("check: outputs equal the whole model's, bitwise"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("edge->cloud"), std::string::npos) << run.output;

  // The stages name where the credentials are, and hold none of them.
  const std::string stages =
      StageTexts(tiers_->edge_repository().root()) + StageTexts(tiers_->scratch());
  EXPECT_NE(stages.find("\"token\": \"file:" + File("cloud.token") + "\""), std::string::npos)
      << stages;
  EXPECT_NE(stages.find(std::string("\"token\": \"env:") + kEdgeTokenEnv + "\""), std::string::npos)
      << stages;
  EXPECT_EQ(stages.find(kEdgeToken), std::string::npos);
  EXPECT_EQ(stages.find(kCloudToken), std::string::npos);
  EXPECT_EQ(stages.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TiersSecurityTest, TheDeviceMayNameOtherCredentialsThanTheDeployment) {
  const std::string plan = Plan("override");
  ASSERT_EQ(RunSeam(DeployArgs(plan) + EdgeHop() + CloudHop()).exit_code, 0);
  // A wrong token from the run's own flags overrides the deployment's right one.
  const Outcome wrong =
      RunSeam("run --plan " + plan + " --random 1 --no-adapt --no-fallback" + EdgeCertificate() +
              " --hop-token edge=file:" + File("wrong.token"));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("invalid bearer token"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("edge"), std::string::npos) << wrong.output;
  // The right one, from a file this time; the deployment's TLS is kept.
  std::ofstream(File("edge.token")) << kEdgeToken << "\n";
  const Outcome right = RunSeam("run --plan " + plan + " --random 1 --no-adapt --no-fallback" +
                                " --hop-token edge=file:" + File("edge.token"));
  EXPECT_EQ(right.exit_code, 0) << right.output;
  // The device dials only the edge: credentials for the cloud would go unused.
  const Outcome cloud =
      RunSeam("run --plan " + plan + " --random 1 --hop-token cloud=file:" + File("cloud.token"));
  EXPECT_EQ(cloud.exit_code, 1) << cloud.output;
  EXPECT_NE(cloud.output.find("security for tier 'cloud': the device dials only 'edge'"),
            std::string::npos)
      << cloud.output;
}

TEST_F(TiersSecurityTest, EachMissingCredentialIsNamed) {
  const std::string plan = Plan("refused");
  struct Case {
    std::string flags;
    std::string expected;
  };
  const std::vector<Case> cases = {
      // Plaintext to a TLS server.
      {CloudHop(), "edge at " + tiers_->edge().address() +
                       " could not load 'dag_blocks-edge' (unreachable: the connection failed; "
                       "is it running, without TLS?)"},
      // TLS without the edge's token.
      {CloudHop() + EdgeCertificate(), "missing bearer token"},
      // The edge requires a client certificate.
      {CloudHop() + " --hop-ca edge=" + File("server.pem") +
           " --hop-token edge=env:" + kEdgeTokenEnv,
       "not requiring a client certificate"},
      // The cloud requires a client certificate.
      {EdgeHop() + " --hop-ca cloud=" + File("server.pem") +
           " --hop-token cloud=file:" + File("cloud.token"),
       "not requiring a client certificate"},
      // A wrong token for the cloud.
      {EdgeHop() + " --hop-ca cloud=" + File("server.pem") + " --hop-cert cloud=" +
           File("client.pem") + " --hop-key cloud=file:" + File("client.key") +
           " --hop-token cloud=file:" + File("wrong.token"),
       "invalid bearer token"},
  };
  for (const Case& c : cases) {
    const Outcome deploy = RunSeam(DeployArgs(plan) + " --ready-timeout-s 3" + c.flags);
    EXPECT_EQ(deploy.exit_code, 1) << c.flags << "\n" << deploy.output;
    EXPECT_NE(deploy.output.find(c.expected), std::string::npos) << c.flags << "\n"
                                                                 << deploy.output;
  }
}

TEST_F(TiersSecurityTest, BadCredentialFlagsAreOneClearError) {
  const std::string plan = Plan("badflags");
  struct Case {
    std::string flags;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {" --hop-cert cloud=" + File("client.pem") + " --hop-ca cloud=" + File("server.pem"),
       "--hop-* cloud: a client certificate needs its key"},
      {" --hop-token clod=file:" + File("cloud.token"),
       "credentials for 'clod': " + plan + " has no such server tier"},
      {" --hop-token cloud", "--hop-token: expected TIER=SOURCE (the value is not repeated)"},
      {" --hop-ca cloud", "--hop-ca 'cloud': expected TIER=VALUE"},
      {" --hop-token cloud=" + std::string(kCloudToken),
       "the token: give where it is, file:PATH or env:NAME, not a bare value"},
      {" --hop-ca cloud=certs/ca.pem",
       "the hop to cloud: the CA certs/ca.pem: give an absolute path"},
      {" --hop-ca cloud=" + File("server.pem") + " --hop-cert cloud=" + File("client.pem") +
           " --hop-key cloud=file:" + File("other.key"),
       "the hop to cloud: the client key file:" + File("other.key") +
           " does not match the client certificate " + File("client.pem")},
      {" --hop-token edge=env:SEAM_TEST_UNSET_VARIABLE",
       "the hop to edge: the token: the environment variable SEAM_TEST_UNSET_VARIABLE is not set"},
      {" --hop-ca edge=" + File("edge.tokens"),
       "the hop to edge: the CA " + File("edge.tokens") + " holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    const Outcome deploy = RunSeam(DeployArgs(plan) + c.flags);
    EXPECT_EQ(deploy.exit_code, 1) << c.flags << "\n" << deploy.output;
    EXPECT_EQ(deploy.output.find(kCloudToken), std::string::npos) << "a secret was repeated";
    EXPECT_NE(deploy.output.find(c.expected), std::string::npos) << c.flags << "\n"
                                                                 << deploy.output;
  }
  const Outcome run =
      RunSeam("run --plan " + plan + " --random 1 --hop-token attic=env:X");  // no tier
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("security for tier 'attic'"), std::string::npos) << run.output;
}

// `seam probe` measures a link to a server that wants TLS and a token, with the same sources.
TEST_F(TiersSecurityTest, ProbeDialsWithTheSameCredentials) {
  const std::string base = "probe " + tiers_->edge().address() +
                           " --repetitions 1 --payload-mb 0.2 --timeout-s 5 --ca " +
                           File("server.pem") + " --cert " + File("client.pem") +
                           " --key file:" + File("client.key");
  const Outcome probe = RunSeam(base + " --token env:" + kEdgeTokenEnv);
  EXPECT_EQ(probe.exit_code, 0) << probe.output;
  EXPECT_NE(probe.output.find("round trip"), std::string::npos) << probe.output;
  const Outcome no_token = RunSeam(base);
  EXPECT_EQ(no_token.exit_code, 1) << no_token.output;
  EXPECT_NE(no_token.output.find("missing bearer token"), std::string::npos) << no_token.output;
}

}  // namespace
}  // namespace seam::testing
