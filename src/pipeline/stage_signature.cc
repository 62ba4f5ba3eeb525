#include "pipeline/stage_signature.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/openssl_pem.h"
#include "oip/hop_security.h"

namespace seam::pipeline {
namespace {

constexpr char kSchema[] = "seam.stage-signature/v1";

using ossl::MemoryBio;
using ossl::NoPassphrase;
using ossl::PkeyPtr;

// "ed25519" or "ecdsa-sha256"; "" for a key of another type.
std::string Algorithm(EVP_PKEY* key) {
  switch (EVP_PKEY_base_id(key)) {
    case EVP_PKEY_ED25519:
      return "ed25519";
    case EVP_PKEY_EC:
      return "ecdsa-sha256";
    default:
      return "";
  }
}

// Ed25519 signs the message itself; ECDSA a SHA-256 digest of it.
const EVP_MD* Digest(EVP_PKEY* key) {
  return EVP_PKEY_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

std::string KeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return "";
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return Sha256Hex(bytes).substr(0, 16);
}

// The signed text: the stage's hash and, for a server's stage, the place it was deployed as
// ("MODEL/VERSION"), so that a signed stage copied to another version or model is refused.
std::string Message(const std::string& stage_bytes, const std::string& place) {
  std::string message = "seam.stage/v1 ";
  if (!place.empty()) {
    message += "place=";
    message += place;
    message += " ";
  }
  message += "sha256:";
  message += Sha256Hex(stage_bytes);
  return message;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return InvalidArgument("not base64");
  // Only the alphabet, and at most two '=' at the very end (OpenSSL would take more, and
  // whitespace, and the padding arithmetic below would not hold).
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  for (size_t i = 0; i + padding < text.size(); ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') {
      return InvalidArgument("not base64");
    }
  }
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return InvalidArgument("not base64");
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace

struct StageSigner::Key {
  PkeyPtr pkey;
};
struct TrustedKeys::Key {
  PkeyPtr pkey;
  std::string id;
};

StageSigner::~StageSigner() = default;
TrustedKeys::~TrustedKeys() = default;

Result<std::shared_ptr<const StageSigner>> StageSigner::Load(const std::string& source) {
  const std::string what = "the signing key";
  if (!source.starts_with("file:") && !source.starts_with("env:")) {
    return InvalidArgument(what + ": give where it is, file:PATH or env:NAME, not a bare value");
  }
  SEAM_ASSIGN_OR_RETURN(std::string pem, oip::ReadSecret(source, what));
  auto bio = MemoryBio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    return InvalidArgument(what + " " + source + ": no unencrypted PEM private key in it");
  }
  if (Algorithm(key.get()).empty()) {
    return InvalidArgument(what + " " + source + ": an Ed25519 or EC (ECDSA) key is needed");
  }
  std::shared_ptr<StageSigner> signer(new StageSigner());
  signer->key_id_ = KeyId(key.get());
  signer->key_ = std::make_unique<Key>(Key{std::move(key)});
  return std::shared_ptr<const StageSigner>(std::move(signer));
}

Result<std::string> StageSigner::Sign(const std::string& stage_bytes,
                                      const std::string& place) const {
  EVP_PKEY* pkey = key_->pkey.get();
  const std::string message = Message(stage_bytes, place);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, Digest(pkey), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    ERR_clear_error();
    return Internal("cannot sign with key " + key_id_);
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    ERR_clear_error();
    return Internal("cannot sign with key " + key_id_);
  }
  signature.resize(size);
  nlohmann::json sig = {{"schema", kSchema},
                        {"algorithm", Algorithm(pkey)},
                        {"key_id", key_id_},
                        {"signature", Base64(signature)}};
  if (!place.empty()) sig["place"] = place;  // for messages: the signature covers it anyway
  return sig.dump(2) + "\n";
}

Result<std::shared_ptr<const TrustedKeys>> TrustedKeys::Load(const std::string& source) {
  const std::string what = "the trusted keys";
  SEAM_ASSIGN_OR_RETURN(std::string pem, oip::ReadSecret(source, what));
  std::shared_ptr<TrustedKeys> keys(new TrustedKeys());
  keys->source_ = source;
  auto bio = MemoryBio(pem);
  while (EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr)) {
    PkeyPtr owned(key);
    if (Algorithm(key).empty()) {
      return InvalidArgument(what + " " + source + ": key " + std::to_string(keys->size() + 1) +
                             " is neither Ed25519 nor EC (ECDSA)");
    }
    const std::string id = KeyId(key);
    keys->keys_.push_back(std::make_unique<Key>(Key{std::move(owned), id}));
  }
  ERR_clear_error();  // the end of the text reads as an error
  if (keys->keys_.empty()) {
    return InvalidArgument(what + " " + source +
                           ": no PEM public key in it (-----BEGIN PUBLIC KEY-----)");
  }
  return std::shared_ptr<const TrustedKeys>(std::move(keys));
}

Status TrustedKeys::Verify(const std::string& stage_path) const {
  return VerifiedStage(stage_path).status();
}

Result<std::string> TrustedKeys::VerifiedStage(const std::string& stage_path) const {
  SEAM_ASSIGN_OR_RETURN(std::string stage_bytes, ReadFile(stage_path));
  return VerifiedStage(stage_path, std::move(stage_bytes), "");
}

Result<std::string> TrustedKeys::VerifiedStage(const std::string& stage_path,
                                               std::string stage_bytes,
                                               const std::string& place) const {
  const std::string sig_path =
      (std::filesystem::path(stage_path).parent_path() / kSignatureFile).string();
  // FAILED_PRECONDITION for a stage this loader may not take (unsigned, or by another key);
  // DATA_LOSS for one changed since it was signed.
  auto refuse = [&](const std::string& why, StatusCode code = StatusCode::kFailedPrecondition) {
    return Status(
        code, stage_path + ": " + why + "; refusing to load it (trusted keys: " + source_ + ")");
  };
  std::error_code ec;
  if (!std::filesystem::exists(sig_path, ec)) {
    return refuse("not signed (no " + std::string(kSignatureFile) +
                  " beside it: deploy with seam deploy --sign)");
  }
  SEAM_ASSIGN_OR_RETURN(std::string sig_text, ReadFile(sig_path));
  const nlohmann::json sig = nlohmann::json::parse(sig_text, nullptr, /*allow_exceptions=*/false);
  const bool schema = sig.is_object() && sig.contains("schema") && sig["schema"].is_string() &&
                      sig["schema"].get<std::string>() == kSchema;
  if (!schema || !sig.contains("key_id") || !sig["key_id"].is_string() ||
      !sig.contains("signature") || !sig["signature"].is_string()) {
    return refuse(sig_path + " is not a " + kSchema + " signature", StatusCode::kDataLoss);
  }
  // Quoted in messages: no longer than an id is.
  const std::string key_id = sig["key_id"].get<std::string>().substr(0, 16);
  const Key* key = nullptr;
  for (const auto& k : keys_) {
    if (k->id == key_id) key = k.get();
  }
  if (!key) return refuse("signed by key " + key_id + ", which is not trusted");
  auto signature = Unbase64(sig["signature"].get<std::string>());
  if (!signature.ok()) {
    return refuse(sig_path + ": the signature is not base64", StatusCode::kDataLoss);
  }
  // A stage signed for another place: said plainly (the check below would refuse it anyway, the
  // place being part of what is signed).
  const std::string signed_place =
      sig.contains("place") && sig["place"].is_string() ? sig["place"].get<std::string>() : "";
  if (signed_place != place) {
    const std::string there = signed_place.empty() ? "no place" : signed_place.substr(0, 200);
    const std::string here = place.empty() ? "no place" : place;
    return refuse("signed for " + there + ", found at " + here +
                      " (a signed stage copied to another model or version)",
                  StatusCode::kDataLoss);
  }
  const std::string message = Message(stage_bytes, place);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid =
      ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, Digest(key->pkey.get()), nullptr, key->pkey.get()) ==
          1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                       signature->size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  if (!valid) {
    return refuse(
        "its signature by key " + key_id + " does not match it (changed since it was signed?)",
        StatusCode::kDataLoss);
  }
  return stage_bytes;
}

}  // namespace seam::pipeline
