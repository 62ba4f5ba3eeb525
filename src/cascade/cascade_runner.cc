#include "cascade/cascade_runner.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <thread>

#include "oip/idempotency.h"
#include "oip/infer_codec.h"

namespace seam::cascade {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Two declared shapes that some tensor could satisfy both (dynamic dims match anything).
bool Compatible(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

std::string Score(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

// The big model's metadata as the outbox keeps it (a note), and back.
std::string MetadataToJson(const oip::ModelMetadata& m) {
  auto specs = [](const std::vector<TensorSpec>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : list) {
      out.push_back({{"name", t.name}, {"datatype", DTypeName(t.dtype)}, {"shape", t.shape}});
    }
    return out;
  };
  return nlohmann::json{{"inputs", specs(m.inputs)},
                        {"outputs", specs(m.outputs)},
                        {"max_batch_size", m.max_batch_size}}
      .dump();
}

Result<oip::ModelMetadata> MetadataFromJson(const std::string& text, const std::string& where) {
  const Status bad = DataLoss(where + ": the big model's metadata it keeps is unreadable");
  oip::ModelMetadata m;
  try {
    const auto j = nlohmann::json::parse(text);
    auto specs = [&](const nlohmann::json& list, std::vector<TensorSpec>& out) {
      for (const auto& t : list) {
        auto dtype = DTypeFromName(t.at("datatype").get<std::string>());
        if (!dtype) return false;
        out.push_back(
            {t.at("name").get<std::string>(), *dtype, t.at("shape").get<std::vector<int64_t>>()});
      }
      return true;
    };
    if (!specs(j.at("inputs"), m.inputs) || !specs(j.at("outputs"), m.outputs)) return bad;
    m.max_batch_size = j.at("max_batch_size").get<int>();
  } catch (const nlohmann::json::exception&) {
    return bad;
  }
  return m;
}

}  // namespace

int64_t TopClass(const Tensor& t) {
  if (t.dtype != DType::kFloat32 || t.data.empty()) return -1;
  const float* v = t.data_as<float>();
  const size_t n = t.data.size() / sizeof(float);
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) best = v[i] > v[best] ? i : best;
  return static_cast<int64_t>(best);
}

Result<std::unique_ptr<CascadeRunner>> CascadeRunner::Open(const CascadeFile& cascade,
                                                           double connect_timeout_ms,
                                                           const StoreAndForward& saf) {
  std::unique_ptr<CascadeRunner> r(new CascadeRunner());
  r->cascade_ = cascade;
  SEAM_ASSIGN_OR_RETURN(r->small_, runtime::Session::Open(cascade.small_model, {}));
  SEAM_ASSIGN_OR_RETURN(r->hop_, oip::HopClient::Open("big model's server", cascade.big_address,
                                                      {.security = cascade.big_security}));
  // Made-up idempotency keys: unique to this process (a restart must not reuse them).
  char id[32];
  std::snprintf(id, sizeof(id), "%016llx",
                static_cast<unsigned long long>(std::random_device{}()) << 32 ^
                    static_cast<unsigned long long>(std::random_device{}()));
  r->key_prefix_ = cascade.name + ":" + id + ":";
  if (!saf.outbox.empty()) {
    SEAM_ASSIGN_OR_RETURN(r->outbox_, Outbox::Open(saf.outbox, saf.limits));
  }
  const std::string note = "big_metadata " + cascade.big_address + " " + cascade.big_model + " " +
                           std::to_string(cascade.big_version);
  auto metadata = r->hop_->Metadata(cascade.big_model, cascade.big_version, connect_timeout_ms);
  if (metadata.ok()) {
    r->big_ = std::move(metadata).value();
    if (r->outbox_) SEAM_RETURN_IF_ERROR(r->outbox_->SetNote(note, MetadataToJson(r->big_)));
  } else if (r->outbox_ && (metadata.status().code() == StatusCode::kUnavailable ||
                            metadata.status().code() == StatusCode::kDeadlineExceeded)) {
    // The uplink is down: a site must still start, and queue what the big model would take.
    SEAM_ASSIGN_OR_RETURN(std::optional<std::string> kept, r->outbox_->Note(note));
    if (!kept) {
      return metadata.status().WithContext(
          "starting offline needs the big model's metadata, which " + saf.outbox +
          " keeps once the server has been reached");
    }
    SEAM_ASSIGN_OR_RETURN(r->big_, MetadataFromJson(*kept, saf.outbox));
    r->started_offline_ = true;
  } else {
    return metadata.status();
  }
  if (Status s = r->CheckModels(); !s.ok()) return s.WithContext(cascade.path);
  if (r->outbox_) {
    r->forwarder_ = std::make_unique<Forwarder>(*r->outbox_, *r->hop_, saf.forwarder);
    r->forwarder_->Start();
  }
  return r;
}

Status CascadeRunner::CheckModels() {
  const auto& rule = cascade_.rule;
  const runtime::IoSpec* judged = nullptr;
  for (const auto& o : small_->outputs()) judged = o.name == rule.output ? &o : judged;
  if (!judged) {
    std::string names;
    for (const auto& o : small_->outputs()) names += (names.empty() ? "" : ", ") + o.name;
    return InvalidArgument("the rule reads output '" + rule.output +
                           "', which the small model does not have (it has: " + names + ")");
  }
  if (judged->dtype != DType::kFloat32) {
    return InvalidArgument("the rule reads '" + rule.output + "', which is " +
                           DTypeName(judged->dtype) + "; it needs FP32 scores");
  }
  for (const auto& in : small_->inputs()) {
    if (!in.shape.empty() && in.shape[0] > 1) {
      return InvalidArgument("the small model's input '" + in.name + "' has batch " +
                             std::to_string(in.shape[0]) + "; a cascade runs one example a time");
    }
  }
  // What goes up must be what the big model reads.
  std::vector<runtime::IoSpec> sent;
  if (cascade_.send == "input") {
    sent = small_->inputs();
  } else {
    for (const auto& o : small_->outputs()) {
      if (o.name == cascade_.send) sent.push_back(o);
    }
    if (sent.empty()) {
      return InvalidArgument("'send' names '" + cascade_.send +
                             "', which is neither \"input\" nor an output of the small model");
    }
  }
  if (sent.size() != big_.inputs.size()) {
    return InvalidArgument("the cascade sends " + std::to_string(sent.size()) +
                           " tensor(s) up; the big model '" + cascade_.big_model + "' reads " +
                           std::to_string(big_.inputs.size()));
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    const TensorSpec* want = sent.size() == 1 ? &big_.inputs[0] : big_.FindInput(sent[i].name);
    if (!want) {
      return InvalidArgument("the big model reads no input named '" + sent[i].name +
                             "', which the cascade sends up");
    }
    if (want->dtype != sent[i].dtype || !Compatible(want->shape, sent[i].shape)) {
      return InvalidArgument("the cascade's models disagree on shapes: the small side sends '" +
                             sent[i].name + "' " + DTypeName(sent[i].dtype) +
                             ShapeText(sent[i].shape) + ", the big model reads '" + want->name +
                             "' " + DTypeName(want->dtype) + ShapeText(want->shape));
    }
  }
  // The big model's class comes from its output of the same name, or its only output.
  const TensorSpec* big_out = big_.FindOutput(rule.output);
  if (!big_out && big_.outputs.size() == 1) big_out = &big_.outputs[0];
  if (!big_out) {
    return InvalidArgument("the big model has no output '" + rule.output +
                           "' and more than one output: cannot tell which holds its answer");
  }
  big_class_output_ = big_out->name;
  if (!IsDetectorRule(rule.kind)) {
    const int64_t small_classes = judged->shape.empty() ? -1 : judged->shape.back();
    const int64_t big_classes = big_out->shape.empty() ? -1 : big_out->shape.back();
    if (small_classes > 0 && big_classes > 0 && small_classes != big_classes) {
      return InvalidArgument("the cascade's models disagree on classes: the small model's '" +
                             rule.output + "' has " + std::to_string(small_classes) +
                             ", the big model's '" + big_out->name + "' " +
                             std::to_string(big_classes));
    }
    if (Status s = rule.Validate(small_classes); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<Decision> CascadeRunner::Judge(const TensorMap& small_outputs) const {
  auto it = small_outputs.find(cascade_.rule.output);
  if (it == small_outputs.end())
    return Internal("the small model did not return the rule's output");
  const Tensor& t = it->second;
  return Decide(cascade_.rule,
                std::span<const float>(t.data_as<float>(), t.data.size() / sizeof(float)));
}

Result<inference::ModelInferRequest> CascadeRunner::HandOffRequest(const TensorMap& inputs,
                                                                   const TensorMap& small_outputs,
                                                                   uint64_t* bytes_up) const {
  inference::ModelInferRequest request;
  request.set_model_name(cascade_.big_model);
  if (cascade_.big_version > 0) request.set_model_version(std::to_string(cascade_.big_version));
  const TensorMap& from = cascade_.send == "input" ? inputs : small_outputs;
  const auto& names = cascade_.send == "input" ? small_->inputs() : small_->outputs();
  *bytes_up = 0;
  for (const auto& spec : names) {
    if (cascade_.send != "input" && spec.name != cascade_.send) continue;
    auto it = from.find(spec.name);
    if (it == from.end()) return InvalidArgument("input '" + spec.name + "' is missing");
    const std::string& name = big_.inputs.size() == 1
                                  ? big_.inputs[0].name
                                  : (big_.FindInput(spec.name) ? spec.name : big_.inputs[0].name);
    SEAM_ASSIGN_OR_RETURN(uint64_t bytes, oip::AddInput(name, it->second, "", &request));
    *bytes_up += bytes;
  }
  return request;
}

Result<TensorMap> CascadeRunner::Send(inference::ModelInferRequest request) const {
  const oip::Deadline deadline =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(cascade_.deadline_ms * 1e3));
  SEAM_ASSIGN_OR_RETURN(auto response, hop_->Infer(std::move(request), deadline));
  SEAM_ASSIGN_OR_RETURN(auto decoded, oip::DecodeInferResponse(response, "big model's server"));
  return std::move(decoded.outputs);
}

std::string CascadeRunner::Queue(const inference::ModelInferRequest& request,
                                 const std::string& key) const {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto queued = outbox_->Enqueue(key, kInferKind, request.SerializeAsString(), now_ms);
  if (!queued.ok()) return "; not queued: " + queued.status().message();
  forwarder_->Wake();
  ++counters_.queued;
  return "; queued for the big model (" + std::to_string(outbox_->size()) + " in " +
         outbox_->path() + ")";
}

int64_t CascadeRunner::DrainOutbox(double timeout_ms) const {
  if (!outbox_) return 0;
  const auto until =
      Clock::now() + std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1e3));
  int64_t left = outbox_->size();
  while (left != 0 && Clock::now() < until) {
    forwarder_->Wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = outbox_->size();
  }
  return left;
}

int64_t CascadeRunner::BigClass(const TensorMap& big_outputs) const {
  auto it = big_outputs.find(big_class_output_);
  return it == big_outputs.end() ? -1 : TopClass(it->second);
}

Result<CascadeAnswer> CascadeRunner::Run(const TensorMap& inputs, std::string_view key) const {
  CascadeAnswer a;
  a.threshold = cascade_.rule.threshold;
  const auto start = Clock::now();
  SEAM_ASSIGN_OR_RETURN(TensorMap small_outputs, small_->Run(inputs));
  a.small_ms = MsSince(start);
  SEAM_ASSIGN_OR_RETURN(a.decision, Judge(small_outputs));
  ++counters_.inferences;
  const std::string kind = RuleKindName(cascade_.rule.kind);
  const bool higher = cascade_.rule.HigherIsConfident();
  if (a.decision.confident) {
    a.tier = "small";
    a.reason = "small: " + kind + " " + Score(a.decision.score) + (higher ? " >= " : " <= ") +
               Score(a.threshold);
    a.top_class = a.decision.top_class;
    a.outputs = std::move(small_outputs);
    return a;
  }
  ++counters_.handoffs;
  const std::string why =
      kind + " " + Score(a.decision.score) + (higher ? " < " : " > ") + Score(a.threshold);
  SEAM_ASSIGN_OR_RETURN(inference::ModelInferRequest request,
                        HandOffRequest(inputs, small_outputs, &a.bytes_up));
  std::string item = std::string(key);
  if (item.empty()) item = key_prefix_ + std::to_string(next_key_.fetch_add(1));
  oip::SetIdempotencyKey(item, &request);
  auto degrade = [&](const std::string& what) {
    ++counters_.degraded;
    a.tier = "small";
    a.degraded = true;
    a.reason = "small (degraded): " + why + ", but " + what;
    a.top_class = a.decision.top_class;
    a.outputs = std::move(small_outputs);
    return a;
  };
  // Older hard examples wait in the outbox: this one queues behind them, so that the big model
  // sees them in order.
  if (outbox_ && outbox_->size() != 0) {  // -1: unreadable; queue rather than overtake
    a.queued = true;
    return degrade("older hard examples wait for the big model" + Queue(request, item));
  }
  const auto sent = Clock::now();
  std::string copy;  // kept to queue it if the big model does not answer
  if (outbox_) copy = request.SerializeAsString();
  auto big = Send(std::move(request));
  a.big_ms = MsSince(sent);
  if (!big.ok()) {
    std::string tail;
    if (outbox_) {
      inference::ModelInferRequest again;
      again.ParseFromString(copy);
      tail = Queue(again, item);
      a.queued = tail.starts_with("; queued");
    }
    return degrade("the big model did not answer: " + big.status().message() + tail);
  }
  a.tier = "big";
  a.reason = "big: " + why;
  a.top_class = BigClass(*big);
  a.outputs = std::move(big).value();
  return a;
}

Result<BothAnswers> CascadeRunner::RunBoth(const TensorMap& inputs) const {
  BothAnswers b;
  const auto start = Clock::now();
  SEAM_ASSIGN_OR_RETURN(TensorMap small_outputs, small_->Run(inputs));
  b.small_ms = MsSince(start);
  SEAM_ASSIGN_OR_RETURN(b.decision, Judge(small_outputs));
  SEAM_ASSIGN_OR_RETURN(inference::ModelInferRequest request,
                        HandOffRequest(inputs, small_outputs, &b.bytes_up));
  const auto sent = Clock::now();
  SEAM_ASSIGN_OR_RETURN(TensorMap big, Send(std::move(request)));
  b.big_ms = MsSince(sent);
  b.big_class = BigClass(big);
  return b;
}

}  // namespace seam::cascade
