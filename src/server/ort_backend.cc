#include "server/ort_backend.h"

#include <atomic>
#include <filesystem>
#include <vector>

#include "runtime/session.h"

namespace seam::server {
namespace {

class OrtBackend final : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(const VersionFile& file,
                                               const repository::ModelConfig& config) {
    const std::string directory = std::filesystem::path(file.path).parent_path().string();
    std::unique_ptr<OrtBackend> backend(new OrtBackend());
    runtime::SessionOptions options;
    options.intra_op_threads = config.intra_op_threads;
    for (int i = 0; i < config.instance_count; ++i) {
      // From the bytes the server checked (and decrypted), not the file read again.
      SEAM_ASSIGN_OR_RETURN(
          auto session, runtime::Session::OpenBytes(file.contents, file.path, options, directory));
      auto instance = std::make_unique<Instance>();
      instance->session = std::move(session);
      backend->instances_.push_back(std::move(instance));
    }
    return std::unique_ptr<Backend>(std::move(backend));
  }

  const std::vector<TensorSpec>& inputs() const override {
    return instances_.front()->session->inputs();
  }
  const std::vector<TensorSpec>& outputs() const override {
    return instances_.front()->session->outputs();
  }
  int instance_count() const override { return static_cast<int>(instances_.size()); }

  Result<TensorMap> Run(const TensorMap& inputs, RequestContext* /*context*/) const override {
    // Least busy instance, scanning from a rotating start so that ties spread round-robin. Two
    // callers may pick the same instance at once; ORT sessions allow concurrent runs, so that
    // only costs a little balance.
    const size_t n = instances_.size();
    const size_t start = next_.fetch_add(1, std::memory_order_relaxed) % n;
    const Instance* chosen = instances_[start].get();
    for (size_t k = 1; k < n; ++k) {
      const Instance* candidate = instances_[(start + k) % n].get();
      if (candidate->in_flight.load(std::memory_order_relaxed) <
          chosen->in_flight.load(std::memory_order_relaxed)) {
        chosen = candidate;
      }
    }
    chosen->in_flight.fetch_add(1, std::memory_order_relaxed);
    Result<TensorMap> outputs = chosen->session->Run(inputs);
    chosen->in_flight.fetch_sub(1, std::memory_order_relaxed);
    return outputs;
  }

 private:
  struct Instance {
    std::unique_ptr<runtime::Session> session;
    mutable std::atomic<int> in_flight{0};
  };
  OrtBackend() = default;

  std::vector<std::unique_ptr<Instance>> instances_;
  mutable std::atomic<uint64_t> next_{0};
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenOrtBackend(const VersionFile& file,
                                                const repository::ModelConfig& config) {
  return OrtBackend::Open(file, config);
}

}  // namespace seam::server
