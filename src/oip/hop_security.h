// How a hop proves who it talks to and who it is: TLS (the server's certificate verified against a
// CA; optionally a client certificate, for servers that require mutual TLS) and a bearer token
// (`authorization: Bearer ...`, as `seam serve --auth-tokens` checks).
//
// A HopSecurity names where each secret is, never the secret itself, so that plan, stage and
// config files may carry it: every field is a source, `file:PATH` or `env:NAME` (the variable
// holds the PEM text or the token). The CA and the certificate, which are not secret, may also be
// a bare PATH, and the CA `system` (the system's trusted roots); the token and the key must say
// file: or env:, so that a secret given by mistake in their place is refused, not written into a
// stage file. LoadHopCredentials reads them when a hop opens; a token is trimmed of the whitespace
// around it (a trailing newline in a file).
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/secret_source.h"
#include "common/status.h"

namespace seam::oip {

struct HopSecurity {
  std::string ca;           // the roots that verify the server's certificate; "" = no TLS
  std::string cert;         // the client's certificate chain (mutual TLS), with `key`
  std::string key;          // the client's private key
  std::string token;        // the bearer token
  std::string server_name;  // the name the server's certificate must carry (default: the host)

  bool tls() const { return !ca.empty(); }
  bool empty() const {
    return ca.empty() && cert.empty() && key.empty() && token.empty() && server_name.empty();
  }
  bool operator==(const HopSecurity&) const = default;
};

// Sources are read with seam::ReadSecret (common/secret_source.h).
using seam::ReadSecret;

// The fields' syntax, without reading anything: sources well formed, cert and key given together,
// a client certificate or a server name only with a CA (they mean nothing without TLS). `where`
// prefixes messages.
Status Validate(const HopSecurity& security, std::string_view where);

// `over`'s fields where they are set, `base`'s elsewhere: a device naming only another token keeps
// the deployment's TLS.
HopSecurity Overlay(const HopSecurity& base, const HopSecurity& over);

// Relative file sources resolved against `directory` (a cascade file's, as its model is).
HopSecurity ResolveFiles(const HopSecurity& security, const std::string& directory);

// INVALID_ARGUMENT naming the field when a file source is a relative path: for sources written
// into a stage, which another process reads from its own working directory.
Status RequireAbsoluteFiles(const HopSecurity& security, std::string_view where);

// As a JSON object of the non-empty fields ({"ca": ..., "token": ...}), for the files that
// carry it (stage.json's next hop, the cascade file). FromJson refuses unknown keys and values
// that are not strings, and validates; `where` prefixes messages.
nlohmann::json HopSecurityToJson(const HopSecurity& security);
Result<HopSecurity> HopSecurityFromJson(const nlohmann::json& json, std::string_view where);

struct HopCredentials {
  std::shared_ptr<grpc::ChannelCredentials> channel;  // insecure when the hop has no TLS
  std::string authorization;                          // "Bearer TOKEN", or "" for none
  std::string server_name;                            // "" = the address's host
  bool tls = false;
};

// Reads every source of `security`. Errors name `where` (e.g. "the hop to cloud"), the field and
// the source: unreadable, empty, a token with whitespace inside, a key that is not PEM.
Result<HopCredentials> LoadHopCredentials(const HopSecurity& security, std::string_view where);

}  // namespace seam::oip
