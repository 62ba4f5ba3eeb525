#include "pipeline/stage_backend.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "repository/model_config.h"
#include "server/backend.h"

namespace seam::pipeline {
namespace {

class StageBackend final : public server::Backend {
 public:
  StageBackend(std::unique_ptr<StageRunner> runner, std::string directory)
      : runner_(std::move(runner)), directory_(std::move(directory)) {
    for (const auto& t : runner_->spec().inputs) inputs_.push_back({t.name, t.dtype, t.shape});
    for (const auto& t : runner_->spec().outputs) outputs_.push_back({t.name, t.dtype, t.shape});
  }

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  bool WaitsOnPeers() const override { return true; }
  std::vector<CheckedFile> CheckedFiles() const override {
    const StageSpec& spec = runner_->spec();
    if (spec.segment_file.empty()) return {};
    return {{directory_ + "/" + spec.segment_file, spec.segment_sha256}};
  }
  Status Health() const override {
    if (!runner_->hop()) return Status::Ok();
    return runner_->hop()->Health().WithContext("its next tier");
  }
  bool KeepsCoded(const std::string& name, const std::string& codec) const override {
    return runner_->KeepsCodedInput(name, codec);
  }

  Result<TensorMap> Run(const TensorMap& inputs, server::RequestContext* context) const override {
    if (!context) return runner_->Run(inputs, nullptr);
    // Waiting since acceptance, less decoding: what this server's load added to the request.
    const double queue_ms = std::max(0.0, std::chrono::duration<double, std::milli>(
                                              std::chrono::steady_clock::now() - context->accepted)
                                                  .count() -
                                              context->decode_ms);
    CodedTensors coded;
    coded.inputs = std::move(context->coded_inputs);
    coded.output_codecs = context->output_codecs;
    auto trace = std::make_shared<RequestTrace>();
    auto outputs = runner_->Run(inputs, trace.get(),
                                RunContext{.decode_ms = context->decode_ms,
                                           .coded = &coded,
                                           .deadline = context->deadline,
                                           .cancelled = context->cancelled.get()});
    context->coded_outputs = std::move(coded.outputs);
    if (outputs.ok() && !trace->tiers.empty()) trace->tiers.front().queue_ms = queue_ms;
    if (outputs.ok()) {
      context->finish = [trace](double encode_ms, double total_ms,
                                inference::ModelInferResponse* response) {
        if (trace->tiers.empty()) return;
        // This tier's entry also counts encoding the answer, and its total runs from acceptance.
        trace->tiers.front().encode_ms += encode_ms;
        trace->tiers.front().total_ms = total_ms;
        (*response->mutable_parameters())[kTraceParameter].set_string_param(
            TraceToJson(*trace).dump());
      };
    }
    return outputs;
  }

 private:
  std::unique_ptr<StageRunner> runner_;
  std::string directory_;
  std::vector<TensorSpec> inputs_, outputs_;
};

}  // namespace

void RegisterStageBackend(const StageOptions& options) {
  server::RegisterBackend(
      repository::kStagePlatform,
      [options](const server::VersionFile& file,
                const repository::ModelConfig&) -> Result<std::unique_ptr<server::Backend>> {
        // The stage file's bytes the server read (and checked against its config): verified and
        // parsed as they are, never read again.
        const std::string& path = file.path;
        StageSpec spec;
        if (options.trusted_keys) {
          // REPO/MODEL/VERSION/stage.json: the place it must have been signed for.
          const std::filesystem::path version_dir = std::filesystem::path(path).parent_path();
          const std::string place =
              version_dir.parent_path().filename().string() + "/" + version_dir.filename().string();
          SEAM_ASSIGN_OR_RETURN(std::string verified,
                                options.trusted_keys->VerifiedStage(path, file.contents, place));
          SEAM_ASSIGN_OR_RETURN(spec, ParseStage(verified, path));
        } else {
          SEAM_ASSIGN_OR_RETURN(spec, ParseStage(file.contents, path));
        }
        const std::string directory = std::filesystem::path(path).parent_path().string();
        SEAM_ASSIGN_OR_RETURN(auto runner, StageRunner::Open(spec, directory, options));
        return std::unique_ptr<server::Backend>(new StageBackend(std::move(runner), directory));
      });
}

}  // namespace seam::pipeline
