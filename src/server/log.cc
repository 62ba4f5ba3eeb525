#include "server/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>

namespace seam::server {

Status InitLogging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("--log-level '" + level +
                           "': expected trace, debug, info, warn, error or off");
  }
  // The stderr sink is unbuffered per line and thread-safe (_mt).
  auto logger = spdlog::get("seam");
  if (!logger) logger = spdlog::stderr_logger_mt("seam");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

std::string LogValue(std::string_view value) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '"' || c == '\\' || c == '=' || c == '\n' || c == '\t';
  });
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace seam::server
