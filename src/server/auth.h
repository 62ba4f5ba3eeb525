// TokenAuthenticator: bearer-token authentication, the same for the gRPC and the HTTP front end.
//
// A client sends `authorization: Bearer <token>` (gRPC metadata or HTTP header); the token must be
// one of those in the tokens file. Tokens are kept only as SHA-256 digests and compared in
// constant time, so neither the memory image nor the response time reveals them.
//
// What is protected is decided by the front ends (docs/server.md): everything except the server's
// liveness and readiness, which orchestrators probe without credentials, as with KServe and Triton.
//
// Thread safety: immutable after construction; Check may be called from any thread.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seam::server {

class TokenAuthenticator {
 public:
  // Reads `path`: one token per line; blank lines and lines starting with '#' are skipped, spaces
  // and tabs around a token are trimmed. Errors name the file (and line): unreadable, no token, a
  // token with whitespace inside.
  static Result<TokenAuthenticator> FromFile(const std::string& path);
  explicit TokenAuthenticator(const std::vector<std::string>& tokens);

  // `authorization` is the header's value, nullopt when the request has none. OK when it is
  // "Bearer <token>" (scheme case-insensitive) with a known token; otherwise UNAUTHENTICATED
  // saying why (gRPC UNAUTHENTICATED, HTTP 401). The message never repeats what the client sent.
  Status Check(std::optional<std::string_view> authorization) const;

  size_t token_count() const { return digests_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest Sha256(std::string_view text);
  std::vector<Digest> digests_;
};

}  // namespace seam::server
