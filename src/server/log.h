// The server's structured logs: spdlog on stderr, one event per line in logfmt
// ("ts=... level=info event=model_loaded model=cnn version=2 load_ms=41"), so they are readable by
// people and parseable by log shippers. stdout is kept for the one machine-read line
// ("grpc listening on HOST:PORT").
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace seam::server {

// Installs the stderr logger as spdlog's default. level: trace, debug, info, warn, error, off.
Status InitLogging(const std::string& level);

// A logfmt value: as is when it is one plain word, else double-quoted with \" \\ \n escaped.
std::string LogValue(std::string_view value);

}  // namespace seam::server
