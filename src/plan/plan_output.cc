#include "plan/plan_output.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace seam::plan {
namespace {

std::string LinkName(const PlanRequest& r, int k) {
  return r.tiers[k].name + "-" + r.tiers[k + 1].name;
}

std::string Format(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string HumanBytes(double bytes) {
  if (bytes < 1024) return Format("%.0f B", bytes);
  if (bytes < 1024 * 1024) return Format("%.1f KiB", bytes / 1024);
  return Format("%.2f MiB", bytes / (1024 * 1024));
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

DeviceFallback DeviceFallbackOf(const PlanRequest& r) {
  DeviceFallback f;
  for (const auto& node : r.graph.nodes) f.param_bytes += static_cast<double>(node.param_bytes);
  f.memory_limit_bytes = r.tiers.empty() ? 0 : r.tiers[0].memory_limit_bytes;
  f.fits = f.memory_limit_bytes <= 0 || f.param_bytes <= f.memory_limit_bytes;
  return f;
}

nlohmann::json PlanToJson(const PlanRequest& r, const Plan& plan) {
  const int tiers = static_cast<int>(r.tiers.size());
  nlohmann::json tiers_json = nlohmann::json::array(), links = nlohmann::json::array();
  for (const auto& t : r.tiers) {
    tiers_json.push_back({{"name", t.name},
                          {"overhead_ms", t.overhead_ms},
                          {"memory_limit_bytes", t.memory_limit_bytes}});
  }
  for (int k = 0; k + 1 < tiers; ++k) {
    links.push_back({{"from", r.tiers[k].name},
                     {"to", r.tiers[k + 1].name},
                     {"bandwidth_bps", r.links[k].bandwidth_bps},
                     {"rtt_ms", r.links[k].rtt_ms},
                     {"overhead_ms", r.links[k].overhead_ms}});
  }
  nlohmann::json placement = nlohmann::json::array();
  std::vector<nlohmann::json> segments(tiers);
  for (int j = 0; j < tiers; ++j) {
    segments[j] = {{"tier", r.tiers[j].name},
                   {"nodes", nlohmann::json::array()},
                   {"predicted_ms", plan.compute_ms[j]},
                   {"param_bytes", plan.param_bytes[j]}};
  }
  for (size_t v = 0; v < r.graph.nodes.size(); ++v) {
    const int j = plan.tier_of_node[v];
    placement.push_back({{"node", r.graph.nodes[v].name}, {"tier", r.tiers[j].name}});
    segments[j]["nodes"].push_back(r.graph.nodes[v].name);
  }
  nlohmann::json segments_json = nlohmann::json::array();
  for (auto& s : segments) {
    if (!s["nodes"].empty()) segments_json.push_back(std::move(s));
  }
  nlohmann::json transfers = nlohmann::json::array();
  for (const auto& m : plan.moves) {
    transfers.push_back({{"tensor", r.graph.tensors[m.tensor].name},
                         {"link", LinkName(r, m.link)},
                         {"direction", m.to_device ? "down" : "up"},
                         {"codec", m.codec},
                         {"bytes", m.bytes},
                         {"wire_bytes", m.wire_bytes},
                         {"encode_ms", m.encode_ms},
                         {"transfer_ms", m.transfer_ms},
                         {"decode_ms", m.decode_ms},
                         {"boundary_ms", m.boundary_ms}});
  }
  nlohmann::json compute = nlohmann::json::object(), link_ms = nlohmann::json::object(),
                 params = nlohmann::json::object();
  for (int j = 0; j < tiers; ++j) {
    compute[r.tiers[j].name] = plan.compute_ms[j];
    params[r.tiers[j].name] = plan.param_bytes[j];
  }
  for (int k = 0; k + 1 < tiers; ++k) link_ms[LinkName(r, k)] = plan.link_ms[k];
  nlohmann::json passes = nlohmann::json::array();
  for (const auto& p : plan.passes) passes.push_back({{"name", p.name}, {"ms", p.ms}});
  const DeviceFallback fallback = DeviceFallbackOf(r);
  return {{"schema", "seam.plan/v1"},
          {"model", {{"path", r.graph.model_path}, {"sha256", r.graph.model_sha256}}},
          {"objective", ObjectiveName(r.objective)},
          {"constraints",
           {{"slo_ms", r.slo_ms},
            {"keep_input_on_device", r.keep_input_on_device},
            {"pinned_tier", r.pinned_tier >= 0 ? nlohmann::json(r.tiers[r.pinned_tier].name)
                                               : nlohmann::json(nullptr)}}},
          {"tiers", tiers_json},
          {"links", links},
          {"placement", placement},
          {"device_fallback",
           {{"fits", fallback.fits},
            {"param_bytes", fallback.param_bytes},
            {"memory_limit_bytes", fallback.memory_limit_bytes}}},
          {"segments", segments_json},
          {"transfers", transfers},
          {"predicted",
           {{"latency_ms", plan.latency_ms},
            {"device_energy_mj", plan.device_energy_mj},
            {"money", plan.money},
            {"compute_ms", compute},
            {"link_ms", link_ms},
            {"param_bytes", params}}},
          {"solver",
           {{"method", "min-cut over a layered graph (exact for the cost model)"},
            {"exact", plan.exact},
            {"objective_value", plan.objective_value},
            {"lower_bound", plan.lower_bound},
            {"note", plan.note},
            {"passes", passes}}}};
}

std::string PlanToTable(const PlanRequest& r, const Plan& plan) {
  std::string out;
  char line[512];
  std::snprintf(
      line, sizeof line,
      "plan for %s, objective %s: %.3f ms per request, %.3f mJ on the device, cost %.6g\n",
      r.graph.model_path.c_str(), ObjectiveName(r.objective), plan.latency_ms,
      plan.device_energy_mj, plan.money);
  out += line;
  out += plan.exact ? "optimal for the cost model (exact min-cut)\n" : "bound: " + plan.note + "\n";
  if (const DeviceFallback f = DeviceFallbackOf(r); !f.fits) {
    out += "note: the device cannot hold the whole model (" + HumanBytes(f.param_bytes) +
           " of parameters, its limit " + HumanBytes(f.memory_limit_bytes) +
           "): no fallback is deployed, and a request the tiers above cannot answer in time fails "
           "instead of being finished on the device\n";
  }
  out += "\n";
  std::snprintf(line, sizeof line, "%-10s %6s  %-50s %11s %12s\n", "tier", "nodes",
                "first .. last node", "compute ms", "params");
  out += line;
  for (size_t j = 0; j < r.tiers.size(); ++j) {
    int count = 0;
    std::string first, last;
    for (size_t v = 0; v < r.graph.nodes.size(); ++v) {
      if (plan.tier_of_node[v] != static_cast<int>(j)) continue;
      if (count++ == 0) first = r.graph.nodes[v].name;
      last = r.graph.nodes[v].name;
    }
    std::string span = count ? (count == 1 ? first : first + " .. " + last) : "-";
    if (span.size() > 50) span = span.substr(0, 22) + "..." + span.substr(span.size() - 25);
    std::snprintf(line, sizeof line, "%-10s %6d  %-50s %11.3f %12s\n", r.tiers[j].name.c_str(),
                  count, span.c_str(), plan.compute_ms[j], HumanBytes(plan.param_bytes[j]).c_str());
    out += line;
  }
  if (!plan.moves.empty()) {
    out += "\n";
    std::snprintf(line, sizeof line, "%-16s %-4s %-36s %-16s %11s %11s %9s\n", "link", "dir",
                  "tensor", "codec", "bytes", "on wire", "ms");
    out += line;
    for (const auto& m : plan.moves) {
      std::string name = r.graph.tensors[m.tensor].name;
      if (name.size() > 36) name = "..." + name.substr(name.size() - 33);
      std::snprintf(line, sizeof line, "%-16s %-4s %-36s %-16s %11s %11s %9.3f\n",
                    LinkName(r, m.link).c_str(), m.to_device ? "down" : "up", name.c_str(),
                    m.codec.c_str(), HumanBytes(m.bytes).c_str(), HumanBytes(m.wire_bytes).c_str(),
                    m.encode_ms + m.transfer_ms + m.decode_ms + m.boundary_ms);
      out += line;
    }
  }
  out += "\n";
  for (size_t k = 0; k + 1 < r.tiers.size(); ++k) {
    std::snprintf(line, sizeof line,
                  "link %-16s %9.3f ms (round trip, messages, transfers, segment edges)\n",
                  LinkName(r, k).c_str(), plan.link_ms[k]);
    out += line;
  }
  std::string passes = "planner passes:";
  for (const auto& p : plan.passes) passes += " " + p.name + " " + Format("%.3f", p.ms) + " ms;";
  out += passes + "\n";
  return out;
}

std::string PlanToSvg(const PlanRequest& r, const Plan& plan) {
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                   "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
  const int nodes = static_cast<int>(r.graph.nodes.size());
  // Layered layout: a node's row is its longest distance from the inputs.
  std::vector<int> depth(nodes, 0);
  for (int v = 0; v < nodes; ++v) {
    for (const auto& t : r.graph.tensors) {
      if (t.producer < 0) continue;
      for (int c : t.consumers) {
        if (c == v) depth[v] = std::max(depth[v], depth[t.producer] + 1);
      }
    }
  }
  std::map<int, int> width_at;
  std::vector<int> column(nodes);
  for (int v = 0; v < nodes; ++v) column[v] = width_at[depth[v]]++;
  int max_width = 1, max_depth = 0;
  for (auto& [d, w] : width_at) {
    max_width = std::max(max_width, w);
    max_depth = std::max(max_depth, d);
  }
  const int box_w = 150, box_h = 26, gap_x = 190, gap_y = 56, margin = 40, legend = 30;
  auto x_of = [&](int v) { return margin + column[v] * gap_x; };
  auto y_of = [&](int v) { return margin + legend + depth[v] * gap_y; };
  const int width = margin * 2 + max_width * gap_x;
  const int height = margin * 2 + legend + (max_depth + 1) * gap_y;

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  int lx = margin;
  for (size_t j = 0; j < r.tiers.size(); ++j) {
    svg += "<rect x=\"" + std::to_string(lx) + "\" y=\"12\" width=\"14\" height=\"14\" fill=\"" +
           kColours[j % 8] + "\"/><text x=\"" + std::to_string(lx + 18) + "\" y=\"24\">" +
           XmlEscape(r.tiers[j].name) + "</text>\n";
    lx += 110;
  }
  svg += "<text x=\"" + std::to_string(lx) + "\" y=\"24\">" +
         XmlEscape(Format("%.3f ms predicted", plan.latency_ms)) + "</text>\n";
  // Which codec each crossing tensor uses on its first link.
  std::map<int, const TensorMove*> first_move;
  for (const auto& m : plan.moves) {
    if (!m.to_device && !first_move.count(m.tensor)) first_move[m.tensor] = &m;
  }
  for (size_t t = 0; t < r.graph.tensors.size(); ++t) {
    const PlanTensor& tensor = r.graph.tensors[t];
    if (tensor.producer < 0) continue;
    for (int c : tensor.consumers) {
      const bool crosses = plan.tier_of_node[c] != plan.tier_of_node[tensor.producer];
      const int x1 = x_of(tensor.producer) + box_w / 2, y1 = y_of(tensor.producer) + box_h;
      const int x2 = x_of(c) + box_w / 2, y2 = y_of(c);
      svg += "<line x1=\"" + std::to_string(x1) + "\" y1=\"" + std::to_string(y1) + "\" x2=\"" +
             std::to_string(x2) + "\" y2=\"" + std::to_string(y2) + "\" stroke=\"" +
             (crosses ? "#d62728" : "#999") + "\" stroke-width=\"" + (crosses ? "3" : "1") +
             "\"/>\n";
      if (crosses) {
        const TensorMove* m = first_move.count(t) ? first_move[t] : nullptr;
        std::string label = tensor.name + " " + HumanBytes(static_cast<double>(tensor.bytes));
        if (m) label += " " + m->codec;
        svg += "<text x=\"" + std::to_string((x1 + x2) / 2 + 4) + "\" y=\"" +
               std::to_string((y1 + y2) / 2) + "\" fill=\"#d62728\">" + XmlEscape(label) +
               "</text>\n";
      }
    }
  }
  for (int v = 0; v < nodes; ++v) {
    std::string label =
        r.graph.nodes[v].op_type.empty() ? r.graph.nodes[v].name : r.graph.nodes[v].op_type;
    std::string name = r.graph.nodes[v].name;
    if (name.size() > 24) name = "..." + name.substr(name.size() - 21);
    svg += "<g><title>" + XmlEscape(r.graph.nodes[v].name) + "</title><rect x=\"" +
           std::to_string(x_of(v)) + "\" y=\"" + std::to_string(y_of(v)) + "\" width=\"" +
           std::to_string(box_w) + "\" height=\"" + std::to_string(box_h) + "\" rx=\"4\" fill=\"" +
           kColours[plan.tier_of_node[v] % 8] + "\"/><text x=\"" + std::to_string(x_of(v) + 6) +
           "\" y=\"" + std::to_string(y_of(v) + 17) + "\" fill=\"white\">" + XmlEscape(name) +
           "</text></g>\n";
    (void)label;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace seam::plan
