// Sealed model files: a model or segment encrypted at rest with AES-256-GCM, so that a device's or
// an edge box's disk holds no readable model and no model an attacker could change unnoticed.
// A sealed file is decrypted only in memory, into the bytes ONNX Runtime opens the session from.
//
// File format (docs/security.md), all of it authenticated by GCM:
//   "SEAMENC1"   8 bytes, the magic (no ONNX file starts with it: an ONNX file's first byte is a
//                protobuf field tag)
//   key id       8 bytes, which key sealed it (see ModelKey)
//   nonce       12 bytes, random per file
//   ciphertext   as long as the model
//   tag         16 bytes
// The first 28 bytes are the GCM additional data: the key id cannot be swapped unnoticed.
//
// A model key is 32 bytes, held in a file or an environment variable (common/secret_source.h) as
// 32 raw bytes or 64 hexadecimal digits; `seam keygen` writes one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seam {

inline constexpr std::string_view kSealMagic = "SEAMENC1";

struct ModelKey {
  std::string id;      // 16 hex digits: the first 8 bytes of SHA-256("seam.model-key/v1" + key)
  std::string bytes;   // 32
  std::string source;  // where it was read from (file:PATH, env:NAME), for messages
};

// The keys a process may open sealed models with.
class ModelKeys {
 public:
  // Reads each source; `what` names the setting in errors ("--model-key"). Duplicates are kept
  // once.
  static Result<ModelKeys> Load(const std::vector<std::string>& sources, std::string_view what);
  static Result<ModelKey> LoadOne(std::string_view source, std::string_view what);
  // A key made of `bytes` (32 raw bytes), e.g. generated.
  static Result<ModelKey> FromBytes(std::string bytes, std::string source);

  bool empty() const { return keys_.empty(); }
  const ModelKey* Find(std::string_view id) const;
  void Add(ModelKey key);
  std::string Ids() const;  // "a1b2..., c3d4..." for messages

 private:
  std::vector<ModelKey> keys_;
};

// A new random key as 64 hexadecimal digits and a newline: what a key file holds.
Result<std::string> NewModelKeyText();

bool IsSealed(std::string_view bytes);

// The key id a sealed file names, or "" if `bytes` is not a sealed file.
std::string SealedKeyId(std::string_view bytes);

// `plaintext` encrypted with `key` under a fresh random nonce.
Result<std::string> Seal(std::string_view plaintext, const ModelKey& key);

// `bytes` itself when it is not sealed and no key is given; otherwise its plaintext. `path` names
// the file in messages. FAILED_PRECONDITION when no key is given or none has the file's key id
// (naming the ids given); DATA_LOSS when authentication fails (a changed byte, a truncated file, a
// forged key id) and for a file that is not sealed although keys are given (a process with keys
// opens only sealed models), all refused as tampering.
Result<std::string> Unseal(std::string bytes, const ModelKeys& keys, std::string_view path);

// Overwrites and empties `bytes`: plaintext models are not left in freed memory.
void Wipe(std::string& bytes);

// Reads `path`; when `expected_sha256` is given checks the stored bytes against it (DATA_LOSS
// naming `expected_by`, the file that records it); then unseals them. The bytes to open a session
// from. `stored_sha256`, when given, receives the sha256 of the bytes as stored.
Result<std::string> ReadModelBytes(const std::string& path, std::string_view expected_sha256,
                                   std::string_view expected_by, const ModelKeys& keys,
                                   std::string* stored_sha256 = nullptr);

}  // namespace seam
