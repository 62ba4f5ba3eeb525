// The server's structured logs: spdlog on stderr, one event per line in logfmt
// ("ts=... level=info event=model_loaded model=cnn version=2 load_ms=41"), so they are readable by
// people and parseable by log shippers. stdout is kept for the one machine-read line
// ("grpc listening on HOST:PORT").
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace seam::server {

enum class LogFormat { kLogfmt, kJson };

// Installs the stderr logger as spdlog's default. level: trace, debug, info, warn, error, off.
// format "logfmt" (the default) or "json": one JSON object per line, {"ts": ..., "level": ...,
// then each key=value of the event}, for log shippers that want JSON.
Status InitLogging(const std::string& level, const std::string& format = "logfmt");

// The key=value pairs of a logfmt line (values as LogValue writes them, quoted or not), in order.
// A word without '=' is kept under "msg". Never fails: whatever is not a pair is text.
std::vector<std::pair<std::string, std::string>> ParseLogfmt(std::string_view line);

// A logfmt value: as is when it is one plain word, else double-quoted with \" \\ \n escaped.
std::string LogValue(std::string_view value);

}  // namespace seam::server
