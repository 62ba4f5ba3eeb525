#include "common/model_seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include "common/file_util.h"
#include "common/secret_source.h"

namespace seam {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kIdBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kHeaderBytes = 8 + kIdBytes + kNonceBytes;  // the magic, the id, the nonce
constexpr size_t kChunk = size_t{1} << 30;                   // EVP takes int lengths

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string KeyId(std::string_view key) {
  std::string input = "seam.model-key/v1";
  input += key;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(input.data(), input.size());
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest), kIdBytes));
}

// 32 raw bytes, or 64 hex digits with surrounding whitespace (a file written by an editor).
Result<std::string> DecodeKey(std::string text, std::string_view what) {
  if (text.size() == kKeyBytes) return text;
  auto first =
      std::find_if_not(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
  auto last = std::find_if_not(text.rbegin(), text.rend(), [](unsigned char c) {
                return std::isspace(c);
              }).base();
  const std::string_view trimmed(text.data() + (first - text.begin()),
                                 first < last ? static_cast<size_t>(last - first) : 0);
  std::string key;
  key.reserve(kKeyBytes);  // grown in place: no reallocation leaves a copy of the key behind
  if (trimmed.size() == 2 * kKeyBytes) {
    for (size_t i = 0; i < trimmed.size(); i += 2) {
      const int hi = HexValue(trimmed[i]);
      const int lo = HexValue(trimmed[i + 1]);
      if (hi < 0 || lo < 0) break;
      key += static_cast<char>(hi * 16 + lo);
    }
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (key.size() == kKeyBytes) return key;
  OPENSSL_cleanse(key.data(), key.size());
  return InvalidArgument(std::string(what) +
                         ": a model key is 32 bytes, raw or as 64 hexadecimal digits (seam keygen "
                         "writes one); this one is neither");
}

}  // namespace

Result<ModelKey> ModelKeys::FromBytes(std::string bytes, std::string source) {
  if (bytes.size() != kKeyBytes) {
    return InvalidArgument(source + ": a model key is 32 bytes, got " +
                           std::to_string(bytes.size()));
  }
  ModelKey key;
  key.id = KeyId(bytes);
  key.bytes = std::move(bytes);
  key.source = std::move(source);
  return key;
}

Result<ModelKey> ModelKeys::LoadOne(std::string_view source, std::string_view what) {
  SEAM_RETURN_IF_ERROR(CheckSecretSource(source, what, {.scheme_required = true}));
  if (source.empty()) return InvalidArgument(std::string(what) + ": no key source given");
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadSecret(source, what));
  SEAM_ASSIGN_OR_RETURN(std::string bytes, DecodeKey(std::move(text), what));
  return FromBytes(std::move(bytes), std::string(source));
}

Result<ModelKeys> ModelKeys::Load(const std::vector<std::string>& sources, std::string_view what) {
  ModelKeys keys;
  for (const auto& source : sources) {
    SEAM_ASSIGN_OR_RETURN(ModelKey key, LoadOne(source, what));
    keys.Add(std::move(key));
  }
  return keys;
}

void ModelKeys::Add(ModelKey key) {
  if (!Find(key.id)) keys_.push_back(std::move(key));
}

const ModelKey* ModelKeys::Find(std::string_view id) const {
  for (const auto& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

std::string ModelKeys::Ids() const {
  std::string ids;
  for (const auto& key : keys_) {
    if (!ids.empty()) ids += ", ";
    ids += key.id;
  }
  return ids;
}

Result<std::string> NewModelKeyText() {
  std::string bytes(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), kKeyBytes) != 1) {
    return Internal("OpenSSL could not make a random key");
  }
  std::string text = ToHex(bytes) + "\n";
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return text;
}

bool IsSealed(std::string_view bytes) { return bytes.starts_with(kSealMagic); }

std::string SealedKeyId(std::string_view bytes) {
  if (!IsSealed(bytes) || bytes.size() < kHeaderBytes) return "";
  return ToHex(bytes.substr(kSealMagic.size(), kIdBytes));
}

Result<std::string> Seal(std::string_view plaintext, const ModelKey& key) {
  if (key.bytes.size() != kKeyBytes) return InvalidArgument("a model key is 32 bytes");
  std::string out(kHeaderBytes + plaintext.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(kSealMagic.begin(), kSealMagic.end(), out.begin());
  for (size_t i = 0; i < kIdBytes; ++i) {
    out[kSealMagic.size() + i] =
        static_cast<char>(HexValue(key.id[2 * i]) * 16 + HexValue(key.id[2 * i + 1]));
  }
  unsigned char* nonce = o + kSealMagic.size() + kIdBytes;
  if (RAND_bytes(nonce, kNonceBytes) != 1) return Internal("OpenSSL could not make a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr,
                         reinterpret_cast<const unsigned char*>(key.bytes.data()), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, o, kHeaderBytes) == 1;
  for (size_t done = 0; ok && done < plaintext.size(); done += kChunk) {
    const size_t n = std::min(kChunk, plaintext.size() - done);
    ok = EVP_EncryptUpdate(ctx.get(), o + kHeaderBytes + done, &len,
                           reinterpret_cast<const unsigned char*>(plaintext.data()) + done,
                           static_cast<int>(n)) == 1;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), o + kHeaderBytes + plaintext.size(), &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                           o + kHeaderBytes + plaintext.size()) == 1;
  if (!ok) return Internal("OpenSSL could not encrypt with AES-256-GCM");
  return out;
}

Result<std::string> Unseal(std::string bytes, const ModelKeys& keys, std::string_view path) {
  const std::string where(path);
  if (!IsSealed(bytes)) {
    // A process given keys opens only sealed models: a plain file in place of a sealed one (or
    // one whose magic was changed) is a substitution, not a model to run.
    if (keys.empty()) return bytes;
    return DataLoss(where + " is not encrypted, and models are opened here only sealed (model " +
                    "keys are given: " + keys.Ids() + "); refusing it as tampered (seam seal, " +
                    "seam deploy --encrypt)");
  }
  if (bytes.size() < kHeaderBytes + kTagBytes) {
    return DataLoss(where + ": an encrypted model file too short to hold its header and tag (" +
                    std::to_string(bytes.size()) + " bytes); refusing it as tampered");
  }
  const std::string id = SealedKeyId(bytes);
  const ModelKey* key = keys.Find(id);
  if (!key) {
    if (keys.empty()) {
      return FailedPrecondition(where + " is encrypted (key id " + id +
                                "); give its key (--model-key file:PATH or env:NAME)");
    }
    return FailedPrecondition(where + " is encrypted with key id " + id +
                              ", which none of the keys given has (" + keys.Ids() + ")");
  }
  // Decrypted in place (GCM allows it): no second buffer of the model's size to allocate and
  // fault in, then the header is dropped.
  auto* data = reinterpret_cast<unsigned char*>(bytes.data());
  const size_t body = bytes.size() - kHeaderBytes - kTagBytes;
  unsigned char tag[kTagBytes];
  std::copy(data + kHeaderBytes + body, data + kHeaderBytes + body + kTagBytes, tag);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr,
                               reinterpret_cast<const unsigned char*>(key->bytes.data()),
                               data + kSealMagic.size() + kIdBytes) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, data, kHeaderBytes) == 1;
  for (size_t done = 0; ok && done < body; done += kChunk) {
    const size_t n = std::min(kChunk, body - done);
    unsigned char* chunk = data + kHeaderBytes + done;
    ok = EVP_DecryptUpdate(ctx.get(), chunk, &len, chunk, static_cast<int>(n)) == 1;
  }
  if (!ok) {
    Wipe(bytes);
    return Internal(where + ": OpenSSL could not decrypt with AES-256-GCM");
  }
  ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), data + kHeaderBytes + body, &len) == 1;
  if (!ok) {
    Wipe(bytes);  // unauthenticated plaintext is never handed out, nor left in freed memory
    return DataLoss(where + ": the encrypted model failed authentication with key " + id +
                    " (AES-256-GCM): it was changed or cut short; refusing it as tampered");
  }
  // The plaintext moved to the front, then what it leaves behind (its last bytes, the tag)
  // overwritten before the string shrinks: no plaintext stays beyond its end.
  std::memmove(data, data + kHeaderBytes, body);
  OPENSSL_cleanse(data + body, kHeaderBytes + kTagBytes);
  bytes.resize(body);
  return bytes;
}

void Wipe(std::string& bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  bytes.clear();
  bytes.shrink_to_fit();
}

Result<std::string> ReadModelBytes(const std::string& path, std::string_view expected_sha256,
                                   std::string_view expected_by, const ModelKeys& keys,
                                   std::string* stored_sha256) {
  SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (!expected_sha256.empty() || stored_sha256) {
    const std::string actual = Sha256Hex(bytes);
    if (stored_sha256) *stored_sha256 = actual;
    if (!expected_sha256.empty() && actual != expected_sha256) {
      std::string message = path + ": sha256 is " + actual + " but ";
      message += expected_by;
      message += " expects ";
      message += expected_sha256;
      message += "; refusing to load it";
      return DataLoss(message);
    }
  }
  return Unseal(std::move(bytes), keys, path);
}

}  // namespace seam
