#include "pipeline/stage_signature.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"

namespace seam::pipeline {
namespace {

namespace fs = std::filesystem;

struct KeyPair {
  std::string private_pem, public_pem;
};

// The PEM text a writer puts into a memory BIO.
template <typename Write>
std::string Pem(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(n));
  BIO_free(bio);
  return text;
}

// A fresh key made in process: "ED25519", "EC" (P-256) or "RSA" (2048 bits).
KeyPair MakeKey(const std::string& type) {
  EVP_PKEY* key = type == "EC"    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                  : type == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                  : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  KeyPair pair;
  pair.private_pem = Pem(
      [&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  pair.public_pem = Pem([&](BIO* bio) { PEM_write_bio_PUBKEY(bio, key); });
  EVP_PKEY_free(key);
  return pair;
}

class StageSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam_stage_signature_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    stage_ = Write("stage.json", R"({"schema": "seam.stage/v1", "tier": "cloud"})"
                                 "\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Signs stage.json with `key` (written as `name`), returning the signer.
  std::shared_ptr<const StageSigner> SignWith(const KeyPair& key, const std::string& name) {
    auto signer = StageSigner::Load("file:" + Write(name, key.private_pem));
    EXPECT_TRUE(signer.ok()) << signer.status().ToString();
    auto text = (*signer)->Sign(*ReadFile(stage_));
    EXPECT_TRUE(text.ok());
    Write(kSignatureFile, *text);
    return *signer;
  }
  std::shared_ptr<const TrustedKeys> Trust(const std::string& pem, const std::string& name) {
    auto keys = TrustedKeys::Load(Write(name, pem));
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    return keys.ok() ? *keys : nullptr;
  }
  fs::path dir_;
  std::string stage_;
};

TEST_F(StageSignatureTest, AStageSignedWithEd25519OrEcdsaVerifiesWithItsPublicKey) {
  for (const char* type : {"ED25519", "EC"}) {
    const KeyPair key = MakeKey(type);
    SignWith(key, "signing.pem");
    auto keys = Trust(key.public_pem, "trusted.pem");
    ASSERT_TRUE(keys);
    EXPECT_TRUE(keys->Verify(stage_).ok()) << type << ": " << keys->Verify(stage_).ToString();
  }
}

TEST_F(StageSignatureTest, AChangedUnsignedOrForeignStageIsRefusedSayingWhy) {
  const KeyPair ours = MakeKey("ED25519"), theirs = MakeKey("ED25519");
  auto signer = SignWith(theirs, "theirs.pem");
  auto keys = Trust(ours.public_pem, "trusted.pem");
  Status foreign = keys->Verify(stage_);
  EXPECT_EQ(foreign.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(foreign.message().find("signed by key " + signer->key_id() + ", which is not trusted"),
            std::string::npos)
      << foreign.message();

  auto ours_signer = SignWith(ours, "ours.pem");
  ASSERT_TRUE(keys->Verify(stage_).ok());
  Write("stage.json", R"({"schema": "seam.stage/v1", "tier": "attic"})"
                      "\n");  // rewritten
  Status changed = keys->Verify(stage_);
  EXPECT_EQ(changed.code(), StatusCode::kDataLoss);
  EXPECT_NE(changed.message().find("does not match it (changed since it was signed?)"),
            std::string::npos)
      << changed.message();

  fs::remove(dir_ / kSignatureFile);
  Status unsigned_stage = keys->Verify(stage_);
  EXPECT_EQ(unsigned_stage.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unsigned_stage.message().find(stage_ + ": not signed (no stage.json.sig"),
            std::string::npos)
      << unsigned_stage.message();

  // Malformed signature files are refused, never thrown on.
  for (const std::string& sig :
       {std::string("{\"schema\": \"seam.stage-signature/v1\"}"), std::string("{\"schema\": 1}"),
        std::string("[]"), std::string("not json"),
        "{\"schema\": \"seam.stage-signature/v1\", \"key_id\": \"" + ours_signer->key_id() +
            "\", \"signature\": \"====\"}",
        "{\"schema\": \"seam.stage-signature/v1\", \"key_id\": \"" + ours_signer->key_id() +
            "\", \"signature\": \"A=======\"}",
        "{\"schema\": \"seam.stage-signature/v1\", \"key_id\": \"" + ours_signer->key_id() +
            "\", \"signature\": \"AB==\\n\\n\\n\\n\"}"}) {
    Write(kSignatureFile, sig);
    Status status = keys->Verify(stage_);
    EXPECT_FALSE(status.ok()) << sig;
  }
}

TEST_F(StageSignatureTest, AnyOfSeveralTrustedKeysWillDo) {
  const KeyPair first = MakeKey("ED25519"), second = MakeKey("EC");
  SignWith(second, "second.pem");
  auto keys = Trust(first.public_pem + second.public_pem, "both.pem");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_TRUE(keys->Verify(stage_).ok());
}

TEST_F(StageSignatureTest, BadKeySourcesAreNamed) {
  auto bare = StageSigner::Load("/etc/seam/signing.pem");
  EXPECT_NE(bare.status().message().find("give where it is, file:PATH or env:NAME"),
            std::string::npos);
  auto not_a_key = StageSigner::Load("file:" + Write("x.pem", "hello\n"));
  EXPECT_NE(not_a_key.status().message().find("no unencrypted PEM private key in it"),
            std::string::npos)
      << not_a_key.status().message();
  auto no_keys = TrustedKeys::Load(Write("empty.pem", "nothing here\n"));
  EXPECT_NE(no_keys.status().message().find("no PEM public key in it"), std::string::npos);
  const KeyPair rsa = MakeKey("RSA");
  auto rsa_signer = StageSigner::Load("file:" + Write("rsa.pem", rsa.private_pem));
  EXPECT_NE(rsa_signer.status().message().find("an Ed25519 or EC (ECDSA) key is needed"),
            std::string::npos)
      << rsa_signer.status().message();
}

}  // namespace
}  // namespace seam::pipeline
