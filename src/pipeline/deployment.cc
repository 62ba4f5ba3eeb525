#include "pipeline/deployment.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/partition.h"
#include "graph/segment_builder.h"
#include "graph/shape_inference.h"
#include "oip/hop_client.h"
#include "plan/plan_set_file.h"
#include "repository/layout.h"
#include "repository/model_config.h"

namespace seam::pipeline {
namespace {

// How this process dials `tier` for its control calls.
oip::HopSecurity ControlSecurity(const DeployOptions& options, const std::string& tier) {
  if (auto it = options.control_security.find(tier); it != options.control_security.end()) {
    return it->second;
  }
  if (auto it = options.security.find(tier); it != options.security.end()) return it->second;
  return {};
}

std::string JoinTiers(const std::vector<std::string>& tiers) {
  std::string out;
  for (const auto& tier : tiers) {
    if (!out.empty()) out += ", ";
    out += tier;
  }
  return out;
}

namespace fs = std::filesystem;

// Writes `bytes` to `path`, or hard-links an identical file already deployed (`stored`: sha256 ->
// path), so that segments shared by the plans of a set are stored once per disk.
Status WriteSegmentFile(const fs::path& path, const std::string& bytes, const std::string& sha256,
                        const std::map<std::string, std::string>* stored) {
  if (stored) {
    if (auto it = stored->find(sha256); it != stored->end()) {
      std::error_code ec;
      fs::remove(path, ec);
      fs::create_hard_link(it->second, path, ec);
      if (!ec) return Status::Ok();  // else (another file system, say): a copy
    }
  }
  return WriteFileAtomic(path.string(), bytes);
}

// Writes DIR/stage.json and DIR/model.onnx (if any) and fallback.onnx; returns stage.json's sha256.
// With `seal_key`, the segment files are sealed with it and their recorded sha256 is that of the
// sealed bytes (what is on disk). `place` ("MODEL/VERSION" for a server's stage, "" for the
// device's) is signed with the stage.
Result<std::string> WriteStage(const fs::path& dir, TierStage& stage,
                               const std::map<std::string, std::string>* stored,
                               const StageSigner* signer, const ModelKey* seal_key,
                               const std::string& place) {
  auto seal = [&](std::string& bytes) -> Status {
    if (!seal_key) return Status::Ok();
    SEAM_ASSIGN_OR_RETURN(std::string sealed, Seal(bytes, *seal_key));
    Wipe(bytes);
    bytes = std::move(sealed);
    return Status::Ok();
  };
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create '" + dir.string() + "': " + ec.message());
  if (stage.segment) {
    std::string bytes;
    if (!stage.segment->SerializeToString(&bytes)) {
      return FailedPrecondition("the " + stage.spec.tier +
                                " segment is over protobuf's 2 GiB limit");
    }
    SEAM_RETURN_IF_ERROR(seal(bytes));
    stage.spec.segment_file = kSegmentFile;
    stage.spec.segment_sha256 = Sha256Hex(bytes);
    SEAM_RETURN_IF_ERROR(
        WriteSegmentFile(dir / kSegmentFile, bytes, stage.spec.segment_sha256, stored));
  }
  if (stage.fallback) {
    std::string bytes;
    if (!stage.fallback->SerializeToString(&bytes)) {
      return FailedPrecondition("the device's fallback segment is over protobuf's 2 GiB limit");
    }
    SEAM_RETURN_IF_ERROR(seal(bytes));
    stage.spec.fallback->file = kFallbackFile;
    stage.spec.fallback->sha256 = Sha256Hex(bytes);
    SEAM_RETURN_IF_ERROR(
        WriteSegmentFile(dir / kFallbackFile, bytes, stage.spec.fallback->sha256, stored));
  }
  const std::string text = StageToJson(stage.spec).dump(2) + "\n";
  if (signer) {
    SEAM_ASSIGN_OR_RETURN(std::string signature, signer->Sign(text, place));
    SEAM_RETURN_IF_ERROR(WriteFileAtomic((dir / kSignatureFile).string(), signature));
  } else {
    std::error_code ignored;
    fs::remove(dir / kSignatureFile, ignored);  // a stale one would not match
  }
  SEAM_RETURN_IF_ERROR(WriteFileAtomic((dir / kStageFile).string(), text));
  return Sha256Hex(text);
}

const ModelKey* SealKey(const DeployOptions& options, const std::string& tier) {
  auto it = options.encrypt.find(tier);
  return it == options.encrypt.end() ? nullptr : &it->second;
}

// Remembers the segments now at `dir` for the next stages of a set.
void RememberSegments(const fs::path& dir, const TierStage& stage,
                      std::map<std::string, std::string>* stored) {
  if (!stored) return;
  if (stage.segment) (*stored)[stage.spec.segment_sha256] = (dir / kSegmentFile).string();
  if (stage.fallback) (*stored)[stage.spec.fallback->sha256] = (dir / kFallbackFile).string();
}

// config.json for a stage model: the three newest versions served, each hash-checked. Three, not
// two: a device may still send on the previous plan while the tier above it already runs the
// next one, and a request in flight on the edge's previous stage still finds the cloud's.
// `versions` are the existing ones to keep listed, besides the new one.
Status WriteStageConfig(const fs::path& model_dir, const std::vector<int64_t>& versions,
                        int64_t new_version, const std::string& new_sha256) {
  repository::ModelConfig config = repository::DefaultModelConfig(model_dir.filename().string());
  config.platform = repository::kStagePlatform;
  config.version_policy.kind = repository::VersionPolicy::Kind::kLatest;
  config.version_policy.latest = 3;
  for (int64_t v : versions) {
    auto text = ReadFile((model_dir / std::to_string(v) / kStageFile).string());
    if (text.ok()) config.version_sha256[v] = Sha256Hex(*text);
  }
  config.version_sha256[new_version] = new_sha256;
  return WriteFileAtomic((model_dir / repository::kConfigFile).string(),
                         repository::ModelConfigToJson(config));
}

}  // namespace

Result<std::vector<TierStage>> PlanStages(const graph::LoadedModel& model,
                                          const plan::ExecutablePlan& plan, bool optimize) {
  if (model.sha256 != plan.model_sha256) {
    return InvalidArgument(plan.path + " is a plan for another model (sha256 " +
                           plan.model_sha256.substr(0, 12) + "…), not for " + model.path +
                           " (sha256 " + model.sha256.substr(0, 12) + "…)");
  }
  SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(model.proto));
  SEAM_ASSIGN_OR_RETURN(graph::TypeTable types, graph::InferSymbolicTypes(model.proto));

  // Tier of every compute node.
  std::vector<int> tier_of_node(view.nodes().size(), -1);
  int last = 0;
  for (graph::NodeId n : view.order()) {
    auto it = plan.tier_of_node.find(view.node(n).name);
    if (it == plan.tier_of_node.end()) {
      return InvalidArgument(plan.path + " does not place node '" + view.node(n).name + "' of " +
                             model.path + " (a plan for another version of the model?)");
    }
    tier_of_node[n] = it->second;
    last = std::max(last, it->second);
  }
  if (plan.tier_of_node.size() != view.order().size()) {
    return InvalidArgument(plan.path + " places " + std::to_string(plan.tier_of_node.size()) +
                           " nodes, " + model.path + " has " + std::to_string(view.order().size()));
  }
  const int num_tiers = last + 1;

  // Segments of the tiers that run nodes, numbered densely.
  std::vector<int> segment_of_tier(num_tiers, -1);
  int num_segments = 0;
  for (graph::NodeId n : view.order()) segment_of_tier[tier_of_node[n]] = 0;
  for (int t = 0; t < num_tiers; ++t) {
    if (segment_of_tier[t] == 0) segment_of_tier[t] = num_segments++;
  }
  std::vector<int> segment_of_node(view.nodes().size(), -1);
  for (graph::NodeId n : view.order()) segment_of_node[n] = segment_of_tier[tier_of_node[n]];
  SEAM_ASSIGN_OR_RETURN(graph::Partition partition,
                        graph::PartitionFromAssignment(view, segment_of_node, num_segments));
  SEAM_ASSIGN_OR_RETURN(auto segments, graph::BuildSegments(model, view, partition, types));

  std::vector<TierStage> stages(num_tiers);
  if (num_tiers > 1 && plan.device_fallback) {
    // The device's fallback: every node above it, as one segment (its own nodes, if any, are the
    // other side of this two-way partition). Not when the plan says the device cannot hold it.
    bool device_runs = false;
    for (graph::NodeId n : view.order()) device_runs |= tier_of_node[n] == 0;
    const int rest = device_runs ? 1 : 0;
    std::vector<int> side(view.nodes().size(), -1);
    for (graph::NodeId n : view.order()) side[n] = tier_of_node[n] == 0 ? 0 : rest;
    SEAM_ASSIGN_OR_RETURN(graph::Partition split,
                          graph::PartitionFromAssignment(view, side, rest + 1));
    SEAM_ASSIGN_OR_RETURN(auto halves, graph::BuildSegments(model, view, split, types));
    stages[0].fallback = std::move(halves[rest].model);
    stages[0].spec.fallback =
        FallbackSegment{.nodes = static_cast<int>(split.segment_nodes[rest].size())};
  }
  for (int t = 0; t < num_tiers; ++t) {
    StageSpec& s = stages[t].spec;
    s.plan_id = plan.id;
    s.model_sha256 = model.sha256;
    s.tier = plan.tiers[t];
    s.tier_index = t;
    s.optimize = optimize;
    if (segment_of_tier[t] >= 0) {
      stages[t].segment = std::move(segments[segment_of_tier[t]].model);
      s.segment_nodes = static_cast<int>(partition.segment_nodes[segment_of_tier[t]].size());
    }
    if (t + 1 < num_tiers) {
      s.next = NextHop{.tier = plan.tiers[t + 1]};
    }
  }

  // Every non-constant tensor: where it is made, how far up it is read, whether it returns.
  for (graph::TensorId id = 0; id < static_cast<graph::TensorId>(view.tensors().size()); ++id) {
    const graph::TensorInfo& info = view.tensor(id);
    if (info.is_constant || (!info.is_model_input && info.producer < 0)) continue;
    auto type = types.find(info.name);
    if (type == types.end() || !type->second.has_shape || type->second.elem_type == 0) {
      return Unimplemented("tensor '" + info.name + "' of " + model.path +
                           " has no inferred type; seam cannot carry it between tiers");
    }
    auto dtype = DTypeFromOnnx(type->second.elem_type);
    if (!dtype.ok()) return dtype.status().WithContext("tensor '" + info.name + "'");
    auto make = [&](const std::string& codec) {
      return StageTensor{info.name, *dtype, type->second.dims, codec};
    };
    const int made = info.producer < 0 ? 0 : tier_of_node[info.producer];
    int highest = made;
    for (graph::NodeId c : info.consumers) {
      if (tier_of_node[c] >= 0) highest = std::max(highest, tier_of_node[c]);
    }
    if (info.is_model_input) stages[0].spec.inputs.push_back(make("identity"));
    for (int k = made; k < highest; ++k) {
      const std::string codec = plan.CodecFor(info.name, k, /*up=*/true);
      stages[k].spec.next->send.push_back(make(codec));
      stages[k + 1].spec.inputs.push_back(make(codec));
    }
    if (info.is_model_output) {
      for (int k = 0; k < made; ++k) {
        const std::string codec = plan.CodecFor(info.name, k, /*up=*/false);
        stages[k].spec.next->receive.push_back(make(codec));
        stages[k + 1].spec.outputs.push_back(make(codec));
      }
    }
  }
  // The device returns the model's outputs, in the model's order, to the application.
  for (graph::TensorId id : view.model_outputs()) {
    const auto& type = types.at(view.tensor(id).name);
    SEAM_ASSIGN_OR_RETURN(DType dtype, DTypeFromOnnx(type.elem_type));
    stages[0].spec.outputs.push_back({view.tensor(id).name, dtype, type.dims, "identity"});
  }
  return stages;
}

Result<std::vector<DeployedTier>> Deploy(const graph::LoadedModel& model,
                                         plan::ExecutablePlan& plan, const DeployOptions& options) {
  // Names become directory names: no separators, no "..".
  const std::regex safe("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  if (!std::regex_match(options.name, safe)) {
    return InvalidArgument("name '" + options.name +
                           "': use letters, digits, '_', '.' and '-' (it names directories)");
  }
  for (const auto& tier : plan.tiers) {
    if (!std::regex_match(tier, safe) || tier.find("..") != std::string::npos) {
      return InvalidArgument(plan.path + ": tier name '" + tier +
                             "': use letters, digits, '_', '.' and '-'");
    }
  }
  for (const auto* map : {&options.security, &options.control_security}) {
    for (const auto& [tier, security] : *map) {
      const auto found = std::find(plan.tiers.begin() + 1, plan.tiers.end(), tier);
      if (found == plan.tiers.end()) {
        return InvalidArgument("credentials for '" + tier + "': " + plan.path +
                               " has no such server tier (its tiers: " + JoinTiers(plan.tiers) +
                               "; the device is never dialled)");
      }
      SEAM_RETURN_IF_ERROR(oip::Validate(security, "the hop to " + tier));
    }
  }
  for (const auto& [tier, security] : options.security) {
    SEAM_RETURN_IF_ERROR(oip::RequireAbsoluteFiles(security, "the hop to " + tier));
  }
  for (const auto& [tier, key] : options.encrypt) {
    if (std::find(plan.tiers.begin(), plan.tiers.end(), tier) == plan.tiers.end()) {
      return InvalidArgument("the key to encrypt '" + tier + "' with: " + plan.path +
                             " has no such tier (its tiers: " + JoinTiers(plan.tiers) + ")");
    }
  }
  // This process's own credentials are read before anything is written: a deployment does not
  // stop half-way for a missing file.
  for (const auto& [tier, address] : options.control) {
    SEAM_RETURN_IF_ERROR(
        oip::LoadHopCredentials(ControlSecurity(options, tier), "the hop to " + tier).status());
  }
  SEAM_ASSIGN_OR_RETURN(std::vector<TierStage> stages, PlanStages(model, plan, options.optimize));
  const int num_tiers = static_cast<int>(stages.size());
  for (int t = 1; t < num_tiers; ++t) {
    const std::string& tier = plan.tiers[t];
    if (!options.repositories.contains(tier)) {
      return InvalidArgument("the plan runs a stage on '" + tier +
                             "': give its model repository (--repository " + tier + "=DIR)");
    }
    if (!options.addresses.contains(tier)) {
      return InvalidArgument("the plan sends requests to '" + tier +
                             "': give its address as the tier below reaches it (--address " + tier +
                             "=HOST:PORT)");
    }
  }
  std::vector<DeployedTier> deployed(num_tiers);
  // From the top down: each tier's next hop is deployed (and, with control, ready) before it.
  for (int t = num_tiers - 1; t >= 0; --t) {
    TierStage& stage = stages[t];
    stage.spec.intra_op_threads = options.intra_op_threads;
    if (stage.spec.next) {
      const DeployedTier& above = deployed[t + 1];
      stage.spec.next->address = above.address;
      stage.spec.next->model = above.model;
      stage.spec.next->version = above.version;
      if (auto it = options.security.find(above.tier); it != options.security.end()) {
        stage.spec.next->security = it->second;
      }
    }
    DeployedTier& out = deployed[t];
    out.tier = plan.tiers[t];
    if (t == 0) {
      const fs::path dir = fs::absolute(fs::path(options.device_directory) / plan.id);
      SEAM_RETURN_IF_ERROR(WriteStage(dir, stage, options.stored_segments, options.signer.get(),
                                      SealKey(options, out.tier), /*place=*/"")
                               .status());
      RememberSegments(dir, stage, options.stored_segments);
      out.directory = dir.string();
      continue;
    }
    const fs::path model_dir =
        fs::path(options.repositories.at(out.tier)) / (options.name + "-" + out.tier);
    std::error_code ec;
    fs::create_directories(model_dir, ec);
    if (ec) return Unavailable("cannot create '" + model_dir.string() + "': " + ec.message());
    out.model = model_dir.filename().string();
    // Concurrent deploys of the same model take turns: the version number is chosen, written and
    // renamed into place under one lock.
    const int lock_fd =
        ::open((model_dir / ".deploy.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
      if (lock_fd >= 0) ::close(lock_fd);
      return Unavailable("cannot lock '" + model_dir.string() + "/.deploy.lock'");
    }
    struct Unlock {
      int fd;
      ~Unlock() { ::close(fd); }
    } unlock{lock_fd};
    std::vector<int64_t> versions = repository::ListVersions(model_dir.string());
    out.version = versions.empty() ? 1 : versions.back() + 1;
    out.address = options.addresses.at(out.tier);
    // Written aside, then renamed into place: a polling server never sees half a version.
    const fs::path staging =
        model_dir / (".deploy-" + std::to_string(out.version) + "-" + std::to_string(::getpid()));
    fs::remove_all(staging, ec);
    SEAM_ASSIGN_OR_RETURN(
        std::string sha256,
        WriteStage(staging, stage, options.stored_segments, options.signer.get(),
                   SealKey(options, out.tier), out.model + "/" + std::to_string(out.version)));
    // Versions that are no longer served (the config serves the three newest) are removed; one
    // more is kept, so a version being unloaded right now still has its files.
    std::erase_if(versions, [&](int64_t v) {
      if (v > out.version - 4) return false;
      fs::remove_all(model_dir / std::to_string(v), ec);
      return true;
    });
    SEAM_RETURN_IF_ERROR(WriteStageConfig(model_dir, versions, out.version, sha256));
    const fs::path final_dir = model_dir / std::to_string(out.version);
    fs::rename(staging, final_dir, ec);
    if (ec)
      return Unavailable("cannot move the stage into '" + final_dir.string() +
                         "': " + ec.message());
    out.directory = final_dir.string();
    RememberSegments(final_dir, stage, options.stored_segments);
    if (auto control = options.control.find(out.tier); control != options.control.end()) {
      oip::HopOptions hop;
      hop.security = ControlSecurity(options, out.tier);
      SEAM_ASSIGN_OR_RETURN(auto client, oip::HopClient::Open(out.tier, control->second, hop));
      // The load reports every served version's failure, an older refused one's too; what
      // matters here is that this version serves. The load is done when it answers, so a
      // short wait says whether it does.
      if (Status load = client->RequestLoad(out.model, options.ready_timeout_ms); !load.ok()) {
        if (!client->WaitReady(out.model, out.version, std::min(options.ready_timeout_ms, 1000.0))
                 .ok()) {
          return load;
        }
      } else {
        SEAM_RETURN_IF_ERROR(client->WaitReady(out.model, out.version, options.ready_timeout_ms));
      }
    }
  }

  plan::Deployment record{.name = options.name,
                          .device_stage = deployed[0].directory + "/" + kStageFile};
  for (const auto& d : deployed) {
    record.tiers.push_back({d.tier, d.directory, d.model, d.version, d.address});
  }
  SEAM_RETURN_IF_ERROR(plan::RecordDeployment(plan, record));
  return deployed;
}

Result<std::vector<std::vector<DeployedTier>>> DeploySet(const graph::LoadedModel& model,
                                                         const std::string& set_path,
                                                         const DeployOptions& options) {
  SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlanSet set, plan::ReadPlanSet(set_path));
  if (set.model_sha256 != model.sha256) {
    return InvalidArgument(set_path + " is a plan for another model than " + model.path +
                           " (sha256 differs); plan it again or give --model");
  }
  std::map<std::string, std::string> stored;
  std::vector<std::vector<DeployedTier>> out;
  for (size_t i = 0; i < set.members.size(); ++i) {
    SEAM_ASSIGN_OR_RETURN(plan::ExecutablePlan plan,
                          plan::ReadExecutablePlan(set.members[i].plan_path));
    DeployOptions member = options;
    if (set.is_set) {
      member.name += "-m";
      member.name += std::to_string(i);
    }
    if (!member.stored_segments) member.stored_segments = &stored;
    auto deployed = Deploy(model, plan, member);
    if (!deployed.ok()) return deployed.status().WithContext(set.members[i].plan_path);
    out.push_back(std::move(deployed).value());
  }
  return out;
}

}  // namespace seam::pipeline
