#include "common/secret_source.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace seam {
namespace {

constexpr uintmax_t kMaxSecretBytes = 1 << 20;  // PEM chains, tokens and keys are a few KB

std::string Quote(std::string_view text) {
  std::string out = "'";
  out += text;
  out += "'";
  return out;
}

}  // namespace

Status CheckSecretSource(std::string_view source, std::string_view what, SourceRules rules) {
  if (source.empty()) return Status::Ok();
  if (rules.scheme_required && !source.starts_with(kFileScheme) &&
      !source.starts_with(kEnvScheme)) {
    // The value is not repeated: it may be the secret itself.
    return InvalidArgument(std::string(what) +
                           ": give where it is, file:PATH or env:NAME, not a bare value");
  }
  if (source == kSystemSource) {
    if (rules.system_allowed) return Status::Ok();
    return InvalidArgument(std::string(what) + ": 'system' names the system's CA roots, not a " +
                           "file; write file:system for a file of that name");
  }
  if (source.starts_with(kEnvScheme)) {
    const std::string_view name = source.substr(kEnvScheme.size());
    const bool valid = !name.empty() && name.find_first_of("= \t") == std::string_view::npos;
    if (!valid) {
      return InvalidArgument(std::string(what) + ": " + Quote(source) +
                             " names no environment variable (env:NAME)");
    }
    return Status::Ok();
  }
  if (source.starts_with(kFileScheme) && source.size() == kFileScheme.size()) {
    return InvalidArgument(std::string(what) + ": 'file:' names no file (file:PATH)");
  }
  return Status::Ok();
}

Result<std::string> ReadSecret(std::string_view source, std::string_view what) {
  SEAM_RETURN_IF_ERROR(CheckSecretSource(source, what));
  if (source.starts_with(kEnvScheme)) {
    const std::string name(source.substr(kEnvScheme.size()));
    const char* value = std::getenv(name.c_str());
    if (!value) {
      return InvalidArgument(std::string(what) + ": the environment variable " + name +
                             " is not set");
    }
    if (*value == '\0') {
      return InvalidArgument(std::string(what) + ": the environment variable " + name +
                             " is empty");
    }
    return std::string(value);
  }
  const std::string path(source.starts_with(kFileScheme) ? source.substr(kFileScheme.size())
                                                         : source);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return InvalidArgument(std::string(what) + ": " + path + " is not a regular file");
  }
  if (!ec && std::filesystem::is_regular_file(status) &&
      std::filesystem::file_size(path, ec) > kMaxSecretBytes) {
    return InvalidArgument(std::string(what) + ": " + path + " is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(std::string(what) + ": read error in " + path);
  if (text.str().empty()) return InvalidArgument(std::string(what) + ": " + path + " is empty");
  return text.str();
}

}  // namespace seam
