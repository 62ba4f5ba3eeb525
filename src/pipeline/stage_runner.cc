#include "pipeline/stage_runner.h"

#include <chrono>

#include "common/file_util.h"
#include "transport/payload.h"

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

}  // namespace

Result<std::unique_ptr<StageRunner>> StageRunner::Open(const StageSpec& spec,
                                                       const std::string& directory,
                                                       const HopOptions& hop_options) {
  std::unique_ptr<StageRunner> runner(new StageRunner());
  runner->spec_ = spec;
  if (!spec.segment_file.empty()) {
    const std::string path = directory + "/" + spec.segment_file;
    SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    if (const std::string actual = Sha256Hex(bytes); actual != spec.segment_sha256) {
      return DataLoss(path + ": sha256 is " + actual + " but its stage expects " +
                      spec.segment_sha256 + "; refusing to load it");
    }
    runtime::SessionOptions options;
    options.optimize = spec.optimize;
    options.intra_op_threads = spec.intra_op_threads;
    SEAM_ASSIGN_OR_RETURN(runner->session_, runtime::Session::Open(path, options));
  }
  if (spec.next) {
    runner->hop_ = std::make_unique<HopClient>(spec.next->tier, spec.next->address, hop_options);
  }
  return runner;
}

Result<TensorMap> StageRunner::Run(const TensorMap& inputs, RequestTrace* trace,
                                   double decode_ms) const {
  const auto start = Clock::now();
  TierTrace mine{.tier = spec_.tier, .decode_ms = decode_ms};
  // Tensors made on this tier or received from above; `inputs` are read in place, never copied
  // (a tensor is copied only when it passes straight through to the tier below).
  TensorMap made;
  auto find = [&](const std::string& name) -> const Tensor* {
    if (auto it = made.find(name); it != made.end()) return &it->second;
    if (auto it = inputs.find(name); it != inputs.end()) return &it->second;
    return nullptr;
  };

  if (session_) {
    // The segment reads only tensors that arrived from below (stage_spec.h).
    const auto compute_start = Clock::now();
    auto outputs = session_->Run(inputs);
    if (!outputs.ok()) return outputs.status().WithContext(spec_.tier + " segment");
    mine.compute_ms = MsSince(compute_start);
    made = std::move(outputs).value();
  }

  RequestTrace above;
  LinkTrace link;
  if (spec_.next) {
    const NextHop& next = *spec_.next;
    inference::ModelInferRequest request;
    request.set_model_name(next.model);
    request.set_model_version(std::to_string(next.version));
    (*request.mutable_parameters())[kPlanParameter].set_string_param(spec_.plan_id);
    const auto encode_start = Clock::now();
    for (const StageTensor& t : next.send) {
      const Tensor* tensor = find(t.name);
      if (!tensor) {
        return Internal(spec_.tier + ": tensor '" + t.name + "' to send to " + next.tier +
                        " was neither received nor computed here");
      }
      auto* in = request.add_inputs();
      in->set_name(t.name);
      in->set_datatype(DTypeName(tensor->dtype));
      for (int64_t d : tensor->shape) in->add_shape(d);
      if (!transport::IsPlainCodec(t.codec)) {
        (*in->mutable_parameters())[transport::kCodecParameter].set_string_param(t.codec);
      }
      auto payload = transport::EncodePayload(*tensor, t.codec);
      if (!payload.ok()) return payload.status().WithContext(spec_.tier + ": tensor " + t.name);
      link.up_bytes += payload->size();
      request.add_raw_input_contents(std::move(payload).value());
    }
    for (const StageTensor& t : next.receive) {
      auto* out = request.add_outputs();
      out->set_name(t.name);
      if (!transport::IsPlainCodec(t.codec)) {
        (*out->mutable_parameters())[transport::kCodecParameter].set_string_param(t.codec);
      }
    }
    mine.encode_ms += MsSince(encode_start);

    const auto call_start = Clock::now();
    auto response = hop_->Infer(std::move(request));
    const double call_ms = MsSince(call_start);
    if (!response.ok()) return response.status();

    const auto decode_start = Clock::now();
    if (response->outputs_size() != response->raw_output_contents_size()) {
      return DataLoss(next.tier + " answered " + std::to_string(response->outputs_size()) +
                      " outputs with " + std::to_string(response->raw_output_contents_size()) +
                      " raw contents");
    }
    for (int i = 0; i < response->outputs_size(); ++i) {
      const auto& out = response->outputs(i);
      const std::string where = next.tier + " output '" + out.name() + "'";
      auto dtype = DTypeFromName(out.datatype());
      if (!dtype) return DataLoss(where + ": unknown datatype '" + out.datatype() + "'");
      std::string codec;
      if (auto p = out.parameters().find(transport::kCodecParameter); p != out.parameters().end()) {
        codec = p->second.string_param();
      }
      const std::string& raw = response->raw_output_contents(i);
      link.down_bytes += raw.size();
      auto tensor = transport::DecodePayload(
          raw, codec, *dtype, std::vector<int64_t>(out.shape().begin(), out.shape().end()), where);
      // Bad bytes from the tier above are its fault, not the caller's input.
      if (!tensor.ok()) return DataLoss(tensor.status().message());
      made.insert_or_assign(out.name(), std::move(tensor).value());
    }
    mine.decode_ms += MsSince(decode_start);

    if (auto p = response->parameters().find(kTraceParameter); p != response->parameters().end()) {
      SEAM_ASSIGN_OR_RETURN(above, TraceFromJson(p->second.string_param()));
    }
    link.from = spec_.tier;
    link.to = next.tier;
    link.ms = call_ms - above.TotalMs();
  }

  TensorMap outputs;
  for (const StageTensor& t : spec_.outputs) {
    const Tensor* tensor = find(t.name);
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
