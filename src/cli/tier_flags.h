// Flags that take one value per tier (TIER=VALUE), and the hop-security flags built on them:
// `--hop-ca TIER=SOURCE`, `--hop-cert`, `--hop-key`, `--hop-token`, `--hop-server-name`, shared by
// `seam deploy` (written into the stages) and `seam run` (the device's own dialling).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "oip/hop_security.h"

namespace seam::cli {

// "TIER=VALUE" items as a map; errors name the flag and the item, unless `secret`: a value typed
// without its TIER= may be a key or a token, and is not echoed.
Result<std::map<std::string, std::string>> TierMap(const std::string& flag,
                                                   const std::vector<std::string>& items,
                                                   bool secret = false);

struct HopSecurityFlags {
  std::vector<std::string> ca, cert, key, token, server_name;
};

// Adds the --hop-* flags to `cmd`; `dialler` says who dials ("the tier below", "the device").
void AddHopSecurityFlags(CLI::App* cmd, HopSecurityFlags* flags, const std::string& dialler);

// The flags as one HopSecurity per tier, each validated (oip::Validate).
Result<std::map<std::string, oip::HopSecurity>> HopSecurityByTier(const HopSecurityFlags& flags);

}  // namespace seam::cli
