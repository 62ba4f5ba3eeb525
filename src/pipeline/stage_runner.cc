#include "pipeline/stage_runner.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/file_util.h"

namespace seam::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Whether `shape` fits `declared` (-1 matches any size).
bool ShapeFits(const std::vector<int64_t>& declared, const std::vector<int64_t>& shape) {
  if (declared.size() != shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (declared[i] >= 0 && declared[i] != shape[i]) return false;
  }
  return true;
}

const StageTensor* Find(const std::vector<StageTensor>& tensors, const std::string& name) {
  auto it = std::find_if(tensors.begin(), tensors.end(),
                         [&](const StageTensor& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

}  // namespace

Result<std::unique_ptr<runtime::Session>> OpenSegment(const std::string& directory,
                                                      const std::string& file,
                                                      const std::string& sha256,
                                                      const StageSpec& spec,
                                                      const ModelKeys* keys) {
  const std::string path = directory + "/" + file;
  static const ModelKeys kNoKeys;
  SEAM_ASSIGN_OR_RETURN(std::string bytes,
                        ReadModelBytes(path, sha256, "its stage", keys ? *keys : kNoKeys));
  runtime::SessionOptions session_options;
  session_options.optimize = spec.optimize;
  session_options.intra_op_threads = spec.intra_op_threads;
  auto session = runtime::Session::OpenBytes(bytes, path, session_options, directory);
  Wipe(bytes);
  return session;
}

double ComputeStretch::Apply(double ms) {
  if (!(factor_ > 1) || !(ms > 0)) return ms;
  double fastest = fastest_ms_.load(std::memory_order_relaxed);
  while ((fastest == 0 || ms < fastest) &&
         !fastest_ms_.compare_exchange_weak(fastest, ms, std::memory_order_relaxed)) {
  }
  fastest = fastest == 0 ? ms : std::min(fastest, ms);
  const double target = factor_ * fastest;
  if (target > ms) {
    std::this_thread::sleep_for(
        std::chrono::microseconds(static_cast<int64_t>((target - ms) * 1e3)));
  }
  return std::max(target, ms);
}

Result<std::unique_ptr<StageRunner>> StageRunner::Open(const StageSpec& spec,
                                                       const std::string& directory,
                                                       const StageOptions& options) {
  std::unique_ptr<StageRunner> runner(new StageRunner());
  runner->spec_ = spec;
  runner->pass_through_ = options.pass_through;
  if (!(options.compute_stretch >= 1)) {
    return InvalidArgument("the compute stretch (device slowdown) must be >= 1, got " +
                           std::to_string(options.compute_stretch));
  }
  runner->stretch_ = std::make_unique<ComputeStretch>(options.compute_stretch);
  if (!spec.segment_file.empty()) {
    SEAM_ASSIGN_OR_RETURN(runner->session_,
                          OpenSegment(directory, spec.segment_file, spec.segment_sha256, spec,
                                      options.model_keys.get()));
  }
  if (spec.next) {
    // The stage's own security for its next hop, with what the caller names instead (the
    // device's client may name other files than the deployment recorded).
    oip::HopOptions hop = options.hop;
    hop.security = oip::Overlay(spec.next->security, options.hop.security);
    SEAM_ASSIGN_OR_RETURN(runner->hop_,
                          oip::HopClient::Open(spec.next->tier, spec.next->address, hop));
  }
  return runner;
}

bool StageRunner::KeepsCodedInput(const std::string& name, const std::string& codec) const {
  if (!pass_through_ || !spec_.next || Find(spec_.outputs, name)) return false;
  if (session_) {
    for (const auto& input : session_->inputs()) {
      if (input.name == name) return false;
    }
  }
  const StageTensor* up = Find(spec_.next->send, name);
  return up && up->codec == codec;
}

Status StageRunner::CallNext(const TensorMap& inputs, TensorMap& made, CodedTensors* coded,
                             const oip::Deadline& deadline, const std::atomic<bool>* cancelled,
                             TierTrace& mine, LinkTrace& link, RequestTrace& above) const {
  const NextHop& next = *spec_.next;
  inference::ModelInferRequest request;
  request.set_model_name(next.model);
  request.set_model_version(std::to_string(next.version));
  (*request.mutable_parameters())[kPlanParameter].set_string_param(spec_.plan_id);
  const auto encode_start = Clock::now();
  for (const StageTensor& t : next.send) {
    if (coded) {
      if (auto kept = coded->inputs.find(t.name); kept != coded->inputs.end()) {
        // Arrived in the codec it leaves in (KeepsCodedInput): its bytes go up untouched.
        link.up_bytes += oip::AddCodedInput(t.name, std::move(kept->second), &request);
        continue;
      }
    }
    const Tensor* tensor = nullptr;
    if (auto it = made.find(t.name); it != made.end()) tensor = &it->second;
    if (auto it = inputs.find(t.name); !tensor && it != inputs.end()) tensor = &it->second;
    if (!tensor) {
      return Internal(spec_.tier + ": tensor '" + t.name + "' to send to " + next.tier +
                      " was neither received nor computed here");
    }
    auto bytes = oip::AddInput(t.name, *tensor, t.codec, &request);
    if (!bytes.ok()) return bytes.status().WithContext(spec_.tier);
    link.up_bytes += *bytes;
  }
  for (const StageTensor& t : next.receive) oip::AddRequestedOutput(t.name, t.codec, &request);
  mine.encode_ms += MsSince(encode_start);

  const auto call_start = Clock::now();
  int attempts = 1;
  auto response = hop_->Infer(std::move(request), deadline, cancelled, &attempts);
  const double call_ms = MsSince(call_start);
  link.retries = attempts - 1;
  if (!response.ok()) return response.status();

  const auto decode_start = Clock::now();
  // An output from above stays coded when the tier below wants it in the codec it came in.
  oip::KeepCoded keep;
  if (coded && pass_through_) {
    keep = [&](const std::string& name, const std::string& codec) {
      auto wanted = coded->output_codecs.find(name);
      return wanted != coded->output_codecs.end() && wanted->second == codec &&
             Find(spec_.outputs, name) != nullptr && !made.contains(name);
    };
  }
  SEAM_ASSIGN_OR_RETURN(oip::DecodedResponse answer,
                        oip::DecodeInferResponse(*response, next.tier, keep));
  link.down_bytes += answer.payload_bytes;
  for (auto& [name, tensor] : answer.outputs) made.insert_or_assign(name, std::move(tensor));
  if (coded) {
    for (auto& [name, tensor] : answer.coded)
      coded->outputs.insert_or_assign(name, std::move(tensor));
  }
  mine.decode_ms += MsSince(decode_start);

  if (auto p = response->parameters().find(kTraceParameter); p != response->parameters().end()) {
    SEAM_ASSIGN_OR_RETURN(above, TraceFromJson(p->second.string_param()));
  }
  link.from = spec_.tier;
  link.to = next.tier;
  link.ms = call_ms - above.TotalMs();
  return Status::Ok();
}

Result<TensorMap> StageRunner::Run(const TensorMap& inputs, RequestTrace* trace,
                                   const RunContext& context) const {
  const auto start = Clock::now();
  CodedTensors* coded = context.coded;
  TierTrace mine{.tier = spec_.tier, .decode_ms = context.decode_ms};
  if (oip::MsLeft(context.deadline, start) <= 0) {
    return DeadlineExceeded(spec_.tier + ": the request's deadline passed before its stage ran");
  }
  if (context.cancelled && context.cancelled->load(std::memory_order_relaxed)) {
    return Cancelled(spec_.tier + ": the caller cancelled the request before its stage ran");
  }
  // Tensors made on this tier or received from above; `inputs` are read in place, never copied
  // (a tensor is copied only when it passes straight through to the tier below).
  TensorMap made;
  if (session_) {
    // The segment reads only tensors that arrived from below (stage_spec.h).
    const auto compute_start = Clock::now();
    auto outputs = session_->Run(inputs);
    if (!outputs.ok()) return outputs.status().WithContext(spec_.tier + " segment");
    mine.compute_ms = stretch_->Apply(MsSince(compute_start));
    made = std::move(outputs).value();
  }

  RequestTrace above;
  LinkTrace link;
  if (spec_.next) {
    Status called =
        CallNext(inputs, made, coded, context.deadline, context.cancelled, mine, link, above);
    if (!called.ok()) {
      if (context.next_failed) *context.next_failed = true;
      if (context.computed) *context.computed = std::move(made);
      return called;
    }
  }

  TensorMap outputs;
  for (const StageTensor& t : spec_.outputs) {
    if (coded && coded->outputs.contains(t.name)) continue;  // passed down as it came
    const Tensor* tensor = nullptr;
    if (auto it = made.find(t.name); it != made.end()) tensor = &it->second;
    if (auto it = inputs.find(t.name); !tensor && it != inputs.end()) tensor = &it->second;
    if (!tensor) return Internal(spec_.tier + ": output '" + t.name + "' was not produced");
    if (tensor->dtype != t.dtype || !ShapeFits(t.shape, tensor->shape)) {
      return Internal(spec_.tier + ": output '" + t.name + "' does not match its stage spec");
    }
    auto it = made.find(t.name);
    outputs.emplace(t.name, it != made.end() ? std::move(it->second) : *tensor);
  }
  mine.total_ms = MsSince(start);
  if (trace) {
    trace->tiers.push_back(mine);
    if (spec_.next) {
      trace->links.push_back(link);
      for (auto& t : above.tiers) trace->tiers.push_back(std::move(t));
      for (auto& l : above.links) trace->links.push_back(std::move(l));
    }
  }
  return outputs;
}

}  // namespace seam::pipeline
