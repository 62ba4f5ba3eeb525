#include "server/backend.h"

#include <mutex>

#include "server/ort_backend.h"

namespace seam::server {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

// ONNX Runtime is the server's own backend; others register themselves.
Registry& Backends() {
  static Registry* registry = [] {
    auto* r = new Registry();
    r->factories[repository::kOnnxPlatform] = OpenOrtBackend;
    return r;
  }();
  return *registry;
}

}  // namespace

void RegisterBackend(const std::string& platform, BackendFactory factory) {
  Registry& r = Backends();
  std::lock_guard lock(r.mu);
  r.factories[platform] = std::move(factory);
}

Result<std::unique_ptr<Backend>> OpenBackend(const VersionFile& file,
                                             const repository::ModelConfig& config) {
  const std::string& path = file.path;
  BackendFactory factory;
  {
    Registry& r = Backends();
    std::lock_guard lock(r.mu);
    if (auto it = r.factories.find(config.platform); it != r.factories.end()) {
      factory = it->second;
    }
  }
  if (!factory) {
    return FailedPrecondition(path + ": platform \"" + config.platform +
                              "\" has no backend in this server (is it a seam executable?)");
  }
  // A backend reads files anyone with disk access may have written: whatever it throws is a
  // refusal of this version, not the end of the server (a poll thread has no one to catch it).
  try {
    return factory(file, config);
  } catch (const std::exception& e) {
    return Internal(path + ": the backend failed to open it: " + e.what());
  }
}

}  // namespace seam::server

namespace seam::server {

Status RequestContext::StillWanted(std::chrono::steady_clock::time_point now) const {
  const double in_server_ms = std::chrono::duration<double, std::milli>(now - accepted).count();
  auto waited = [&] {
    return " after " + std::to_string(static_cast<int64_t>(in_server_ms)) + " ms in the server";
  };
  if (cancelled && cancelled->load(std::memory_order_relaxed)) {
    return Cancelled("request " + request_id + " was cancelled by its caller" + waited());
  }
  if (oip::MsLeft(deadline, now) <= 0) {
    return DeadlineExceeded("request " + request_id + " reached its deadline" + waited() +
                            " before it could run; dropped unrun");
  }
  return Status::Ok();
}

}  // namespace seam::server
