#include "seam/client.h"

#include <cstring>
#include <filesystem>

#include "common/dtype.h"
#include "common/tensor.h"
#include "pipeline/deployment.h"
#include "pipeline/stage_runner.h"

namespace seam::client {

struct Client::Impl {
  pipeline::StageSpec spec;
  std::string model_path;  // from the plan file
  std::unique_ptr<pipeline::StageRunner> runner;
  std::vector<InputInfo> inputs;
};

namespace {

Result<seam::Tensor> ToInternal(const std::string& name, const TensorView& t,
                                const pipeline::StageTensor& spec) {
  const std::string where = "input '" + name + "'";
  auto dtype = DTypeFromName(t.datatype);
  if (!dtype) return InvalidArgument(where + ": unknown datatype '" + t.datatype + "'");
  if (*dtype != spec.dtype) {
    return InvalidArgument(where + ": expected datatype " + DTypeName(spec.dtype) + ", got " +
                           t.datatype);
  }
  bool fits = t.shape.size() == spec.shape.size();
  for (size_t i = 0; fits && i < t.shape.size(); ++i) {
    fits = t.shape[i] >= 0 && (spec.shape[i] < 0 || spec.shape[i] == t.shape[i]);
  }
  if (!fits) {
    return InvalidArgument(where + ": expected shape " + OipShape(spec.shape) + ", got " +
                           OipShape(t.shape));
  }
  auto count = CheckedElementCount(t.shape);
  auto bytes = count ? CheckedMul(*count, static_cast<int64_t>(DTypeSize(*dtype))) : std::nullopt;
  if (!bytes || static_cast<uint64_t>(*bytes) != t.size) {
    return InvalidArgument(where + ": shape " + OipShape(t.shape) + " of " + t.datatype +
                           " needs " + std::to_string(count.value_or(0) * DTypeSize(*dtype)) +
                           " bytes, got " + std::to_string(t.size));
  }
  if (t.size > 0 && !t.data) return InvalidArgument(where + ": no data");
  seam::Tensor out;
  out.dtype = *dtype;
  out.shape = t.shape;
  const auto* first = static_cast<const std::byte*>(t.data);
  out.data.assign(first, first + t.size);  // the one copy: ONNX Runtime reads seam's tensors
  return out;
}

}  // namespace

Client::Client(std::shared_ptr<Impl> impl, std::string plan_path, Options options)
    : plan_path_(std::move(plan_path)), options_(std::move(options)), impl_(std::move(impl)) {}
Client::~Client() = default;

std::shared_ptr<Client::Impl> Client::Current() const {
  std::lock_guard lock(mu_);
  return impl_;
}

namespace {

// Which deployment a device stage belongs to: its plan and the version it sends to.
std::string DeploymentKey(const Client::Impl& impl) {
  const auto& s = impl.spec;
  return s.plan_id + (s.next ? "|" + s.next->model + "|" + std::to_string(s.next->version) : "");
}

// The device's side of the deployment recorded in the plan file.
Result<std::shared_ptr<Client::Impl>> OpenImpl(const std::string& plan_path,
                                               const Options& options);

}  // namespace

std::unique_ptr<Client> Client::Open(const std::string& plan_path, const Options& options,
                                     std::string* error) {
  auto impl = OpenImpl(plan_path, options);
  if (!impl.ok()) {
    if (error) *error = impl.status().message();
    return nullptr;
  }
  return std::unique_ptr<Client>(new Client(std::move(impl).value(), plan_path, options));
}

namespace {

Result<std::shared_ptr<Client::Impl>> OpenImpl(const std::string& plan_path,
                                               const Options& options) {
  auto fail = [&](const Status& status) -> Result<std::shared_ptr<Client::Impl>> { return status; };
  auto plan = plan::ReadExecutablePlan(plan_path);
  if (!plan.ok()) return fail(plan.status());
  auto stage_path = plan::DeviceStagePath(*plan);
  if (!stage_path.ok()) return fail(stage_path.status());
  auto spec = pipeline::ReadStage(*stage_path);
  if (!spec.ok()) return fail(spec.status());
  if (spec->plan_id != plan->id) {
    return fail(FailedPrecondition(*stage_path + " belongs to plan " + spec->plan_id + ", not to " +
                                   plan_path + " (" + plan->id + "); deploy the plan again"));
  }
  if (spec->next && !options.next_address.empty()) spec->next->address = options.next_address;
  pipeline::StageOptions stage_options;
  stage_options.hop.call_timeout_ms = options.call_timeout_ms;
  stage_options.hop.connect_timeout_ms = options.ready_timeout_ms;
  auto runner = pipeline::StageRunner::Open(
      *spec, std::filesystem::path(*stage_path).parent_path().string(), stage_options);
  if (!runner.ok()) return fail(runner.status());
  if (spec->next) {
    Status ready = (*runner)->hop()->WaitReady(spec->next->model, spec->next->version,
                                               options.ready_timeout_ms);
    if (!ready.ok()) return fail(ready);
  }
  auto impl = std::make_shared<Client::Impl>();
  impl->spec = *spec;
  impl->model_path = plan->model_path;
  impl->runner = std::move(runner).value();
  for (const auto& t : spec->inputs) impl->inputs.push_back({t.name, DTypeName(t.dtype), t.shape});
  return impl;
}

}  // namespace

std::vector<InputInfo> Client::inputs() const { return Current()->inputs; }
std::string Client::plan_id() const { return Current()->spec.plan_id; }
std::string Client::model_path() const { return Current()->model_path; }
bool Client::optimized() const { return Current()->spec.optimize; }

std::vector<std::string> Client::tiers() const {
  auto impl = Current();
  std::vector<std::string> tiers{impl->spec.tier};
  if (impl->spec.next) tiers.push_back(impl->spec.next->tier);
  return tiers;
}

bool Client::Infer(const Tensors& inputs, Tensors* outputs, Trace* trace,
                   std::string* error) const {
  TensorViews views;
  for (const auto& [name, t] : inputs) {
    views.emplace(name, TensorView{t.datatype, t.shape, t.data.data(), t.data.size()});
  }
  OutputBuffers none;
  if (outputs) outputs->clear();
  return Infer(views, &none, outputs, trace, error);
}

bool Client::Infer(const TensorViews& inputs, OutputBuffers* outputs, Tensors* others, Trace* trace,
                   std::string* error) const {
  auto fail = [&](const Status& status) {
    if (error) *error = status.message();
    return false;
  };
  auto impl = Current();
  TensorMap internal;
  for (const auto& spec : impl->spec.inputs) {
    auto it = inputs.find(spec.name);
    if (it == inputs.end()) {
      return fail(InvalidArgument("input '" + spec.name + "' is missing"));
    }
    auto tensor = ToInternal(spec.name, it->second, spec);
    if (!tensor.ok()) return fail(tensor.status());
    internal.emplace(spec.name, std::move(tensor).value());
  }
  for (const auto& [name, tensor] : inputs) {
    if (!internal.contains(name)) {
      return fail(InvalidArgument("input '" + name + "': the model has no such input"));
    }
  }
  pipeline::RequestTrace request_trace;
  auto result = impl->runner->Run(internal, &request_trace);
  if (!result.ok() && impl->spec.next &&
      (result.status().code() == StatusCode::kNotFound ||
       result.status().code() == StatusCode::kUnavailable)) {
    // The next tier no longer serves this deployment: follow the plan file to a newer one.
    auto fresh = OpenImpl(plan_path_, options_);
    if (fresh.ok() && DeploymentKey(**fresh) != DeploymentKey(*impl)) {
      {
        std::lock_guard lock(mu_);
        impl_ = *fresh;
      }
      impl = *fresh;
      request_trace = {};
      result = impl->runner->Run(internal, &request_trace);
    }
  }
  if (!result.ok()) return fail(result.status());
  for (auto& [name, t] : *result) {
    OutputBuffer* b = nullptr;
    if (outputs) {
      if (auto it = outputs->find(name); it != outputs->end()) b = &it->second;
    }
    if (b) {
      if (t.data.size() > b->capacity || (!t.data.empty() && !b->data)) {
        return fail(InvalidArgument("output '" + name + "' needs " + std::to_string(t.data.size()) +
                                    " bytes, its buffer has " + std::to_string(b->capacity)));
      }
      if (!t.data.empty()) std::memcpy(b->data, t.data.data(), t.data.size());
      b->datatype = DTypeName(t.dtype);
      b->shape = t.shape;
      b->size = t.data.size();
    } else if (others) {
      others->insert_or_assign(
          name, Tensor{DTypeName(t.dtype), t.shape,
                       std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size())});
    }
  }
  if (trace) {
    trace->tiers.clear();
    trace->links.clear();
    for (const auto& t : request_trace.tiers) {
      trace->tiers.push_back({t.tier, t.compute_ms, t.encode_ms, t.decode_ms, t.total_ms});
    }
    for (const auto& l : request_trace.links) {
      trace->links.push_back({l.from, l.to, l.up_bytes, l.down_bytes, l.ms});
    }
    trace->total_ms = request_trace.TotalMs();
  }
  return true;
}

}  // namespace seam::client
