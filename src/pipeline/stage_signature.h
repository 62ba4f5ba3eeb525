// Signed stages: who deployed a stage, checked wherever it is loaded.
//
// A stage's files are hash-chained (config.json covers stage.json, stage.json covers the segment
// and the fallback), which finds corruption but not tampering: whoever can write the repository
// can rewrite the hashes too. `seam deploy --sign KEY` therefore signs each stage.json with a
// private key (Ed25519, or ECDSA with SHA-256; PEM, from a file or the environment) into
// stage.json.sig beside it, and a server (`seam serve --trusted-keys`) or a device (`seam run
// --trusted-keys`) given the public keys it trusts loads only stages one of them signed. As
// stage.json holds the segment's sha256, the signature covers the segment too.
//
// stage.json.sig: {"schema": "seam.stage-signature/v1", "algorithm": "ed25519" | "ecdsa-sha256",
// "key_id": first 16 hex digits of the sha256 of the public key (DER), "signature": base64} over
// the text "seam.stage/v1 sha256:" + sha256 hex of stage.json's bytes; for a server's stage
// "seam.stage/v1 place=MODEL/VERSION sha256:..." (and "place" in the file, for messages).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::pipeline {

inline constexpr char kSignatureFile[] = "stage.json.sig";

// A private key to sign with; `source` is file:PATH or env:NAME (oip/hop_security.h), never the
// key itself. Errors name the source: unreadable, not a PEM private key, not Ed25519 or EC.
class StageSigner {
 public:
  static Result<std::shared_ptr<const StageSigner>> Load(const std::string& source);
  ~StageSigner();
  // The text of stage.json.sig for these stage.json bytes. `place` is where a server's stage is
  // deployed, "MODEL/VERSION" (signed with it: a copy elsewhere is refused); "" for the device's
  // (bound by its plan id, which the client checks against the plan).
  Result<std::string> Sign(const std::string& stage_bytes, const std::string& place = "") const;
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key;
  StageSigner() = default;
  std::unique_ptr<Key> key_;
  std::string key_id_;
};

// The public keys a loader trusts, from one PEM source holding one or more.
class TrustedKeys {
 public:
  static Result<std::shared_ptr<const TrustedKeys>> Load(const std::string& source);
  ~TrustedKeys();
  // OK when `stage_path`'s bytes are signed (its .sig beside it) by one of the keys; else an
  // error naming the file and why: FAILED_PRECONDITION for no signature or a key not trusted
  // (its id), DATA_LOSS for a signature that does not match the file (changed since signed).
  Status Verify(const std::string& stage_path) const;
  // The same, returning the bytes that were verified: parse those (ParseStage), not the file
  // read again, which may have been swapped in between.
  Result<std::string> VerifiedStage(const std::string& stage_path) const;
  // The same on `stage_bytes`, the stage file already read (by a server that checked its hash),
  // for a stage found at `place` ("MODEL/VERSION" in a repository): signed for another place is
  // DATA_LOSS.
  Result<std::string> VerifiedStage(const std::string& stage_path, std::string stage_bytes,
                                    const std::string& place) const;
  size_t size() const { return keys_.size(); }
  const std::string& source() const { return source_; }

 private:
  struct Key;
  TrustedKeys() = default;
  std::vector<std::unique_ptr<Key>> keys_;
  std::string source_;
};

}  // namespace seam::pipeline
