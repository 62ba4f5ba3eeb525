// Signed stages across three tiers, as a user runs them: edge and cloud started with
// `--trusted-keys`, `seam deploy --sign`, `seam run --trusted-keys`. A signed deployment runs
// bitwise as the whole model and no private key lands beside the models; an unsigned deployment,
// one signed with a key the tiers do not trust, and a device stage changed after signing are each
// refused with a message naming the file and why, while what was deployed before keeps serving.
// Encrypted stages: `seam deploy --encrypt TIER=KEY` seals the edge's, cloud's and device's
// segments (tiers started with --model-key, the device run with it) and no model lies in clear.
// Tampering with a serving stage (a flipped byte, rewritten hashes, a broken signature, the
// signature removed) is refused on an explicit load while the pipeline keeps answering.
// Keys are made with the openssl command; skipped when it is not installed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
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
    const Outcome keygen = RunSeam("keygen " + File("model.key"));
    if (keygen.exit_code != 0) {
      setup_error_ = "seam keygen failed: " + keygen.output;
      return;
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

// The current stage of `tier` after a deploy, from its output ("  cloud: model M version V at A
// (DIR)"): DIR.
std::string StageDirectory(const std::string& deploy_output, const std::string& tier) {
  const std::string prefix = "  " + tier + ": model ";
  const size_t at = deploy_output.find(prefix);
  if (at == std::string::npos) return "";
  const size_t open = deploy_output.find(" (", at);
  const size_t close = deploy_output.find(")\n", open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return deploy_output.substr(open + 2, close - open - 2);
}

// Tiers given a model key open only sealed segments: a plain deployment is refused as a
// substitution, one sealed for each tier runs bitwise, and no model lies in clear.
TEST_F(TiersSigningTest, AnEncryptedDeploymentRunsAndLeavesNoModelInClear) {
  const std::string key = "file:" + File("model.key");
  std::string error;
  const std::vector<std::string> args = {"--trusted-keys", File("ours.pub"), "--model-key", key};
  auto tiers = LoopbackTiers::Start(&error, args, args);
  ASSERT_TRUE(tiers) << error;
  const std::string flags =
      " --bitwise --ready-timeout-s 5 --sign file:" + File("ours.key") + tiers->DeployFlags();
  const Outcome refused = RunSeam("deploy " + WriteThirdsPlan(tiers->scratch(), "plain") + flags);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("is not encrypted, and models are opened here only sealed"),
            std::string::npos)
      << refused.output;

  const std::string plan = WriteThirdsPlan(tiers->scratch(), "sealed");
  const Outcome deploy = RunSeam("deploy " + plan + flags + " --encrypt device=" + key +
                                 " --encrypt edge=" + key + " --encrypt cloud=" + key);
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  // Every segment written for this plan (the device's fallback included) is sealed.
  int sealed = 0;
  for (const std::string& dir :
       {StageDirectory(deploy.output, "edge"), StageDirectory(deploy.output, "cloud"),
        tiers->scratch() + "/sealed.device"}) {
    ASSERT_FALSE(dir.empty()) << deploy.output;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() != ".onnx") continue;
      EXPECT_EQ(ReadFile(entry.path().string()).substr(0, 8), "SEAMENC1") << entry.path();
      ++sealed;
    }
  }
  EXPECT_GE(sealed, 3);
  const std::string run =
      "run --plan " + plan + " --random 2 --check --no-adapt --trusted-keys " + File("ours.pub");
  const Outcome with_key = RunSeam(run + " --model-key " + key);
  ASSERT_EQ(with_key.exit_code, 0) << with_key.output;
  EXPECT_NE(with_key.output.find("check: outputs equal the whole model's, bitwise"),
            std::string::npos)
      << with_key.output;
  // The device without its key: refused, naming the file and the key it needs.
  const Outcome without = RunSeam(run);
  EXPECT_EQ(without.exit_code, 1) << without.output;
  EXPECT_NE(without.output.find("is encrypted (key id "), std::string::npos) << without.output;
  // An unknown tier to encrypt for is refused before anything is written; a key given without
  // its TIER= is not echoed.
  const std::string other = WriteThirdsPlan(tiers->scratch(), "sealed2");
  const Outcome unknown = RunSeam("deploy " + other + flags + " --encrypt fog=" + key);
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("the key to encrypt 'fog' with:"), std::string::npos)
      << unknown.output;
  const Outcome bare = RunSeam("deploy " + other + flags + " --encrypt 0123456789abcdef");
  EXPECT_EQ(bare.exit_code, 1) << bare.output;
  EXPECT_EQ(bare.output.find("0123456789abcdef"), std::string::npos) << bare.output;
}

TEST_F(TiersSigningTest, TamperedStagesAreRefusedWhileThePipelineKeepsAnswering) {
  const std::string plan = Plan("tamper");
  const Outcome deploy =
      RunSeam(DeployArgs(plan) + " --name tamper --sign file:" + File("ours.key"));
  // Its own model name: the versions other tests deployed (some refused) are not in its window.
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  const std::string dir = StageDirectory(deploy.output, "cloud");
  ASSERT_FALSE(dir.empty()) << deploy.output;
  const std::string model = fs::path(dir).parent_path().filename().string();
  const std::string config_path = fs::path(dir).parent_path().string() + "/config.json";
  const std::string segment = dir + "/model.onnx", stage = dir + "/stage.json",
                    sig = dir + "/stage.json.sig";
  const std::map<std::string, std::string> originals = {{segment, ReadFile(segment)},
                                                        {stage, ReadFile(stage)},
                                                        {sig, ReadFile(sig)},
                                                        {config_path, ReadFile(config_path)}};
  auto write = [](const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };
  auto load = [&] {
    auto stub = tiers_->cloud().NewStub();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    inference::RepositoryModelLoadRequest request;
    request.set_model_name(model);
    inference::RepositoryModelLoadResponse response;
    return stub->RepositoryModelLoad(&context, request, &response);
  };
  const std::string run = "run --plan " + plan + " --random 1 --check --no-adapt --no-fallback";
  auto replace_hash = [](std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
    return text;
  };
  std::string flipped = originals.at(segment);
  flipped[flipped.size() / 2] ^= 0x01;
  const std::string old_sha = Sha256Hex(originals.at(segment));
  const std::string new_sha = Sha256Hex(flipped);
  const std::string stage_rewritten = replace_hash(originals.at(stage), old_sha, new_sha);
  struct Tamper {
    std::string name;
    std::map<std::string, std::string> files;  // path -> new bytes ("" removes it)
    std::string why;                           // in the refusal
  };
  const std::vector<Tamper> tampers = {
      {"a flipped byte in the segment", {{segment, flipped}}, "sha256 is " + new_sha},
      {"the segment changed and both hashes rewritten",
       {{segment, flipped},
        {stage, stage_rewritten},
        {config_path, replace_hash(originals.at(config_path), Sha256Hex(originals.at(stage)),
                                   Sha256Hex(stage_rewritten))}},
       "does not match it (changed since it was signed?)"},
      {"a broken signature",
       {{sig, replace_hash(originals.at(sig), "\"signature\": \"", "\"signature\": \"AAAA")}},
       "does not match it"},
      {"the signature removed", {{sig, ""}}, "not signed"},
  };
  for (const auto& tamper : tampers) {
    SCOPED_TRACE(tamper.name);
    for (const auto& [path, bytes] : tamper.files) {
      if (bytes.empty()) {
        fs::remove(path);
      } else {
        write(path, bytes);
      }
    }
    const grpc::Status refused = load();
    EXPECT_FALSE(refused.ok());
    EXPECT_NE(refused.error_message().find(tamper.why), std::string::npos)
        << refused.error_message();
    EXPECT_NE(refused.error_message().find("still serving version"), std::string::npos)
        << refused.error_message();
    const Outcome answered = RunSeam(run);
    EXPECT_EQ(answered.exit_code, 0) << answered.output;
    EXPECT_NE(answered.output.find("bitwise"), std::string::npos) << answered.output;
    for (const auto& [path, bytes] : originals) write(path, bytes);
    const grpc::Status restored = load();
    EXPECT_TRUE(restored.ok()) << restored.error_message();
  }

  // The whole signed version copied, untouched, to a new version number (its hash added to the
  // config): the signature names the place it was deployed as, so the copy is refused.
  const std::string version = fs::path(dir).filename().string();
  const std::string copy_version = std::to_string(std::stoll(version) + 1);
  const std::string copy = fs::path(dir).parent_path().string() + "/" + copy_version;
  fs::copy(dir, copy, fs::copy_options::recursive);
  write(config_path,
        replace_hash(originals.at(config_path), "\"" + version + "\": {",
                     "\"" + copy_version + "\": {\"sha256\": \"" + Sha256Hex(originals.at(stage)) +
                         "\"}, \"" + version + "\": {"));
  const grpc::Status copied = load();
  EXPECT_EQ(copied.error_code(), grpc::StatusCode::DATA_LOSS) << copied.error_message();
  EXPECT_NE(copied.error_message().find("signed for " + model + "/" + version + ", found at " +
                                        model + "/" + copy_version),
            std::string::npos)
      << copied.error_message();
  const Outcome answered = RunSeam(run);
  EXPECT_EQ(answered.exit_code, 0) << answered.output;
  fs::remove_all(copy);
  write(config_path, originals.at(config_path));
  EXPECT_TRUE(load().ok());
}

}  // namespace
}  // namespace seam::testing
