#include "cli/tier_flags.h"

namespace seam::cli {

Result<std::map<std::string, std::string>> TierMap(const std::string& flag,
                                                   const std::vector<std::string>& items,
                                                   bool secret) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      if (secret)
        return InvalidArgument(flag + ": expected TIER=SOURCE (the value is not repeated)");
      return InvalidArgument(flag + " '" + item + "': expected TIER=VALUE");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

void AddHopSecurityFlags(CLI::App* cmd, HopSecurityFlags* f, const std::string& dialler) {
  const std::string source = " (file:PATH or env:NAME; never the secret itself)";
  cmd->add_option("--hop-ca", f->ca,
                  "TIER=SOURCE: dial TIER over TLS, verifying its certificate with this CA "
                  "(PEM; 'system': the system's roots)")
      ->allow_extra_args(false);
  cmd->add_option("--hop-cert", f->cert,
                  "TIER=SOURCE: the client certificate " + dialler +
                      " presents to TIER (mutual TLS; with --hop-key)")
      ->allow_extra_args(false);
  cmd->add_option("--hop-key", f->key, "TIER=SOURCE: the key of --hop-cert" + source)
      ->allow_extra_args(false);
  cmd->add_option("--hop-token", f->token,
                  "TIER=SOURCE: the bearer token " + dialler + " presents to TIER" + source)
      ->allow_extra_args(false);
  cmd->add_option("--hop-server-name", f->server_name,
                  "TIER=NAME: the name TIER's certificate carries, when not the host dialled")
      ->allow_extra_args(false);
}

Result<std::map<std::string, oip::HopSecurity>> HopSecurityByTier(const HopSecurityFlags& f) {
  std::map<std::string, oip::HopSecurity> out;
  const std::pair<const char*, const std::vector<std::string>*> flags[] = {
      {"--hop-ca", &f.ca},
      {"--hop-cert", &f.cert},
      {"--hop-key", &f.key},
      {"--hop-token", &f.token},
      {"--hop-server-name", &f.server_name}};
  std::string oip::HopSecurity::*const fields[] = {&oip::HopSecurity::ca, &oip::HopSecurity::cert,
                                                   &oip::HopSecurity::key, &oip::HopSecurity::token,
                                                   &oip::HopSecurity::server_name};
  for (size_t i = 0; i < std::size(flags); ++i) {
    const bool secret =
        fields[i] == &oip::HopSecurity::key || fields[i] == &oip::HopSecurity::token;
    SEAM_ASSIGN_OR_RETURN(auto values, TierMap(flags[i].first, *flags[i].second, secret));
    for (const auto& [tier, value] : values) out[tier].*fields[i] = value;
  }
  for (const auto& [tier, security] : out) {
    SEAM_RETURN_IF_ERROR(oip::Validate(security, "--hop-* " + tier));
  }
  return out;
}

}  // namespace seam::cli
