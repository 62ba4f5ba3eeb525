#include "plan/link.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace seam::plan {
namespace {

// A number followed by an optional unit suffix, case-insensitive.
Result<double> ParseQuantity(const std::string& text, const std::string& what,
                             const std::vector<std::pair<std::string, double>>& units) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin) return InvalidArgument(what + " '" + text + "' is not a number");
  std::string unit(end);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!std::isfinite(value)) return InvalidArgument(what + " '" + text + "' is not finite");
  for (const auto& [suffix, factor] : units) {
    if (unit == suffix) return value * factor;
  }
  std::string known;
  for (const auto& [suffix, factor] : units) known += (known.empty() ? "" : ", ") + suffix;
  return InvalidArgument(what + " '" + text + "' has an unknown unit '" + unit + "' (use " + known +
                         ")");
}

const std::vector<std::pair<std::string, double>> kBandwidthUnits = {
    {"", 1}, {"bit", 1}, {"bps", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}};

}  // namespace

Result<double> ParseBandwidth(const std::string& text) {
  SEAM_ASSIGN_OR_RETURN(const double bps, ParseQuantity(text, "bandwidth", kBandwidthUnits));
  if (bps < 0) return InvalidArgument("bandwidth '" + text + "' must not be negative");
  return bps;
}

Result<Link> ParseLink(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) {
    return InvalidArgument("link '" + text +
                           "': expected BANDWIDTH,RTT[,OVERHEAD], e.g. 10mbit,20ms");
  }
  Link link;
  SEAM_ASSIGN_OR_RETURN(link.bandwidth_bps, ParseQuantity(parts[0], "bandwidth", kBandwidthUnits));
  SEAM_ASSIGN_OR_RETURN(link.rtt_ms, ParseQuantity(parts[1], "round-trip time",
                                                   {{"", 1}, {"ms", 1}, {"us", 1e-3}, {"s", 1e3}}));
  if (parts.size() == 3) {
    SEAM_ASSIGN_OR_RETURN(link.overhead_ms,
                          ParseQuantity(parts[2], "per-message overhead",
                                        {{"", 1}, {"ms", 1}, {"us", 1e-3}, {"s", 1e3}}));
  }
  if (link.bandwidth_bps <= 0) {
    return InvalidArgument("link '" + text + "': bandwidth must be positive, got " + parts[0]);
  }
  if (link.rtt_ms < 0) return InvalidArgument("link '" + text + "': round-trip time must be >= 0");
  if (link.overhead_ms < 0) return InvalidArgument("link '" + text + "': overhead must be >= 0");
  return link;
}

}  // namespace seam::plan
