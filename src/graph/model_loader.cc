#include "graph/model_loader.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "common/file_util.h"
#include "graph/attribute_checks.h"

namespace seam::graph {
namespace fs = std::filesystem;
namespace {

// Protobuf refuses messages over 2 GiB; ONNX puts larger weights in external data.
constexpr size_t kMaxProtobufBytes = size_t{2} << 30;

Status ResolveExternalData(onnx::TensorProto& tensor, const std::string& model_name,
                           const std::string& directory) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : tensor.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") offset = std::stoll(entry.value());
      if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      return DataLoss(model_name + ": initializer '" + tensor.name() + "': external data key '" +
                      entry.key() + "' has a non-numeric value '" + entry.value() + "'");
    }
  }
  const std::string where = model_name + ": initializer '" + tensor.name() + "'";
  if (location.empty()) return DataLoss(where + ": external data has no location");
  if (directory.empty()) {
    return FailedPrecondition(where + ": uses external data, which needs the model's directory");
  }
  // Refuse paths that leave the model's directory: a model file must not read arbitrary files.
  fs::path relative(location);
  if (relative.is_absolute() || relative.lexically_normal().string().starts_with("..")) {
    return InvalidArgument(where + ": external data location '" + location +
                           "' is outside the model's directory");
  }
  const fs::path file = fs::path(directory) / relative;
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFound(where + ": cannot open external data file '" + file.string() + "'");
  in.seekg(0, std::ios::end);
  const int64_t file_size = in.tellg();
  if (offset < 0 || offset > file_size) {
    return DataLoss(where + ": external data offset " + std::to_string(offset) +
                    " is beyond the end of '" + file.string() + "' (" + std::to_string(file_size) +
                    " bytes)");
  }
  if (length < 0) length = file_size - offset;
  if (length > file_size - offset) {
    return DataLoss(where + ": external data [" + std::to_string(offset) + ", +" +
                    std::to_string(length) + ") runs past the end of '" + file.string() + "' (" +
                    std::to_string(file_size) + " bytes); the file may be truncated");
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) return DataLoss(where + ": error reading external data from '" + file.string() + "'");
  tensor.set_raw_data(std::move(bytes));
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
  return Status::Ok();
}

Status CheckOpsets(const onnx::ModelProto& model, const std::string& name) {
  if (model.opset_import_size() == 0) {
    return InvalidArgument(name + ": model declares no opset_import (is it really ONNX?)");
  }
  for (const auto& opset : model.opset_import()) {
    if ((opset.domain().empty() || opset.domain() == "ai.onnx") &&
        opset.version() > MaxSupportedOpset()) {
      return Unimplemented(name + ": model uses ONNX opset " + std::to_string(opset.version()) +
                           "; this build of seam understands opsets up to " +
                           std::to_string(MaxSupportedOpset()));
    }
  }
  return Status::Ok();
}

}  // namespace

int MaxSupportedOpset() {
  return onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
      .Map()
      .at(onnx::ONNX_DOMAIN)
      .second;
}

Result<LoadedModel> LoadModelFromBytes(const std::string& bytes, const std::string& name,
                                       const std::string& directory) {
  if (bytes.empty()) return InvalidArgument(name + ": file is empty, not an ONNX model");
  if (bytes.size() >= kMaxProtobufBytes) {
    return InvalidArgument(name +
                           ": file is over 2 GiB; store large weights as ONNX external data");
  }
  LoadedModel loaded;
  loaded.path = name;
  loaded.directory = directory;
  if (!loaded.proto.ParseFromString(bytes)) {
    // Every ONNX writer starts the file with ModelProto field 1 (ir_version, a varint): tag 0x08.
    if (bytes[0] != '\x08') {
      return InvalidArgument(name +
                             ": not an ONNX model (protobuf parsing failed, and the file "
                             "does not start with an ONNX header)");
    }
    return DataLoss(name + ": the ONNX model is truncated or corrupt (protobuf parsing failed on " +
                    std::to_string(bytes.size()) + " bytes)");
  }
  if (!loaded.proto.has_graph() || loaded.proto.graph().node_size() == 0) {
    return InvalidArgument(name + ": not an ONNX model (no graph with nodes in it)");
  }
  if (loaded.proto.ir_version() <= 0) {
    return InvalidArgument(name + ": not an ONNX model (no ir_version)");
  }
  SEAM_RETURN_IF_ERROR(CheckOpsets(loaded.proto, name));
  for (auto& tensor : *loaded.proto.mutable_graph()->mutable_initializer()) {
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
      SEAM_RETURN_IF_ERROR(ResolveExternalData(tensor, name, directory));
      loaded.had_external_data = true;
    }
  }
  try {
    onnx::checker::check_model(loaded.proto);
  } catch (const std::exception& e) {
    // The checker's messages carry a "==> Context:" tail; the first line is the useful part.
    std::string what = e.what();
    if (auto cut = what.find("\n"); cut != std::string::npos) what.resize(cut);
    return InvalidArgument(name + ": fails the ONNX checker: " + what);
  }
  SEAM_RETURN_IF_ERROR(CheckWindowAttributes(loaded.proto.graph(), name));
  for (const auto& function : loaded.proto.functions()) {
    for (const auto& node : function.node()) {
      onnx::GraphProto wrapper;  // function bodies are node lists; check them the same way
      *wrapper.add_node() = node;
      SEAM_RETURN_IF_ERROR(CheckWindowAttributes(wrapper, name));
    }
  }
  loaded.sha256 = Sha256Hex(bytes);
  return loaded;
}

Result<LoadedModel> LoadModel(const std::string& path) {
  SEAM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  const std::string directory = fs::path(path).parent_path().string();
  return LoadModelFromBytes(bytes, path, directory.empty() ? "." : directory);
}

}  // namespace seam::graph
