#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "common/openssl_pem.h"

namespace seam::server {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ossl::BioPtr;
using ossl::MemoryBio;
using ossl::NoPassphrase;
using ossl::PkeyPtr;
using ossl::X509Ptr;

// OpenSSL's last queued error as text ("" if none); clears the queue.
std::string OpensslError() {
  const unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    text = std::string(": ") + buffer;
  }
  ERR_clear_error();
  return text;
}

Result<std::string> ReadFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(std::string(flag) + " " + path +
                           ": cannot read it: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(std::string(flag) + " " + path + ": read error");
  return text.str();
}

// Every certificate in `pem`, in order.
std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the text is reported as an error
  return certs;
}

}  // namespace

Result<TlsMaterial> LoadTlsMaterial(const std::string& cert_file, const std::string& key_file,
                                    const std::string& client_ca_file) {
  if (cert_file.empty() != key_file.empty()) {
    return InvalidArgument("--tls-cert and --tls-key: give both or neither");
  }
  if (cert_file.empty() && !client_ca_file.empty()) {
    return InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key");
  }
  TlsMaterial material;
  material.cert_file = cert_file;
  material.key_file = key_file;
  material.client_ca_file = client_ca_file;
  SEAM_ASSIGN_OR_RETURN(material.cert_chain_pem, ReadFile("--tls-cert", cert_file));
  SEAM_ASSIGN_OR_RETURN(material.key_pem, ReadFile("--tls-key", key_file));
  if (!client_ca_file.empty()) {
    SEAM_ASSIGN_OR_RETURN(material.client_ca_pem, ReadFile("--tls-client-ca", client_ca_file));
    if (material.client_ca_pem.empty()) {
      return InvalidArgument("--tls-client-ca " + client_ca_file + ": the file is empty");
    }
  }
  std::unique_ptr<SSL_CTX, CtxFree> context(SSL_CTX_new(TLS_server_method()));
  if (!context) return Internal("cannot create an OpenSSL context" + OpensslError());
  SEAM_RETURN_IF_ERROR(ConfigureServerContext(material, context.get()));
  return material;
}

Status ConfigureServerContext(const TlsMaterial& material, SSL_CTX* context) {
  const std::string cert = "--tls-cert " + material.cert_file;
  const std::string key = "--tls-key " + material.key_file;
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

  std::vector<X509Ptr> chain = ReadCertificates(material.cert_chain_pem);
  if (chain.empty()) return InvalidArgument(cert + ": no PEM certificate in it");
  if (SSL_CTX_use_certificate(context, chain[0].get()) != 1) {
    return InvalidArgument(cert + ": the certificate is not usable" + OpensslError());
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    // add0 takes ownership on success.
    if (SSL_CTX_add0_chain_cert(context, chain[i].get()) != 1) {
      return InvalidArgument(cert + ": certificate " + std::to_string(i + 1) +
                             " of the chain is not usable" + OpensslError());
    }
    chain[i].release();
  }

  BioPtr key_bio = MemoryBio(material.key_pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) {
    ERR_clear_error();
    return InvalidArgument(key + ": no unencrypted PEM private key in it");
  }
  if (SSL_CTX_use_PrivateKey(context, pkey.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    return InvalidArgument(key + ": does not match the certificate in " + cert);
  }

  if (material.mutual()) {
    const std::string ca = "--tls-client-ca " + material.client_ca_file;
    std::vector<X509Ptr> authorities = ReadCertificates(material.client_ca_pem);
    if (authorities.empty()) return InvalidArgument(ca + ": no PEM certificate in it");
    X509_STORE* store = X509_STORE_new();
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const auto& authority : authorities) {
      X509_STORE_add_cert(store, authority.get());  // takes its own reference
      sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(authority.get())));
    }
    SSL_CTX_set_cert_store(context, store);      // takes ownership
    SSL_CTX_set_client_CA_list(context, names);  // takes ownership
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return Status::Ok();
}

}  // namespace seam::server
