#include "pipeline/trace.h"

#include <cstdio>

namespace seam::pipeline {

nlohmann::json TraceToJson(const RequestTrace& trace) {
  nlohmann::json tiers = nlohmann::json::array(), links = nlohmann::json::array();
  for (const auto& t : trace.tiers) {
    tiers.push_back({{"tier", t.tier},
                     {"compute_ms", t.compute_ms},
                     {"encode_ms", t.encode_ms},
                     {"decode_ms", t.decode_ms},
                     {"total_ms", t.total_ms},
                     {"queue_ms", t.queue_ms}});
  }
  for (const auto& l : trace.links) {
    links.push_back({{"from", l.from},
                     {"to", l.to},
                     {"up_bytes", l.up_bytes},
                     {"down_bytes", l.down_bytes},
                     {"ms", l.ms}});
    if (l.retries > 0) links.back()["retries"] = l.retries;
  }
  nlohmann::json out = {{"tiers", tiers}, {"links", links}};
  if (!trace.route.empty()) out["route"] = trace.route;
  if (!trace.plan.empty()) {
    out["plan"] = trace.plan;
    out["plan_reason"] = trace.plan_reason;
  }
  if (trace.degraded) {
    out["degraded"] = true;
    out["degraded_reason"] = trace.degraded_reason;
  }
  return out;
}

Result<RequestTrace> TraceFromJson(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    RequestTrace trace;
    for (const auto& t : j.at("tiers")) {
      trace.tiers.push_back({t.at("tier").get<std::string>(), t.at("compute_ms").get<double>(),
                             t.at("encode_ms").get<double>(), t.at("decode_ms").get<double>(),
                             t.at("total_ms").get<double>(), t.value("queue_ms", 0.0)});
    }
    for (const auto& l : j.at("links")) {
      trace.links.push_back({l.at("from").get<std::string>(), l.at("to").get<std::string>(),
                             l.at("up_bytes").get<uint64_t>(), l.at("down_bytes").get<uint64_t>(),
                             l.at("ms").get<double>(), l.value("retries", 0)});
    }
    return trace;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(std::string("malformed trace from the next tier: ") + e.what());
  }
}

std::string TraceToText(const RequestTrace& trace) {
  std::string out;
  char line[256];
  for (const auto& t : trace.tiers) {
    std::snprintf(line, sizeof line,
                  "  %-8s compute %8.3f ms  encode %6.3f ms  decode %6.3f ms  total %8.3f ms",
                  t.tier.c_str(), t.compute_ms, t.encode_ms, t.decode_ms, t.total_ms);
    out += line;
    if (t.queue_ms >= 0.0005) {
      std::snprintf(line, sizeof line, "  (queued %.3f ms)", t.queue_ms);
      out += line;
    }
    out += '\n';
  }
  for (const auto& l : trace.links) {
    const std::string name = l.from + "->" + l.to;
    std::snprintf(line, sizeof line,
                  "  %-16s up %9llu B  down %9llu B  %8.3f ms (transfer, round trip, protocol)\n",
                  name.c_str(), static_cast<unsigned long long>(l.up_bytes),
                  static_cast<unsigned long long>(l.down_bytes), l.ms);
    out += line;
    if (l.retries > 0) {
      out += "    retried on a new connection: the stream broke under the first attempt, which " +
             l.to + " may also have run\n";
    }
  }
  if (!trace.plan.empty()) out += "  plan: " + trace.plan + ": " + trace.plan_reason + "\n";
  if (!trace.route.empty()) out += "  route: " + trace.route + "\n";
  if (trace.degraded) out += "  DEGRADED: " + trace.degraded_reason + "\n";
  return out;
}

}  // namespace seam::pipeline
