#include "profile/calibration.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/shape_inference.h"
#include "runtime/segment_chain.h"
#include "runtime/session.h"
#include "transport/codec.h"
#include "transport/codec_error.h"

namespace seam::profile {
namespace fs = std::filesystem;
namespace {

// A scratch directory removed with its contents when this goes away.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() / ("seam_calibrate_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// The model with `tensor` fed from outside: its producer writes a renamed, unused tensor and a
// new graph input of the same name and type takes its place.
Result<std::string> WithTensorAsInput(const graph::LoadedModel& model, const std::string& tensor,
                                      const ScratchDir& scratch, int index) {
  onnx::ModelProto copy = model.proto;
  onnx::GraphProto* g = copy.mutable_graph();
  bool found = false;
  for (auto& node : *g->mutable_node()) {
    for (auto& out : *node.mutable_output()) {
      if (out == tensor) {
        out = tensor + "__seam_calibration_unused";
        found = true;
      }
    }
  }
  if (!found) return NotFound("no node produces tensor '" + tensor + "'");
  onnx::ValueInfoProto* input = g->add_input();
  input->set_name(tensor);
  bool typed = false;
  for (const auto& v : g->value_info()) {
    if (v.name() == tensor) {
      *input->mutable_type() = v.type();
      typed = true;
    }
  }
  if (!typed) return Unimplemented("tensor '" + tensor + "' has no inferred type");
  const std::string path = scratch.File("variant_" + std::to_string(index) + ".onnx");
  std::string bytes;
  if (!copy.SerializeToString(&bytes)) return Internal("cannot serialise a calibration variant");
  SEAM_RETURN_IF_ERROR(WriteFileAtomic(path, bytes));
  return path;
}

// Fraction of rows whose arg-max agrees, for outputs shaped [N, C] with C > 1; 1 otherwise.
double Top1Agreement(const Tensor& reference, const Tensor& candidate) {
  if (reference.dtype != DType::kFloat32 || reference.shape.size() != 2 || reference.shape[1] < 2 ||
      candidate.shape != reference.shape) {
    return 1.0;
  }
  const int64_t rows = reference.shape[0], cols = reference.shape[1];
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = reference.data_as<float>() + r * cols;
    const float* b = candidate.data_as<float>() + r * cols;
    agree += std::max_element(a, a + cols) - a == std::max_element(b, b + cols) - b;
  }
  return rows ? static_cast<double>(agree) / rows : 1.0;
}

}  // namespace

std::map<std::string, std::vector<std::string>> AccuracyReport::Allowed() const {
  std::map<std::string, std::vector<std::string>> allowed;
  for (const auto& [tensor, codecs] : tensors) {
    for (const auto& [codec, accuracy] : codecs) {
      if (accuracy.allowed) allowed[tensor].push_back(codec);
    }
  }
  return allowed;
}

Result<AccuracyReport> Calibrate(const graph::LoadedModel& model,
                                 const CalibrationOptions& options) {
  if (options.samples < 1) return InvalidArgument("calibration needs at least one sample");
  std::vector<transport::CodecSpec> specs;
  for (const auto& name : options.codecs) {
    auto spec = transport::ParseCodec(name);
    if (!spec.ok()) return spec.status().WithContext("--codecs");
    if (!transport::IsLossy(*spec)) {
      return InvalidArgument("--codecs: '" + name + "' is lossless; calibrate lossy codecs only");
    }
    specs.push_back(*spec);
  }
  SEAM_ASSIGN_OR_RETURN(graph::GraphView view, graph::GraphView::Build(model.proto));
  // Shape inference fills value_info, which the variants need to type their new input.
  graph::LoadedModel typed = model;
  SEAM_ASSIGN_OR_RETURN(graph::TypeTable types, graph::InferSymbolicTypes(model.proto));
  typed.proto.mutable_graph()->clear_value_info();
  for (const auto& [name, type] : types) {
    auto id = view.FindTensor(name);
    if (!id || view.tensor(*id).is_initializer || view.tensor(*id).is_model_input) continue;
    onnx::ValueInfoProto* v = typed.proto.mutable_graph()->add_value_info();
    v->set_name(name);
    *v->mutable_type() = type.proto;
  }

  runtime::SessionOptions session_options;
  session_options.optimize = false;
  ScratchDir scratch;
  const std::string whole_path = scratch.File("whole.onnx");
  {
    std::string bytes;
    typed.proto.SerializeToString(&bytes);
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(whole_path, bytes));
  }
  // The reference run also returns every candidate tensor, so variants can be fed its value.
  std::vector<std::string> candidates;
  for (graph::NodeId n : view.order()) {
    for (graph::TensorId t : view.node(n).outputs) {
      const graph::TensorInfo& info = view.tensor(t);
      auto it = types.find(info.name);
      if (info.is_model_output || info.consumers.empty() || it == types.end() ||
          it->second.elem_type != 1 /* FLOAT */) {
        continue;
      }
      candidates.push_back(info.name);
    }
  }
  onnx::ModelProto probe = typed.proto;
  for (const auto& name : candidates) {
    onnx::ValueInfoProto* out = probe.mutable_graph()->add_output();
    out->set_name(name);
    *out->mutable_type() = types.at(name).proto;
  }
  const std::string probe_path = scratch.File("probe.onnx");
  {
    std::string bytes;
    probe.SerializeToString(&bytes);
    SEAM_RETURN_IF_ERROR(WriteFileAtomic(probe_path, bytes));
  }
  SEAM_ASSIGN_OR_RETURN(auto probe_session, runtime::Session::Open(probe_path, session_options));
  std::vector<TensorMap> inputs, reference;
  for (int s = 0; s < options.samples; ++s) {
    TensorMap in;
    for (const auto& spec : probe_session->inputs()) {
      in[spec.name] = runtime::RandomTensor(spec, options.seed + 7919 * s + in.size());
    }
    SEAM_ASSIGN_OR_RETURN(TensorMap out, probe_session->Run(in));
    inputs.push_back(std::move(in));
    reference.push_back(std::move(out));
  }

  AccuracyReport report;
  report.model_path = model.path;
  report.model_sha256 = model.sha256;
  report.budget = options.budget;
  report.samples = options.samples;
  std::vector<std::string> model_outputs;
  for (graph::TensorId t : view.model_outputs()) model_outputs.push_back(view.tensor(t).name);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& tensor = candidates[i];
    SEAM_ASSIGN_OR_RETURN(std::string variant_path,
                          WithTensorAsInput(typed, tensor, scratch, static_cast<int>(i)));
    SEAM_ASSIGN_OR_RETURN(auto variant, runtime::Session::Open(variant_path, session_options));
    for (size_t c = 0; c < specs.size(); ++c) {
      CodecAccuracy accuracy;
      double agree_sum = 0;
      for (int s = 0; s < options.samples; ++s) {
        TensorMap in = inputs[s];
        SEAM_ASSIGN_OR_RETURN(auto encoded, transport::Encode(reference[s].at(tensor), specs[c]));
        SEAM_ASSIGN_OR_RETURN(in[tensor], transport::Decode(encoded));
        SEAM_ASSIGN_OR_RETURN(TensorMap out, variant->Run(in));
        double agree = 1;
        for (const auto& name : model_outputs) {
          const Tensor& want = reference[s].at(name);
          const Tensor& got = out.at(name);
          accuracy.rel_l2 = std::max(accuracy.rel_l2, transport::MeasureError(want, got).rel_l2);
          agree = std::min(agree, Top1Agreement(want, got));
        }
        agree_sum += agree;
      }
      accuracy.top1_agreement = agree_sum / options.samples;
      accuracy.allowed = accuracy.rel_l2 <= options.budget.max_rel_l2 &&
                         accuracy.top1_agreement >= options.budget.min_top1_agreement;
      report.tensors[tensor][options.codecs[c]] = accuracy;
    }
  }
  return report;
}

nlohmann::json AccuracyToJson(const AccuracyReport& r) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& [tensor, codecs] : r.tensors) {
    for (const auto& [codec, a] : codecs) {
      tensors[tensor][codec] = {
          {"rel_l2", a.rel_l2}, {"top1_agreement", a.top1_agreement}, {"allowed", a.allowed}};
    }
  }
  return {
      {"schema", AccuracyReport::kSchema},
      {"model", {{"path", r.model_path}, {"sha256", r.model_sha256}}},
      {"budget",
       {{"max_rel_l2", r.budget.max_rel_l2}, {"min_top1_agreement", r.budget.min_top1_agreement}}},
      {"samples", r.samples},
      {"tensors", tensors}};
}

Result<AccuracyReport> ReadAccuracy(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(path + ": not valid JSON");
  try {
    if (j.value("schema", "") != AccuracyReport::kSchema) {
      return InvalidArgument(path + ": not a seam accuracy file (schema is not '" +
                             std::string(AccuracyReport::kSchema) + "')");
    }
    AccuracyReport r;
    r.model_path = j.at("model").at("path");
    r.model_sha256 = j.at("model").at("sha256");
    r.budget.max_rel_l2 = j.at("budget").at("max_rel_l2");
    r.budget.min_top1_agreement = j.at("budget").at("min_top1_agreement");
    r.samples = j.at("samples");
    for (const auto& [tensor, codecs] : j.at("tensors").items()) {
      for (const auto& [codec, a] : codecs.items()) {
        r.tensors[tensor][codec] = {a.at("rel_l2"), a.at("top1_agreement"), a.at("allowed")};
      }
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(path + ": malformed accuracy file: " + e.what());
  }
}

}  // namespace seam::profile
