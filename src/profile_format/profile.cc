#include "profile_format/profile.h"

#include "common/file_util.h"

namespace seam::profile {
namespace {

nlohmann::json TimingJson(const Timing& t) {
  return {{"median_ms", t.median_ms}, {"p90_ms", t.p90_ms}};
}

Timing TimingFrom(const nlohmann::json& j) {
  return {j.at("median_ms").get<double>(), j.at("p90_ms").get<double>()};
}

}  // namespace

nlohmann::json ProfileToJson(const Profile& p) {
  nlohmann::json nodes = nlohmann::json::array(), segments = nlohmann::json::array(),
                 codecs = nlohmann::json::array();
  for (const auto& n : p.nodes) {
    nodes.push_back({{"name", n.name}, {"op_type", n.op_type}, {"time", TimingJson(n.time)}});
  }
  for (const auto& s : p.segments) {
    nlohmann::json segment = {{"first", s.first}, {"last", s.last}, {"time", TimingJson(s.time)}};
    if (s.boundary_bytes) segment["boundary_bytes"] = *s.boundary_bytes;
    if (!s.kind.empty()) segment["kind"] = s.kind;
    segments.push_back(std::move(segment));
  }
  for (const auto& c : p.codecs) {
    codecs.push_back({{"codec", c.codec},
                      {"encode_gbps", c.encode_gbps},
                      {"decode_gbps", c.decode_gbps},
                      {"ratio", c.ratio}});
  }
  return {{"schema", Profile::kSchema},
          {"tier", p.tier},
          {"model", {{"path", p.model_path}, {"sha256", p.model_sha256}, {"nodes", p.model_nodes}}},
          {"host",
           {{"cpu", p.cpu}, {"logical_cores", p.logical_cores}, {"memory_bytes", p.memory_bytes}}},
          {"settings",
           {{"threads", p.threads},
            {"cpu_quota", p.cpu_quota},
            {"quota_applied", p.quota_applied},
            {"quota_mechanism", p.quota_mechanism},
            {"quota_note", p.quota_note},
            {"runs", p.runs},
            {"warmup", p.warmup},
            {"seed", p.seed},
            {"min_batch_ms", p.min_batch_ms},
            {"runtime", p.runtime}}},
          {"profile_seconds", p.profile_seconds},
          {"per_run_overhead", TimingJson(p.per_run_overhead)},
          {"whole_model", TimingJson(p.whole_model)},
          {"nodes", nodes},
          {"segments", segments},
          {"codecs", codecs},
          {"power_w",
           {{"compute", p.power_compute_w},
            {"transmit", p.power_transmit_w},
            {"idle", p.power_idle_w}}},
          {"price",
           {{"per_compute_second", p.price_per_compute_second},
            {"per_gb_egress", p.price_per_gb_egress}}}};
}

Result<Profile> ProfileFromJson(const nlohmann::json& j, const std::string& where) {
  try {
    if (!j.is_object() || j.value("schema", "") != Profile::kSchema) {
      return InvalidArgument(where + ": not a seam profile (schema is not '" +
                             std::string(Profile::kSchema) + "')");
    }
    Profile p;
    p.tier = j.at("tier").get<std::string>();
    const auto& model = j.at("model");
    p.model_path = model.at("path").get<std::string>();
    p.model_sha256 = model.at("sha256").get<std::string>();
    p.model_nodes = model.at("nodes").get<int>();
    const auto& host = j.at("host");
    p.cpu = host.value("cpu", "");
    p.logical_cores = host.value("logical_cores", 0);
    p.memory_bytes = host.value("memory_bytes", int64_t{0});
    const auto& s = j.at("settings");
    p.threads = s.value("threads", 1);
    p.cpu_quota = s.value("cpu_quota", 0.0);
    p.quota_applied = s.value("quota_applied", false);
    p.quota_mechanism = s.value("quota_mechanism", "none");
    p.quota_note = s.value("quota_note", "");
    p.runs = s.value("runs", 0);
    p.warmup = s.value("warmup", 0);
    p.seed = s.value("seed", uint64_t{1});
    p.min_batch_ms = s.value("min_batch_ms", 0.0);
    p.runtime = s.value("runtime", "");
    p.profile_seconds = j.value("profile_seconds", 0.0);
    p.per_run_overhead = TimingFrom(j.at("per_run_overhead"));
    p.whole_model = TimingFrom(j.at("whole_model"));
    for (const auto& n : j.at("nodes")) {
      p.nodes.push_back({n.at("name"), n.value("op_type", ""), TimingFrom(n.at("time"))});
    }
    for (const auto& seg : j.value("segments", nlohmann::json::array())) {
      SegmentTiming s{seg.at("first"), seg.at("last"), TimingFrom(seg.at("time"))};
      if (seg.contains("boundary_bytes")) s.boundary_bytes = seg.at("boundary_bytes").get<int64_t>();
      s.kind = seg.value("kind", "");
      p.segments.push_back(std::move(s));
    }
    for (const auto& c : j.value("codecs", nlohmann::json::array())) {
      p.codecs.push_back(
          {c.at("codec"), c.at("encode_gbps"), c.at("decode_gbps"), c.value("ratio", 1.0)});
    }
    if (j.contains("power_w")) {
      const auto& w = j.at("power_w");
      p.power_compute_w = w.value("compute", 0.0);
      p.power_transmit_w = w.value("transmit", 0.0);
      p.power_idle_w = w.value("idle", 0.0);
    }
    if (j.contains("price")) {
      p.price_per_compute_second = j.at("price").value("per_compute_second", 0.0);
      p.price_per_gb_egress = j.at("price").value("per_gb_egress", 0.0);
    }
    auto negative = [](const Timing& t) { return t.median_ms < 0 || t.p90_ms < 0; };
    if (negative(p.per_run_overhead) || negative(p.whole_model)) {
      return InvalidArgument(where + ": negative times");
    }
    for (const auto& n : p.nodes) {
      if (negative(n.time)) {
        return InvalidArgument(where + ": node '" + n.name + "' has a negative time");
      }
    }
    const int num_nodes = static_cast<int>(p.nodes.size());
    if (!p.nodes.empty() && p.model_nodes != num_nodes) {
      return InvalidArgument(where + ": model.nodes is " + std::to_string(p.model_nodes) +
                             " but the profile lists " + std::to_string(num_nodes) + " nodes");
    }
    for (const auto& seg : p.segments) {
      const std::string name =
          "segment [" + std::to_string(seg.first) + "," + std::to_string(seg.last) + "]";
      if (seg.first < 0 || seg.first > seg.last || seg.last >= p.model_nodes) {
        return InvalidArgument(where + ": " + name + " is not a range of the model's " +
                               std::to_string(p.model_nodes) + " compute nodes");
      }
      if (negative(seg.time)) return InvalidArgument(where + ": " + name + " has a negative time");
      if (seg.boundary_bytes && *seg.boundary_bytes < 0) {
        return InvalidArgument(where + ": " + name + " has negative boundary_bytes");
      }
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(where + ": malformed profile: " + e.what());
  }
}

Result<Profile> ReadProfile(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgument(path + ": not valid JSON");
  return ProfileFromJson(json, path);
}

Status WriteProfile(const Profile& profile, const std::string& path) {
  return WriteFileAtomic(path, ProfileToJson(profile).dump(2) + "\n");
}

}  // namespace seam::profile
