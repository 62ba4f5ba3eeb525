#include "oip/hop_security.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/openssl_pem.h"
#include "common/secret_source.h"

namespace seam::oip {
namespace {

using ossl::MemoryBio;
using ossl::NoPassphrase;

// The first certificate of `pem`, or null.
ossl::X509Ptr FirstCertificate(const std::string& pem) {
  auto bio = MemoryBio(pem);
  ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return cert;
}

}  // namespace

Status Validate(const HopSecurity& s, std::string_view where) {
  const std::string w(where);
  SEAM_RETURN_IF_ERROR(CheckSecretSource(s.ca, w + ": the CA", {.system_allowed = true}));
  SEAM_RETURN_IF_ERROR(CheckSecretSource(s.cert, w + ": the client certificate"));
  SEAM_RETURN_IF_ERROR(CheckSecretSource(s.key, w + ": the client key", {.scheme_required = true}));
  SEAM_RETURN_IF_ERROR(CheckSecretSource(s.token, w + ": the token", {.scheme_required = true}));
  if (s.cert.empty() != s.key.empty()) {
    return InvalidArgument(w + ": a client certificate needs its key and a key its certificate " +
                           "(give both or neither)");
  }
  if (!s.tls() && !s.cert.empty()) {
    return InvalidArgument(w + ": a client certificate needs TLS: give the CA that verifies the " +
                           "server too (or 'system')");
  }
  if (!s.tls() && !s.server_name.empty()) {
    return InvalidArgument(w + ": a server name is checked only with TLS: give the CA too");
  }
  return Status::Ok();
}

namespace {
// The JSON keys and the fields they hold.
constexpr std::pair<const char*, std::string HopSecurity::*> kFields[] = {
    {"ca", &HopSecurity::ca},
    {"cert", &HopSecurity::cert},
    {"key", &HopSecurity::key},
    {"token", &HopSecurity::token},
    {"server_name", &HopSecurity::server_name},
};
}  // namespace

HopSecurity Overlay(const HopSecurity& base, const HopSecurity& over) {
  HopSecurity out = base;
  for (const auto& [key, field] : kFields) {
    if (!(over.*field).empty()) out.*field = over.*field;
  }
  return out;
}

namespace {
// The path of a file source ("" for env:, system and server_name-like values).
std::string FilePath(const std::string& source) {
  if (source.empty() || source == kSystemSource || source.starts_with(kEnvScheme)) return "";
  return source.starts_with(kFileScheme) ? source.substr(kFileScheme.size()) : source;
}
constexpr std::pair<const char*, std::string HopSecurity::*> kFileFields[] = {
    {"the CA", &HopSecurity::ca},
    {"the client certificate", &HopSecurity::cert},
    {"the client key", &HopSecurity::key},
    {"the token", &HopSecurity::token},
};
}  // namespace

HopSecurity ResolveFiles(const HopSecurity& security, const std::string& directory) {
  HopSecurity out = security;
  for (const auto& [name, field] : kFileFields) {
    const std::string path = FilePath(out.*field);
    if (path.empty() || std::filesystem::path(path).is_absolute()) continue;
    const std::string resolved = (std::filesystem::path(directory) / path).lexically_normal();
    out.*field =
        (out.*field).starts_with(kFileScheme) ? std::string(kFileScheme) + resolved : resolved;
  }
  return out;
}

Status RequireAbsoluteFiles(const HopSecurity& security, std::string_view where) {
  for (const auto& [name, field] : kFileFields) {
    const std::string path = FilePath(security.*field);
    if (!path.empty() && !std::filesystem::path(path).is_absolute()) {
      return InvalidArgument(std::string(where) + ": " + name + " " + path +
                             ": give an absolute path (the tier that dials reads it from its own "
                             "working directory)");
    }
  }
  return Status::Ok();
}

nlohmann::json HopSecurityToJson(const HopSecurity& security) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, field] : kFields) {
    if (!(security.*field).empty()) out[key] = security.*field;
  }
  return out;
}

Result<HopSecurity> HopSecurityFromJson(const nlohmann::json& json, std::string_view where) {
  const std::string w(where);
  if (!json.is_object()) return InvalidArgument(w + ": must be an object");
  HopSecurity out;
  for (const auto& [key, value] : json.items()) {
    const auto* field = std::find_if(std::begin(kFields), std::end(kFields),
                                     [&](const auto& f) { return key == f.first; });
    if (field == std::end(kFields)) {
      return InvalidArgument(w + ": unknown key '" + key +
                             "' (known: ca, cert, key, token, server_name)");
    }
    if (!value.is_string()) {
      // The value is not repeated: it may be a secret.
      return InvalidArgument(w + ": '" + key + "' must be a string (a source: file:PATH or " +
                             "env:NAME), got a " + value.type_name());
    }
    out.*(field->second) = value.get<std::string>();
  }
  SEAM_RETURN_IF_ERROR(Validate(out, w));
  return out;
}

Result<HopCredentials> LoadHopCredentials(const HopSecurity& s, std::string_view where) {
  SEAM_RETURN_IF_ERROR(Validate(s, where));
  const std::string w(where);
  HopCredentials out;
  out.server_name = s.server_name;
  out.tls = s.tls();
  if (!s.token.empty()) {
    SEAM_ASSIGN_OR_RETURN(std::string token, ReadSecret(s.token, w + ": the token"));
    const size_t first = token.find_first_not_of(" \t\r\n");
    const size_t last = token.find_last_not_of(" \t\r\n");
    token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
    if (token.empty()) return InvalidArgument(w + ": the token " + s.token + " holds only spaces");
    for (const unsigned char c : token) {
      if (c <= ' ' || c >= 0x7f) {
        return InvalidArgument(w + ": the token " + s.token +
                               " has whitespace or a non-ASCII character inside it (one token, " +
                               "on one line)");
      }
    }
    out.authorization = "Bearer " + token;
  }
  if (!s.tls()) {
    out.channel = grpc::InsecureChannelCredentials();
    return out;
  }
  grpc::SslCredentialsOptions ssl;
  // The PEM is checked here so that a wrong file is named now, not found later as a failed
  // handshake ("the tier is unreachable").
  if (s.ca != kSystemSource) {
    SEAM_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadSecret(s.ca, w + ": the CA"));
    if (!FirstCertificate(ssl.pem_root_certs)) {
      return InvalidArgument(w + ": the CA " + s.ca + " holds no PEM certificate");
    }
  }
  if (!s.cert.empty()) {
    SEAM_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadSecret(s.cert, w + ": the client certificate"));
    SEAM_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadSecret(s.key, w + ": the client key"));
    auto cert = FirstCertificate(ssl.pem_cert_chain);
    if (!cert) {
      return InvalidArgument(w + ": the client certificate " + s.cert +
                             " holds no PEM certificate");
    }
    auto bio = MemoryBio(ssl.pem_private_key);
    ossl::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
    ERR_clear_error();
    if (!key) {
      return InvalidArgument(w + ": the client key " + s.key +
                             " holds no unencrypted PEM private key");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      return InvalidArgument(w + ": the client key " + s.key +
                             " does not match the client certificate " + s.cert);
    }
  }
  out.channel = grpc::SslCredentials(ssl);
  return out;
}

}  // namespace seam::oip
