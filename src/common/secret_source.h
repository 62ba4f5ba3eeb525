// Secret sources: where a secret (a token, a private key, a model key) or a credential file is,
// never the secret itself, so that plan, stage and config files and command lines can name it:
//   file:PATH   a regular file of at most 1 MiB (a bare PATH also works where a scheme is not
//               required: CA and certificate files are not secret)
//   env:NAME    an environment variable
// The names a source is read by are kept in seam's files; the values never are.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace seam {

inline constexpr std::string_view kFileScheme = "file:";
inline constexpr std::string_view kEnvScheme = "env:";
inline constexpr std::string_view kSystemSource = "system";  // the system's CA roots

struct SourceRules {
  bool system_allowed = false;   // "system" is a valid source (a CA)
  bool scheme_required = false;  // a secret: file: or env: must be written out
};

// The source's syntax, without reading anything; "" is valid (nothing named). `what` names the
// setting in messages. A source refused for lacking its scheme is not echoed: it may be the secret.
Status CheckSecretSource(std::string_view source, std::string_view what, SourceRules rules = {});

// What a source names, read. Errors: an unknown scheme, a variable that is not set or is empty, a
// file that cannot be read, is not a regular file, is larger than 1 MiB or is empty, each naming
// `what` and the source.
Result<std::string> ReadSecret(std::string_view source, std::string_view what);

}  // namespace seam
