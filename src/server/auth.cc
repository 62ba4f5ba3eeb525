#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace seam::server {
namespace {

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

Result<TokenAuthenticator> TokenAuthenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument("--auth-tokens " + path + ": cannot read it: " + std::strerror(errno));
  }
  std::vector<std::string> tokens;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string_view token = Trim(line);
    if (token.empty() || token.front() == '#') continue;
    if (token.find_first_of(" \t") != std::string_view::npos) {
      return InvalidArgument("--auth-tokens " + path + ":" + std::to_string(number) +
                             ": a token cannot contain spaces or tabs");
    }
    tokens.emplace_back(token);
  }
  if (in.bad()) return InvalidArgument("--auth-tokens " + path + ": read error");
  if (tokens.empty()) {
    return InvalidArgument("--auth-tokens " + path +
                           ": no token in it (one per line; '#' starts a comment)");
  }
  return TokenAuthenticator(tokens);
}

TokenAuthenticator::TokenAuthenticator(const std::vector<std::string>& tokens) {
  for (const auto& token : tokens) digests_.push_back(Sha256(token));
}

TokenAuthenticator::Digest TokenAuthenticator::Sha256(std::string_view text) {
  Digest digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

Status TokenAuthenticator::Check(std::optional<std::string_view> authorization) const {
  constexpr std::string_view kHint = " (send 'authorization: Bearer <token>')";
  if (!authorization) return Unauthenticated("missing bearer token" + std::string(kHint));
  const std::string_view value = Trim(*authorization);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) {
    return Unauthenticated("the authorization is not a bearer token" + std::string(kHint));
  }
  const Digest digest = Sha256(Trim(value.substr(kScheme.size())));
  // Every token is compared, so the time taken does not say which one (if any) matched.
  bool known = false;
  for (const Digest& d : digests_) {
    known |= CRYPTO_memcmp(d.data(), digest.data(), digest.size()) == 0;
  }
  if (!known) return Unauthenticated("invalid bearer token");
  return Status::Ok();
}

}  // namespace seam::server
