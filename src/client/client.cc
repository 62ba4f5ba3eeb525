#include "seam/client.h"

#include <cstring>
#include <filesystem>

#include "client/plan_set_runtime.h"
#include "common/dtype.h"
#include "common/tensor.h"
#include "plan/plan_file.h"

namespace seam::client {

struct Client::Impl {
  std::unique_ptr<PlanSetRuntime> device;
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

Result<std::shared_ptr<Client::Impl>> OpenImpl(const std::string& plan_path,
                                               const Options& options) {
  SEAM_ASSIGN_OR_RETURN(auto device, PlanSetRuntime::Open(plan_path, options));
  auto impl = std::make_shared<Client::Impl>();
  for (const auto& t : device->spec().inputs) {
    impl->inputs.push_back({t.name, DTypeName(t.dtype), t.shape});
  }
  impl->device = std::move(device);
  return impl;
}

// The deployment the plan (or set) file records now, if it is another than `current` (a cheap
// look at the files: nothing is opened and nothing waits).
bool Redeployed(const std::string& plan_path, const PlanSetRuntime& current) {
  auto key = DeploymentKeyOf(plan_path);
  return key.ok() && *key != current.DeploymentKey();
}

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

std::vector<InputInfo> Client::inputs() const { return Current()->inputs; }
std::string Client::plan_id() const { return Current()->device->spec().plan_id; }
std::string Client::model_path() const { return Current()->device->model_path(); }
bool Client::optimized() const { return Current()->device->spec().optimize; }

std::vector<std::string> Client::tiers() const {
  auto impl = Current();
  const auto& spec = impl->device->spec();
  std::vector<std::string> tiers{spec.tier};
  if (spec.next) tiers.push_back(spec.next->tier);
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
  for (const auto& spec : impl->device->spec().inputs) {
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
  Status remote_error;
  auto result = impl->device->Run(internal, &request_trace, &remote_error);
  if ((remote_error.code() == StatusCode::kNotFound ||
       remote_error.code() == StatusCode::kUnavailable) &&
      Redeployed(plan_path_, *impl->device)) {
    // The next tier no longer serves this deployment and the plan file holds a newer one: follow
    // it (the answer from the fallback, if any, is replaced by the new deployment's).
    auto fresh = OpenImpl(plan_path_, options_);
    if (fresh.ok()) {
      {
        std::lock_guard lock(mu_);
        impl_ = *fresh;
      }
      impl = *fresh;
      result = impl->device->Run(internal, &request_trace);
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
      trace->tiers.push_back(
          {t.tier, t.compute_ms, t.encode_ms, t.decode_ms, t.total_ms, t.queue_ms});
    }
    for (const auto& l : request_trace.links) {
      trace->links.push_back({l.from, l.to, l.up_bytes, l.down_bytes, l.ms, l.retries});
    }
    trace->total_ms = request_trace.TotalMs();
    trace->route = request_trace.route;
    trace->plan = request_trace.plan;
    trace->plan_reason = request_trace.plan_reason;
    trace->degraded = request_trace.degraded;
    trace->degraded_reason = request_trace.degraded_reason;
  }
  return true;
}

}  // namespace seam::client
