// Sealed model files: what goes in comes out, and every change, truncation, wrong or missing key
// is refused with a message that says which.
#include "common/model_seal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "common/file_util.h"

namespace seam {
namespace {

ModelKey MakeKey(char fill) {
  auto key = ModelKeys::FromBytes(std::string(32, fill), "test");
  EXPECT_TRUE(key.ok());
  return *key;
}

ModelKeys Ring(std::vector<ModelKey> keys) {
  ModelKeys ring;
  for (auto& k : keys) ring.Add(std::move(k));
  return ring;
}

std::string Plaintext() {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += static_cast<char>(i * 31 + 7);
  return text;
}

TEST(ModelSealTest, RoundTripsAndHidesThePlaintext) {
  const ModelKey key = MakeKey('k');
  const std::string plain = Plaintext();
  auto sealed = Seal(plain, key);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_TRUE(IsSealed(*sealed));
  EXPECT_EQ(sealed->size(), plain.size() + 8 + 8 + 12 + 16);
  EXPECT_EQ(SealedKeyId(*sealed), key.id);
  EXPECT_EQ(sealed->find(plain.substr(100, 32)), std::string::npos);
  // A fresh nonce each time: the same model sealed twice differs.
  EXPECT_NE(*sealed, *Seal(plain, key));
  auto opened = Unseal(*sealed, Ring({key}), "m.onnx");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, plain);
  // Empty models too.
  EXPECT_EQ(*Unseal(*Seal("", key), Ring({key}), "e"), "");
}

TEST(ModelSealTest, PlainBytesPassThroughUntouched) {
  auto opened = Unseal("\x08\x07onnx", ModelKeys(), "m.onnx");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "\x08\x07onnx");
  EXPECT_FALSE(IsSealed("\x08\x07onnx"));
  EXPECT_EQ(SealedKeyId("\x08\x07onnx"), "");
}

TEST(ModelSealTest, EveryChangedByteIsRefusedAsTampering) {
  const ModelKey key = MakeKey('k');
  const std::string sealed = *Seal(Plaintext(), key);
  // Positions in the key id are refused as an unknown key (the id no longer matches); all the
  // others (magic aside: then it is no sealed file at all) by authentication.
  for (size_t at : {size_t{20}, size_t{27}, size_t{28}, size_t{2000}, sealed.size() - 17,
                    sealed.size() - 16, sealed.size() - 1}) {
    std::string changed = sealed;
    changed[at] ^= 0x01;
    auto opened = Unseal(changed, Ring({key}), "m.onnx");
    ASSERT_FALSE(opened.ok()) << "byte " << at;
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << "byte " << at;
    EXPECT_EQ(opened.status().message(),
              "m.onnx: the encrypted model failed authentication with key " + key.id +
                  " (AES-256-GCM): it was changed or cut short; refusing it as tampered");
  }
  for (size_t at : {size_t{8}, size_t{15}}) {
    std::string changed = sealed;
    changed[at] ^= 0x01;
    auto opened = Unseal(changed, Ring({key}), "m.onnx");
    EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition) << "byte " << at;
  }
  for (size_t keep : {size_t{0} + 8, size_t{30}, size_t{44}, sealed.size() - 1}) {
    auto opened = Unseal(sealed.substr(0, keep), Ring({key}), "m.onnx");
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << "kept " << keep;
  }
}

TEST(ModelSealTest, AMissingOrWrongKeyIsNamedByItsId) {
  const ModelKey key = MakeKey('k');
  const ModelKey other = MakeKey('o');
  const std::string sealed = *Seal(Plaintext(), key);
  auto none = Unseal(sealed, ModelKeys(), "dir/model.onnx");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(), "dir/model.onnx is encrypted (key id " + key.id +
                                         "); give its key (--model-key file:PATH or env:NAME)");
  auto wrong = Unseal(sealed, Ring({other}), "dir/model.onnx");
  EXPECT_EQ(wrong.status().message(), "dir/model.onnx is encrypted with key id " + key.id +
                                          ", which none of the keys given has (" + other.id + ")");
  // A file sealed by another key, its header's id forged to this key's: authentication fails.
  std::string forged = *Seal(Plaintext(), other);
  auto opened = Unseal(forged.replace(8, 8, sealed.substr(8, 8)), Ring({key}), "f");
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
}

TEST(ModelSealTest, KeysAreReadRawOrHexFromFilesAndTheEnvironment) {
  const std::string dir = ::testing::TempDir();
  const std::string raw(32, '\x5a');
  std::ofstream(dir + "/raw.key", std::ios::binary) << raw;
  std::ofstream(dir + "/hex.key") << "  " << std::string(64, 'A') << "\n";
  std::ofstream(dir + "/short.key") << "abcd";
  std::ofstream(dir + "/badhex.key") << std::string(63, 'a') << "g";
  auto from_raw = ModelKeys::LoadOne("file:" + dir + "/raw.key", "--model-key");
  ASSERT_TRUE(from_raw.ok()) << from_raw.status().ToString();
  EXPECT_EQ(from_raw->bytes, raw);
  EXPECT_EQ(from_raw->id.size(), 16u);
  auto from_hex = ModelKeys::LoadOne("file:" + dir + "/hex.key", "--model-key");
  ASSERT_TRUE(from_hex.ok()) << from_hex.status().ToString();
  EXPECT_EQ(from_hex->bytes, std::string(32, '\xaa'));
  ::setenv("SEAM_TEST_MODEL_KEY", std::string(64, 'a').c_str(), 1);
  auto from_env = ModelKeys::LoadOne("env:SEAM_TEST_MODEL_KEY", "--model-key");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->id, from_hex->id);
  for (const std::string bad : {"short.key", "badhex.key"}) {
    auto refused = ModelKeys::LoadOne("file:" + dir + "/" + bad, "--model-key");
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("a model key is 32 bytes, raw or as 64 hexadecimal"),
              std::string::npos);
    // The key's text is never echoed.
    EXPECT_EQ(refused.status().message().find("abcd"), std::string::npos);
  }
  // A bare value may be the key itself: refused without being repeated.
  auto bare = ModelKeys::LoadOne(std::string(64, 'b'), "--model-key");
  EXPECT_EQ(bare.status().message(),
            "--model-key: give where it is, file:PATH or env:NAME, not a bare value");
  auto missing = ModelKeys::LoadOne("file:" + dir + "/none.key", "--model-key");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  // Keys are kept once each.
  auto ring = ModelKeys::Load({"file:" + dir + "/hex.key", "env:SEAM_TEST_MODEL_KEY"}, "k");
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->Ids(), from_hex->id);
}

TEST(ModelSealTest, ReadModelBytesChecksTheStoredBytesThenOpens) {
  const ModelKey key = MakeKey('k');
  const std::string path = ::testing::TempDir() + "/sealed.bin";
  const std::string sealed = *Seal(Plaintext(), key);
  ASSERT_TRUE(WriteFileAtomic(path, sealed).ok());
  std::string stored;
  auto opened = ReadModelBytes(path, Sha256Hex(sealed), "stage.json", Ring({key}), &stored);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, Plaintext());
  EXPECT_EQ(stored, Sha256Hex(sealed));
  auto mismatch = ReadModelBytes(path, std::string(64, '0'), "stage.json", Ring({key}));
  EXPECT_EQ(mismatch.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(mismatch.status().message(), path + ": sha256 is " + Sha256Hex(sealed) +
                                             " but stage.json expects " + std::string(64, '0') +
                                             "; refusing to load it");
  std::string text = "secret";
  Wipe(text);
  EXPECT_TRUE(text.empty());
}

TEST(ModelSealTest, NewKeysAreRandomHexThatLoads) {
  auto a = NewModelKeyText();
  auto b = NewModelKeyText();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 65u);
  EXPECT_NE(*a, *b);
  const std::string path = ::testing::TempDir() + "/new.key";
  ASSERT_TRUE(WriteFileAtomic(path, *a).ok());
  EXPECT_TRUE(ModelKeys::LoadOne("file:" + path, "k").ok());
}

}  // namespace
}  // namespace seam
