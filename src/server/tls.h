// TLS for both front ends of the server: the certificate chain, private key and optional client CA
// are read once at startup and checked with OpenSSL (parse, key matches certificate), so that a
// bad file is a one-line startup error naming it instead of a failed handshake later. gRPC takes
// the PEM text (SslServerCredentials); HTTPS takes an OpenSSL context configured from the same
// text, so both ports present the same certificate and apply the same client-certificate policy.
//
// Not supported: encrypted private keys (no passphrase prompt in a server), certificate reload
// without a restart.
#pragma once

#include <string>

#include "common/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace seam::server {

struct TlsMaterial {
  std::string cert_file, key_file, client_ca_file;  // as given, for messages
  std::string cert_chain_pem;  // the server's certificate, then any intermediates
  std::string key_pem;
  std::string client_ca_pem;  // empty: clients are not asked for a certificate
  bool mutual() const { return !client_ca_pem.empty(); }
};

// Reads and checks the files (`client_ca_file` may be empty). Errors name the flag and the file:
// "--tls-key /etc/seam/key.pem: cannot read it: No such file or directory",
// "--tls-key ...: does not match the certificate in --tls-cert ...".
Result<TlsMaterial> LoadTlsMaterial(const std::string& cert_file, const std::string& key_file,
                                    const std::string& client_ca_file);

// Sets up a server context: TLS 1.2 or later, the certificate chain and key, and, when mutual,
// the client CA as the only trust anchor with a client certificate required.
Status ConfigureServerContext(const TlsMaterial& material, ssl_ctx_st* context);

}  // namespace seam::server
