// A cascade file (JSON; docs/cascade.md): a small model run near the data, a big model served
// by an OIP server further up, what a hand-off sends, and the hand-off rule.
//
//   {
//     "name": "fashion",
//     "small": {"model": "fashion_small.onnx"},
//     "big": {"address": "127.0.0.1:8001", "model": "fashion_big", "version": 1,
//             "security": {"ca": "file:/etc/seam/ca.pem", "token": "env:SEAM_CLOUD_TOKEN"}},
//     "send": "input",
//     "rule": {"kind": "max_probability", "output": "logits", "threshold": 0.9},
//     "deadline_ms": 1000
//   }
//
// `small.model` is relative to the cascade file. `send` is "input" (the small model's inputs go
// up as they came) or the name of one of the small model's outputs (a feature the big model
// reads as its only input). `big.version` 0 means the server's newest. `deadline_ms` bounds a
// hand-off (past it, the small model's answer is returned, flagged degraded). `big.security`
// (optional) is how the big model's server is dialled: TLS and a bearer token, as sources
// (oip/hop_security.h), never the secrets.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cascade/handoff_rule.h"
#include "common/status.h"
#include "oip/hop_security.h"

namespace seam::cascade {

struct CascadeFile {
  std::string path;  // where it was read from (absolute)
  std::string name;
  std::string small_model;  // absolute
  std::string big_address;
  std::string big_model;
  int64_t big_version = 0;
  oip::HopSecurity big_security;
  std::string send = "input";
  HandoffRule rule;
  double deadline_ms = 1000;
};

// Reads and checks the file's own fields (not the models: CheckModels). Errors name the file and
// the field.
Result<CascadeFile> ReadCascadeFile(const std::string& path);
Result<CascadeFile> ParseCascade(const nlohmann::json& j, const std::string& path);
// The file's JSON (paths as given: small.model relative to `directory` when inside it).
nlohmann::json ToJson(const CascadeFile& cascade, const std::string& directory);

}  // namespace seam::cascade
