#include "server/log.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace seam::server {

namespace {

// {"ts":"...","level":"info","event":"model_loaded","model":"cnn",...}: the logfmt event of the
// message, each value a JSON string (a number stays a string: the same key may hold either).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto time = msg.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds);
    const std::time_t t = seconds.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[96];
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long>(micros.count()));
    nlohmann::ordered_json line;
    line["ts"] = ts;
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    for (auto& [key, value] :
         ParseLogfmt(std::string_view(msg.payload.data(), msg.payload.size()))) {
      line[key] = std::move(value);
    }
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseLogfmt(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string text;  // words that are not pairs
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t key_end = i;
    while (key_end < line.size() && line[key_end] != '=' && line[key_end] != ' ') ++key_end;
    std::string value;
    size_t next = key_end;
    const bool pair = key_end < line.size() && line[key_end] == '=' && key_end > i;
    if (pair) {
      next = key_end + 1;
      if (next < line.size() && line[next] == '"') {  // quoted, with \" \\ \n escapes
        for (++next; next < line.size() && line[next] != '"'; ++next) {
          if (line[next] == '\\' && next + 1 < line.size()) {
            ++next;
            value += line[next] == 'n' ? '\n' : line[next];
          } else {
            value += line[next];
          }
        }
        if (next < line.size()) ++next;  // the closing quote
      } else {
        while (next < line.size() && line[next] != ' ') value += line[next++];
      }
      pairs.emplace_back(std::string(line.substr(i, key_end - i)), std::move(value));
    } else {
      while (next < line.size() && line[next] != ' ') ++next;
      if (!text.empty()) text += ' ';
      text += line.substr(i, next - i);
    }
    i = next;
  }
  if (!text.empty()) pairs.emplace_back("msg", std::move(text));
  return pairs;
}

Status InitLogging(const std::string& level, const std::string& format) {
  if (format != "logfmt" && format != "json") {
    return InvalidArgument("--log-format '" + format + "': expected logfmt or json");
  }
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("--log-level '" + level +
                           "': expected trace, debug, info, warn, error or off");
  }
  // The stderr sink is unbuffered per line and thread-safe (_mt).
  auto logger = spdlog::get("seam");
  if (!logger) logger = spdlog::stderr_logger_mt("seam");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  }
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
