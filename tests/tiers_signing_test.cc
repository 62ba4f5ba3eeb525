// Signed stages across three tiers, as a user runs them: edge and cloud started with
// `--trusted-keys`, `seam deploy --sign`, `seam run --trusted-keys`. A signed deployment runs
// bitwise as the whole model and no private key lands beside the models; an unsigned deployment,
// one signed with a key the tiers do not trust, and a device stage changed after signing are each
// refused with a message naming the file and why, while what was deployed before keeps serving.
// Keys are made with the openssl command; skipped when it is not installed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "graph/test_models.h"
#include "tests/support/http_tools.h"
#include "tests/support/run_seam.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

namespace fs = std::filesystem;

class TiersSigningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (FindProgram("openssl").empty()) return;
    dir_ = new TestRepository();  // keys
    for (const char* name : {"ours", "theirs"}) {
      const std::string key = File(std::string(name) + ".key");
      ProcessResult made = RunProcess({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key});
      if (made.exit_code == 0) {
        made = RunProcess(
            {"openssl", "pkey", "-in", key, "-pubout", "-out", File(std::string(name) + ".pub")});
      }
      if (made.exit_code != 0) {
        setup_error_ = "openssl failed: " + made.output;
        return;
      }
    }
    const std::vector<std::string> trust = {"--trusted-keys", File("ours.pub")};
    tiers_ = LoopbackTiers::Start(&setup_error_, trust, trust).release();
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
  }
  static std::string File(const std::string& name) { return dir_->root() + "/" + name; }
  static std::string Plan(const std::string& name) {
    return WriteThirdsPlan(tiers_->scratch(), name);
  }
  static std::string DeployArgs(const std::string& plan) {
    return "deploy " + plan + " --bitwise --ready-timeout-s 5" + tiers_->DeployFlags();
  }

  static inline TestRepository* dir_ = nullptr;
  static inline LoopbackTiers* tiers_ = nullptr;
  static inline std::string setup_error_;
};

// Every file under `root`, concatenated.
std::string AllText(const std::string& root) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) all += ReadFile(entry.path().string());
  }
  return all;
}

TEST_F(TiersSigningTest, ASignedDeploymentRunsAndNoPrivateKeyLandsBesideTheModels) {
  const std::string plan = Plan("signed");
  const Outcome deploy = RunSeam(DeployArgs(plan) + " --sign file:" + File("ours.key"));
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  const Outcome run = RunSeam("run --plan " + plan +
                              " --random 2 --check --no-adapt --trusted-keys " + File("ours.pub"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("check: outputs equal the whole model's, bitwise"), std::string::npos)
      << run.output;
  const std::string written = AllText(tiers_->edge_repository().root()) +
                              AllText(tiers_->cloud_repository().root()) +
                              AllText(tiers_->scratch() + "/signed.device");
  EXPECT_NE(written.find("seam.stage-signature/v1"), std::string::npos);
  EXPECT_EQ(written.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TiersSigningTest, UnsignedAndForeignDeploymentsAreRefusedAndTheGoodOneKeepsServing) {
  const std::string good = Plan("good");
  ASSERT_EQ(RunSeam(DeployArgs(good) + " --sign file:" + File("ours.key")).exit_code, 0);
  const std::string plan = Plan("refused");
  const Outcome unsigned_deploy = RunSeam(DeployArgs(plan));
  EXPECT_EQ(unsigned_deploy.exit_code, 1) << unsigned_deploy.output;
  EXPECT_NE(unsigned_deploy.output.find("not signed (no stage.json.sig beside it"),
            std::string::npos)
      << unsigned_deploy.output;
  EXPECT_NE(unsigned_deploy.output.find("cloud"), std::string::npos) << unsigned_deploy.output;

  const Outcome foreign = RunSeam(DeployArgs(plan) + " --sign file:" + File("theirs.key"));
  EXPECT_EQ(foreign.exit_code, 1) << foreign.output;
  EXPECT_NE(foreign.output.find("which is not trusted"), std::string::npos) << foreign.output;

  // The stages deployed before are still served: the pipeline still answers.
  const Outcome run =
      RunSeam("run --plan " + good + " --random 1 --check --no-adapt --no-fallback");
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

TEST_F(TiersSigningTest, ADeviceStageChangedAfterSigningIsRefusedByTheDevice) {
  const std::string plan = Plan("changed");
  ASSERT_EQ(RunSeam(DeployArgs(plan) + " --sign file:" + File("ours.key")).exit_code, 0);
  // The device's stage (deploy put it in PLAN.device/PLAN_ID/), edited as an attacker with disk
  // access would: a field changed, still valid JSON.
  std::string stage_path;
  for (const auto& entry :
       fs::recursive_directory_iterator(tiers_->scratch() + "/changed.device")) {
    if (entry.path().filename() == "stage.json") stage_path = entry.path().string();
  }
  ASSERT_FALSE(stage_path.empty());
  std::string text = ReadFile(stage_path);
  const size_t at = text.find("\"intra_op_threads\": 1");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, std::string("\"intra_op_threads\": 1").size(), "\"intra_op_threads\": 2");
  std::ofstream(stage_path, std::ios::binary | std::ios::trunc) << text;

  const Outcome run =
      RunSeam("run --plan " + plan + " --random 1 --trusted-keys file:" + File("ours.pub"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find(stage_path + ": its signature by key"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("does not match it (changed since it was signed?)"), std::string::npos)
      << run.output;
}

// A signed stage cannot be turned into a plain model to skip the check: a server with trusted
// keys loads no plain ONNX Runtime model at all.
TEST_F(TiersSigningTest, APlainModelIsRefusedByAServerThatTrustsOnlySignedStages) {
  tiers_->cloud_repository().AddVersion("plain", 1, BundledModelPath("cnn_chain.onnx"));
  auto stub = tiers_->cloud().NewStub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  inference::RepositoryModelLoadRequest request;
  request.set_model_name("plain");
  inference::RepositoryModelLoadResponse response;
  const grpc::Status status = stub->RepositoryModelLoad(&context, request, &response);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_message().find("a plain ONNX Runtime model, and this server loads only "
                                        "stages signed by a trusted key"),
            std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace seam::testing
