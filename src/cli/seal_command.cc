// `seam keygen KEYFILE` and `seam seal MODEL --key SRC --output FILE`: model keys and sealed
// (encrypted at rest) models for repositories and devices (common/model_seal.h, docs/security.md).
// Stages are sealed by `seam deploy --encrypt`; these are for plain models a repository serves.
#include <fcntl.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/file_util.h"
#include "common/model_seal.h"

namespace seam::cli {
namespace {

// Created with mode 0600 and never over an existing file: a key overwritten is every model sealed
// with it lost.
Status WriteNewSecretFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) {
      return FailedPrecondition(path +
                                " already exists; a key is never overwritten (models sealed "
                                "with it could no longer be opened): choose another path");
    }
    return InvalidArgument("cannot create " + path + ": " + std::strerror(error));
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) return Unavailable("cannot write " + path);
  return Status::Ok();
}

int RunKeygen(std::string path) {
  // The key's path, as every other key argument names it (file:PATH), is the same file.
  if (path.starts_with("file:")) path.erase(0, 5);
  auto text = NewModelKeyText();
  if (!text.ok()) return ReportError(text.status());
  Status written = WriteNewSecretFile(path, *text);
  Wipe(*text);
  if (!written.ok()) return ReportError(written);
  auto key = ModelKeys::LoadOne("file:" + path, "the new key");
  if (!key.ok()) return ReportError(key.status());
  std::cout << "model key " << key->id << " written to " << path
            << " (mode 0600): seal with seam deploy --encrypt TIER=file:" << path
            << " or seam seal; open with --model-key file:" << path << "\n";
  return 0;
}

struct SealFlags {
  std::string model, key, output;
};

int RunSeal(const SealFlags& f) {
  auto key = ModelKeys::LoadOne(f.key, "--key");
  if (!key.ok()) return ReportError(key.status());
  auto bytes = ReadFile(f.model);
  if (!bytes.ok()) return ReportError(bytes.status());
  if (IsSealed(*bytes)) {
    return ReportError(
        InvalidArgument(f.model + " is already sealed (with key " + SealedKeyId(*bytes) + ")"));
  }
  // Weights in external files would stay in clear beside the sealed graph, unchecked.
  onnx::ModelProto model;
  if (!model.ParseFromString(*bytes)) {
    return ReportError(InvalidArgument(f.model + " is not an ONNX model (it does not parse)"));
  }
  for (const auto& tensor : model.graph().initializer()) {
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
      return ReportError(InvalidArgument(
          f.model + ": initializer '" + tensor.name() +
          "' is stored in an external data file, which sealing would leave in clear; save the "
          "model with its weights inside (onnx.save(model, path, save_as_external_data=False))"));
    }
  }
  model.Clear();
  std::error_code ec;
  const auto status = std::filesystem::status(f.output, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return ReportError(InvalidArgument(f.output + " exists and is not a regular file"));
  }
  const auto parent = std::filesystem::path(f.output).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto sealed = Seal(*bytes, *key);
  Wipe(*bytes);
  if (!sealed.ok()) return ReportError(sealed.status());
  if (Status s = WriteFileAtomic(f.output, *sealed); !s.ok()) return ReportError(s);
  std::cout << f.output << ": " << f.model << " sealed with key " << key->id << " (sha256 "
            << Sha256Hex(*sealed) << ")\n";
  return 0;
}

}  // namespace

void RegisterSealCommands(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  auto* keygen = app.add_subcommand(
      "keygen", "write a new random model key (AES-256, 64 hex digits) to a new file, mode 0600");
  keygen->add_option("keyfile", *path, "the file to create")->required();
  keygen->callback([path, &exit_code] { exit_code = RunKeygen(*path); });

  auto f = std::make_shared<SealFlags>();
  auto* seal = app.add_subcommand(
      "seal",
      "encrypt a model at rest (AES-256-GCM) for a repository or a device: servers and "
      "the device open it with --model-key, in memory only");
  seal->add_option("model", f->model, "the ONNX model")->required();
  seal->add_option("--key", f->key, "the model key: file:PATH or env:NAME (seam keygen)")
      ->required();
  seal->add_option("--output", f->output, "the sealed file (e.g. REPO/MODEL/1/model.onnx)")
      ->required();
  seal->callback([f, &exit_code] { exit_code = RunSeal(*f); });
}

}  // namespace seam::cli
