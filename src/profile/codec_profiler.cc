#include "profile/codec_profiler.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "common/dtype.h"
#include "common/file_util.h"
#include "profile_format/timing.h"
#include "runtime/session.h"
#include "transport/codec.h"
#include "transport/wire_format.h"

namespace seam::profile {
namespace {

using Clock = std::chrono::steady_clock;

// Median throughput in GB/s of `step` (which processes `bytes` bytes of FP32 input per call):
// one untimed call, then `reps` samples, each repeating the step for at least min_batch_ms.
Result<double> MedianGbps(const CodecTimerSettings& settings, double bytes,
                          const std::function<Status()>& step) {
  SEAM_RETURN_IF_ERROR(step());
  std::vector<double> ms_per_call;
  for (int rep = 0; rep < settings.reps; ++rep) {
    const auto start = Clock::now();
    int calls = 0;
    double ms = 0;
    do {
      SEAM_RETURN_IF_ERROR(step());
      ++calls;
      ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    } while (ms < settings.min_batch_ms);
    ms_per_call.push_back(ms / calls);
  }
  const double median_ms = Summarize(std::move(ms_per_call)).median_ms;
  return median_ms > 0 ? bytes / (median_ms * 1e6) : 0.0;
}

}  // namespace

const std::vector<std::string>& DefaultProfiledCodecs() {
  static const std::vector<std::string> codecs = {
      "identity+lz4", "identity+zstd",    "fp16",
      "fp16+lz4",     "fp16+zstd",        "int8",
      "int8+zstd",    "int8_per_channel", "int8_per_channel+zstd"};
  return codecs;
}

Result<std::vector<Tensor>> SampleActivations(const SegmentTimer& timer, int count) {
  const graph::GraphView& view = timer.view();
  struct Candidate {
    std::string name;
    int64_t bytes = 0;
  };
  std::vector<Candidate> candidates;
  for (graph::NodeId n : view.order()) {
    for (graph::TensorId t : view.node(n).outputs) {
      const graph::TensorInfo& info = view.tensor(t);
      bool read_by_compute = false;
      for (graph::NodeId c : info.consumers) read_by_compute |= !view.node(c).is_constant;
      auto it = timer.fixed_types().find(info.name);
      if (info.is_model_output || !read_by_compute || it == timer.fixed_types().end() ||
          !it->second.fully_known() || it->second.elem_type != 1 /* FLOAT */) {
        continue;
      }
      candidates.push_back({info.name, ElementCount(it->second.dims) * 4});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.bytes > b.bytes; });
  if (static_cast<int>(candidates.size()) > count) candidates.resize(std::max(count, 0));
  if (candidates.empty()) return std::vector<Tensor>{};

  // The model once more, the chosen tensors as extra graph outputs (typed, as ONNX requires).
  onnx::ModelProto probe = timer.model().proto;
  for (const Candidate& c : candidates) {
    onnx::ValueInfoProto* out = probe.mutable_graph()->add_output();
    out->set_name(c.name);
    *out->mutable_type() = timer.symbolic_types().at(c.name).proto;
  }
  std::string bytes;
  if (!probe.SerializeToString(&bytes)) return Internal("cannot serialise the activation probe");
  const std::string path = timer.scratch_dir() + "/activations.onnx";
  SEAM_RETURN_IF_ERROR(WriteFileAtomic(path, bytes));
  runtime::SessionOptions options;
  options.intra_op_threads = timer.settings().threads;
  options.optimize = false;  // every chosen tensor exists as computed, unfused
  SEAM_ASSIGN_OR_RETURN(auto session, runtime::Session::Open(path, options));
  SEAM_ASSIGN_OR_RETURN(TensorMap outputs, session->Run(timer.inputs()));
  std::vector<Tensor> tensors;
  for (const Candidate& c : candidates) {
    auto it = outputs.find(c.name);
    if (it == outputs.end()) return Internal("activation probe did not return '" + c.name + "'");
    tensors.push_back(std::move(it->second));
  }
  return tensors;
}

Result<std::vector<CodecThroughput>> MeasureCodecs(const std::vector<Tensor>& tensors,
                                                   const std::vector<std::string>& codecs,
                                                   const CodecTimerSettings& settings) {
  if (tensors.empty()) return InvalidArgument("no tensors to measure codecs on");
  double original = 0;
  for (const Tensor& t : tensors) original += static_cast<double>(t.byte_size());
  std::vector<CodecThroughput> results;
  for (const std::string& name : codecs) {
    auto spec = transport::ParseCodec(name);
    if (!spec.ok()) return spec.status().WithContext("codec to profile");
    std::vector<std::string> wire(tensors.size());
    double serialized = 0;
    auto encode = [&]() -> Status {
      for (size_t i = 0; i < tensors.size(); ++i) {
        SEAM_ASSIGN_OR_RETURN(transport::EncodedTensor encoded,
                              transport::Encode(tensors[i], *spec));
        wire[i] = transport::Serialize(encoded);
      }
      return Status::Ok();
    };
    auto decode = [&]() -> Status {
      for (const std::string& bytes : wire) {
        SEAM_ASSIGN_OR_RETURN(transport::EncodedTensor encoded, transport::ParseEncoded(bytes));
        SEAM_RETURN_IF_ERROR(transport::Decode(encoded).status());
      }
      return Status::Ok();
    };
    CodecThroughput c;
    c.codec = name;
    SEAM_ASSIGN_OR_RETURN(c.encode_gbps, MedianGbps(settings, original, encode));
    for (const std::string& bytes : wire) serialized += static_cast<double>(bytes.size());
    SEAM_ASSIGN_OR_RETURN(c.decode_gbps, MedianGbps(settings, original, decode));
    c.ratio = serialized / original;
    results.push_back(std::move(c));
  }
  return results;
}

}  // namespace seam::profile
