#include "plan/plan_fixture.h"

#include <sstream>

namespace seam::plan {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

}  // namespace

Result<PlanFixture> ParsePlanFixture(const std::string& text) {
  PlanFixture f;
  PlanRequest& r = f.request;
  std::map<std::string, int> tensor_index;
  auto tensor = [&](const std::string& name) -> int {
    auto [it, inserted] = tensor_index.try_emplace(name, r.graph.tensors.size());
    if (inserted) r.graph.tensors.push_back(PlanTensor{.name = name, .is_float32 = true});
    return it->second;
  };
  std::vector<std::pair<std::string, std::map<std::string, double>>> tier_times;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind)) continue;
    const std::string where = "line " + std::to_string(number);
    std::string word;
    if (kind == "input") {
      std::string name;
      int64_t bytes = 0;
      words >> name >> bytes;
      r.graph.tensors[tensor(name)].bytes = bytes;
    } else if (kind == "node") {
      PlanNode node;
      words >> node.name;
      const int index = static_cast<int>(r.graph.nodes.size());
      while (words >> word) {
        std::string value;
        words >> value;
        if (word == "reads") {
          for (const auto& t : Split(value, ','))
            r.graph.tensors[tensor(t)].consumers.push_back(index);
        } else if (word == "writes") {
          for (const auto& spec : Split(value, ',')) {
            auto parts = Split(spec, ':');
            PlanTensor& t = r.graph.tensors[tensor(parts[0])];
            t.producer = index;
            t.bytes = std::stoll(parts.at(1));
            t.is_model_output = parts.size() > 2 && parts[2] == "output";
          }
        } else if (word == "params") {
          node.param_bytes = std::stoll(value);
        } else {
          return InvalidArgument(where + ": unknown node field '" + word + "'");
        }
      }
      r.graph.nodes.push_back(node);
    } else if (kind == "tier") {
      TierModel tier;
      words >> tier.name;
      std::map<std::string, double> times;
      while (words >> word) {
        if (word == "times") {
          while (words >> word) {
            auto kv = Split(word, '=');
            times[kv.at(0)] = std::stod(kv.at(1));
          }
          break;
        }
        std::string value;
        words >> value;
        if (word == "overhead") {
          tier.overhead_ms = std::stod(value);
        } else if (word == "memory") {
          tier.memory_limit_bytes = std::stod(value);
        } else if (word == "boundary") {
          tier.boundary_ms_per_byte = std::stod(value);
        } else if (word == "power") {
          auto p = Split(value, ',');
          tier.power_compute_w = std::stod(p.at(0));
          tier.power_transmit_w = std::stod(p.at(1));
          tier.power_idle_w = std::stod(p.at(2));
        } else if (word == "price") {
          auto p = Split(value, ',');
          tier.price_per_compute_second = std::stod(p.at(0));
          tier.price_per_gb_egress = std::stod(p.at(1));
        } else {
          return InvalidArgument(where + ": unknown tier field '" + word + "'");
        }
      }
      r.tiers.push_back(tier);
      tier_times.emplace_back(tier.name, times);
    } else if (kind == "link") {
      std::string name, spec;
      words >> name >> spec;
      SEAM_ASSIGN_OR_RETURN(Link link, ParseLink(spec));
      r.links.push_back(link);
    } else if (kind == "objective") {
      words >> word;
      SEAM_ASSIGN_OR_RETURN(r.objective, ParseObjective(word));
    } else if (kind == "slo") {
      words >> r.slo_ms;
    } else if (kind == "keep-input-on-device") {
      r.keep_input_on_device = true;
    } else if (kind == "expect") {
      words >> word;
      if (word == "placement") {
        while (words >> word) {
          auto kv = Split(word, '=');
          f.expected_placement[kv.at(0)] = kv.at(1);
        }
      } else if (word == "latency") {
        words >> f.expected_latency_ms;
      } else if (word == "objective") {
        words >> f.expected_objective;
      } else if (word == "error") {
        std::getline(words, f.expected_error);
        f.expected_error.erase(0, f.expected_error.find_first_not_of(' '));
      }
    } else {
      return InvalidArgument(where + ": unknown line '" + kind + "'");
    }
  }
  for (size_t j = 0; j < r.tiers.size(); ++j) {
    for (const auto& node : r.graph.nodes) {
      auto it = tier_times[j].second.find(node.name);
      if (it == tier_times[j].second.end()) {
        return InvalidArgument("tier " + r.tiers[j].name + " has no time for node " + node.name);
      }
      r.tiers[j].node_ms.push_back(it->second);
    }
  }
  return f;
}

}  // namespace seam::plan
