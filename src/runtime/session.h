// Session: one ONNX Runtime inference session over a model or segment file, with seam's Tensor
// on both sides. ORT exceptions never escape: every failure is a Status naming the model and,
// for bad inputs, the input and the mismatch.
//
// Thread safety: Run() may be called from several threads at once (ORT sessions allow it).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"

namespace Ort {
struct Session;
}

namespace seam::runtime {

struct SessionOptions {
  int intra_op_threads = 1;
  // false disables every ORT graph optimisation: used where results must be bitwise comparable
  // between a model and its segments (fusions could differ across a cut).
  bool optimize = true;
  // Non-empty enables ONNX Runtime's profiler: it records every node run (and the session's own
  // events) to the Chrome-trace JSON file "<profile_prefix>_<timestamp>.json". Profiling adds
  // per-node overhead; seam uses it only to measure (seam profile), never to serve.
  std::string profile_prefix;
};

// A model's declared input or output (common/tensor.h).
using IoSpec = TensorSpec;

class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const std::string& path,
                                               const SessionOptions& options);
  // A session over a model already in memory: the bytes that were verified (a hash, a signature)
  // or decrypted are the bytes that run, with no second read of a file that may have changed.
  // `name` (the file's path) names it in messages; `external_data_dir` is where external
  // initializers are, "" if it has none. The bytes may be freed once this returns.
  static Result<std::unique_ptr<Session>> OpenBytes(std::string_view bytes, const std::string& name,
                                                    const SessionOptions& options,
                                                    const std::string& external_data_dir = "");
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<IoSpec>& inputs() const { return inputs_; }
  const std::vector<IoSpec>& outputs() const { return outputs_; }

  // Runs the model on `inputs` (every model input by name; extra entries are ignored) and returns
  // every output by name.
  Result<TensorMap> Run(const TensorMap& inputs) const;

  // Stops ONNX Runtime's profiler, writes its trace and returns the trace file's path. Only for a
  // session opened with a profile_prefix; not thread-safe against concurrent Run() calls.
  Result<std::string> EndProfiling();

 private:
  Session() = default;
  static Result<std::unique_ptr<Session>> Create(const std::string& name,
                                                 const std::string_view* bytes,
                                                 const SessionOptions& options,
                                                 const std::string& external_data_dir);
  std::string name_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<IoSpec> inputs_;
  std::vector<IoSpec> outputs_;
  bool profiling_ = false;
};

// "onnxruntime 1.29.0": the runtime that measurements were taken with.
std::string RuntimeVersion();

// Validates a tensor against an input's declared dtype and shape (dynamic dims match anything).
Status CheckInput(const IoSpec& spec, const Tensor& tensor);

}  // namespace seam::runtime
