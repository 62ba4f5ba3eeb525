#include "runtime/session.h"

#include <onnxruntime_cxx_api.h>

#include <cstring>

namespace seam::runtime {
namespace {

Ort::Env& SharedEnv() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "seam");
  return env;
}

Result<IoSpec> SpecFromTypeInfo(const std::string& name, const Ort::TypeInfo& info,
                                const std::string& model) {
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) {
    return Unimplemented(model + ": '" + name + "' is not a tensor; seam handles tensors only");
  }
  auto tensor_info = info.GetTensorTypeAndShapeInfo();
  auto dtype = DTypeFromOnnx(static_cast<int32_t>(tensor_info.GetElementType()));
  if (!dtype.ok()) return dtype.status().WithContext(model + ": '" + name + "'");
  return IoSpec{name, *dtype, tensor_info.GetShape()};
}

}  // namespace

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Open(const std::string& path,
                                               const SessionOptions& options) {
  return Create(path, nullptr, options, "");
}

Result<std::unique_ptr<Session>> Session::OpenBytes(std::string_view bytes, const std::string& name,
                                                    const SessionOptions& options,
                                                    const std::string& external_data_dir) {
  return Create(name, &bytes, options, external_data_dir);
}

Result<std::unique_ptr<Session>> Session::Create(const std::string& name,
                                                 const std::string_view* bytes,
                                                 const SessionOptions& options,
                                                 const std::string& external_data_dir) {
  std::unique_ptr<Session> session(new Session());
  session->name_ = name;
  try {
    Ort::SessionOptions ort_options;
    ort_options.SetIntraOpNumThreads(options.intra_op_threads);
    ort_options.SetInterOpNumThreads(1);
    ort_options.SetGraphOptimizationLevel(options.optimize
                                              ? GraphOptimizationLevel::ORT_ENABLE_ALL
                                              : GraphOptimizationLevel::ORT_DISABLE_ALL);
    if (!options.profile_prefix.empty()) {
      ort_options.EnableProfiling(options.profile_prefix.c_str());
      session->profiling_ = true;
    }
    if (bytes) {
      // A model opened from memory finds external initializers (if it has any) beside its file.
      if (!external_data_dir.empty()) {
        ort_options.AddConfigEntry("session.model_external_initializers_file_folder_path",
                                   external_data_dir.c_str());
      }
      session->session_ =
          std::make_unique<Ort::Session>(SharedEnv(), bytes->data(), bytes->size(), ort_options);
    } else {
      session->session_ = std::make_unique<Ort::Session>(SharedEnv(), name.c_str(), ort_options);
    }
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session->session_->GetInputCount(); ++i) {
      std::string input = session->session_->GetInputNameAllocated(i, allocator).get();
      SEAM_ASSIGN_OR_RETURN(IoSpec spec,
                            SpecFromTypeInfo(input, session->session_->GetInputTypeInfo(i), name));
      session->inputs_.push_back(std::move(spec));
    }
    for (size_t i = 0; i < session->session_->GetOutputCount(); ++i) {
      std::string output = session->session_->GetOutputNameAllocated(i, allocator).get();
      SEAM_ASSIGN_OR_RETURN(
          IoSpec spec, SpecFromTypeInfo(output, session->session_->GetOutputTypeInfo(i), name));
      session->outputs_.push_back(std::move(spec));
    }
  } catch (const Ort::Exception& e) {
    return FailedPrecondition("ONNX Runtime cannot load '" + name + "': " + e.what());
  }
  return session;
}

std::string RuntimeVersion() { return "onnxruntime " + Ort::GetVersionString(); }

Status CheckInput(const IoSpec& spec, const Tensor& tensor) {
  const std::string where = "input '" + spec.name + "'";
  if (tensor.dtype != spec.dtype) {
    return InvalidArgument(where + ": expected " + DTypeName(spec.dtype) + ", got " +
                           DTypeName(tensor.dtype));
  }
  bool shape_ok = tensor.shape.size() == spec.shape.size();
  for (size_t i = 0; shape_ok && i < spec.shape.size(); ++i) {
    shape_ok = spec.shape[i] < 0 || spec.shape[i] == tensor.shape[i];
  }
  if (!shape_ok) {
    return InvalidArgument(where + ": expected shape " + ShapeToString(spec.shape) + ", got " +
                           ShapeToString(tensor.shape));
  }
  const size_t expected_bytes =
      static_cast<size_t>(ElementCount(tensor.shape)) * DTypeSize(tensor.dtype);
  if (tensor.data.size() != expected_bytes) {
    return InvalidArgument(where + ": shape " + ShapeToString(tensor.shape) + " needs " +
                           std::to_string(expected_bytes) + " bytes, got " +
                           std::to_string(tensor.data.size()));
  }
  return Status::Ok();
}

Result<TensorMap> Session::Run(const TensorMap& inputs) const {
  std::vector<const char*> input_names, output_names;
  std::vector<Ort::Value> input_values;
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  try {
    for (const auto& spec : inputs_) {
      auto it = inputs.find(spec.name);
      if (it == inputs.end()) {
        return InvalidArgument(name_ + ": input '" + spec.name + "' is missing");
      }
      SEAM_RETURN_IF_ERROR(CheckInput(spec, it->second).WithContext(name_));
      const Tensor& t = it->second;
      // ORT reads the buffer without writing it; the const_cast is its API's, not a mutation.
      input_values.push_back(Ort::Value::CreateTensor(
          memory, const_cast<std::byte*>(t.data.data()), t.data.size(), t.shape.data(),
          t.shape.size(), static_cast<ONNXTensorElementDataType>(DTypeToOnnx(t.dtype))));
      input_names.push_back(spec.name.c_str());
    }
    for (const auto& spec : outputs_) output_names.push_back(spec.name.c_str());
    auto outputs = session_->Run(Ort::RunOptions{nullptr}, input_names.data(), input_values.data(),
                                 input_values.size(), output_names.data(), output_names.size());
    TensorMap result;
    for (size_t i = 0; i < outputs.size(); ++i) {
      auto info = outputs[i].GetTensorTypeAndShapeInfo();
      SEAM_ASSIGN_OR_RETURN(DType dtype,
                            DTypeFromOnnx(static_cast<int32_t>(info.GetElementType())));
      // One copy out of ORT's buffer, without zero-filling the new one first.
      Tensor t{dtype, info.GetShape(), {}};
      const auto* bytes = static_cast<const std::byte*>(outputs[i].GetTensorRawData());
      t.data.assign(bytes, bytes + ElementCount(t.shape) * DTypeSize(dtype));
      result.emplace(outputs_[i].name, std::move(t));
    }
    return result;
  } catch (const Ort::Exception& e) {
    return Internal(name_ + ": ONNX Runtime failed: " + e.what());
  }
}

Result<std::string> Session::EndProfiling() {
  if (!profiling_) {
    return FailedPrecondition(name_ + ": profiling was not enabled when the session was opened");
  }
  try {
    Ort::AllocatorWithDefaultOptions allocator;
    std::string path = session_->EndProfilingAllocated(allocator).get();
    profiling_ = false;
    return path;
  } catch (const Ort::Exception& e) {
    return Internal(name_ + ": ONNX Runtime cannot end profiling: " + e.what());
  }
}

}  // namespace seam::runtime
