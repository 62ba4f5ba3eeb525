// codec_bench: how fast each transport codec encodes and decodes an activation-like tensor, how
// small it makes it and how much it changes it, against memcpy of the same bytes in the same run
// (the baseline every ratio divides by).
//
// The tensor: FP32 [1, 64, H, W] of --mib MiB (default 4), ReLU output: ~50% exact zeros, the rest
// half-normal (|N(0, 1)|), deterministic. For each codec, the median over --reps of:
//   encode   Encode(tensor, spec): lossy stage + lossless stage, payload allocated;
//   decode   Decode(encoded): validation + lossless + inverse lossy stage, tensor allocated.
// Throughput is GB/s (10^9 bytes) of FP32 input; "x memcpy" is time / memcpy time. Size is the
// serialized EncodedTensor (header included) over the FP32 bytes. The error is MeasureError's.
// Rows "fp16 kernel (portable)" time the portable conversion loops alone, so that machines
// without F16C can see what they would get.
// Goal: >= 1 GB/s on one core for fp16, int8 and int8_per_channel, encode and decode; a missed goal
// is reported, not an error. Exit status: 0 unless a step fails.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/status.h"
#include "transport/codec.h"
#include "transport/codec_error.h"
#include "transport/half.h"
#include "transport/wire_format.h"

namespace seam::bench {
namespace {

using transport::CodecSpec;
using transport::EncodedTensor;

constexpr double kGoalGbPerS = 1.0;

struct Options {
  double mib = 4;
  int reps = 20;
  std::string json_path;
  std::vector<std::string> codecs = {"identity",
                                     "identity+zstd",
                                     "identity+lz4",
                                     "fp16",
                                     "fp16+zstd",
                                     "fp16+lz4",
                                     "int8",
                                     "int8+zstd",
                                     "int8+lz4",
                                     "int8_per_channel",
                                     "int8_per_channel+zstd",
                                     "int8_per_channel+lz4"};
};

struct Row {
  std::string name;
  double encode_ms = 0;
  double decode_ms = 0;
  double size_ratio = 1;  // serialized bytes / FP32 bytes
  transport::CodecError error;
  bool has_goal = false;
};

// Median wall time of `reps` runs of `step`, after one warm-up run that is not counted (it pays
// for first-touch page faults and lazy initialisation, which a long-running server pays once).
Result<double> MedianMs(int reps, const std::function<Status()>& step) {
  SEAM_RETURN_IF_ERROR(step());
  std::vector<double> times;
  for (int rep = 0; rep < reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    SEAM_RETURN_IF_ERROR(step());
    const auto stop = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(times.begin(), times.end());
  const size_t mid = times.size() / 2;
  return times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

// [1, 64, H, W] with W the largest power of two <= sqrt(H * W) that divides it: 4 MiB gives
// [1, 64, 128, 128].
Tensor ActivationTensor(double mib) {
  const int64_t channels = 64;
  const int64_t plane = std::max<int64_t>(1, static_cast<int64_t>(mib * (1 << 20) / 4) / channels);
  int64_t width = 1;
  while ((width * 2) * (width * 2) <= plane && plane % (width * 2) == 0) width *= 2;
  Tensor t = Tensor::Zeros(DType::kFloat32, {1, channels, plane / width, width});
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* p = t.data_as<float>();
  for (size_t i = 0; i < t.data.size() / 4; ++i) p[i] = std::max(normal(rng), 0.0f);
  return t;
}

double GbPerS(size_t bytes, double ms) { return ms > 0 ? bytes / (ms * 1e6) : 0; }

bool GoalMet(const Row& r, size_t bytes) {
  return GbPerS(bytes, r.encode_ms) >= kGoalGbPerS && GbPerS(bytes, r.decode_ms) >= kGoalGbPerS;
}

Result<Row> MeasureCodec(const Tensor& t, const std::string& spec_text, int reps) {
  SEAM_ASSIGN_OR_RETURN(const CodecSpec spec, transport::ParseCodec(spec_text));
  Row row{.name = spec_text};
  row.has_goal = transport::IsLossy(spec) && spec.lossless == transport::LosslessStage::kNone;
  EncodedTensor encoded;
  SEAM_ASSIGN_OR_RETURN(row.encode_ms, MedianMs(reps, [&]() -> Status {
                          SEAM_ASSIGN_OR_RETURN(encoded, transport::Encode(t, spec));
                          return Status::Ok();
                        }));
  Tensor decoded;
  SEAM_ASSIGN_OR_RETURN(row.decode_ms, MedianMs(reps, [&]() -> Status {
                          SEAM_ASSIGN_OR_RETURN(decoded, transport::Decode(encoded));
                          return Status::Ok();
                        }));
  row.size_ratio = static_cast<double>(transport::Serialize(encoded).size()) / t.byte_size();
  row.error = transport::MeasureError(t, decoded);
  return row;
}

// The portable fp16 loops alone (no allocation): what a CPU without F16C gets.
Result<Row> MeasurePortableFp16(const Tensor& t, int reps) {
  const size_t n = t.data.size() / 4;
  std::vector<uint16_t> halves(n);
  Tensor decoded = Tensor::Zeros(DType::kFloat32, t.shape);
  Row row{.name = "fp16 kernel (portable)"};
  SEAM_ASSIGN_OR_RETURN(row.encode_ms, MedianMs(reps, [&] {
                          transport::half::FloatToHalfPortable(t.data_as<float>(), halves.data(),
                                                               n);
                          return Status::Ok();
                        }));
  SEAM_ASSIGN_OR_RETURN(row.decode_ms, MedianMs(reps, [&] {
                          transport::half::HalfToFloatPortable(halves.data(),
                                                               decoded.data_as<float>(), n);
                          return Status::Ok();
                        }));
  row.size_ratio = 0.5;
  row.error = transport::MeasureError(t, decoded);
  row.has_goal = true;
  return row;
}

void PrintReport(const Tensor& t, double memcpy_ms, const std::vector<Row>& rows, int reps) {
  const size_t bytes = t.byte_size();
  std::printf(
      "codec_bench: FP32 %s (%.2f MiB), ReLU activations, median of %d; fp16 path: %s\n"
      "memcpy baseline: %.3f ms = %.2f GB/s\n\n",
      ShapeToString(t.shape).c_str(), bytes / 1048576.0, reps,
      transport::half::HasF16c() ? "F16C" : "portable", memcpy_ms, GbPerS(bytes, memcpy_ms));
  std::printf("%-24s %9s %9s %9s %9s %8s %10s %10s  %s\n", "codec", "enc GB/s", "x memcpy",
              "dec GB/s", "x memcpy", "size", "rel_l2", "max_abs", "goal >= 1 GB/s");
  for (const Row& r : rows) {
    std::printf("%-24s %9.2f %9.1f %9.2f %9.1f %8.4f %10.2e %10.2e  %s\n", r.name.c_str(),
                GbPerS(bytes, r.encode_ms), r.encode_ms / memcpy_ms, GbPerS(bytes, r.decode_ms),
                r.decode_ms / memcpy_ms, r.size_ratio, r.error.rel_l2, r.error.max_abs,
                !r.has_goal         ? "-"
                : GoalMet(r, bytes) ? "met"
                                    : "NOT met");
  }
}

Status WriteJson(const std::string& path, const Tensor& t, double memcpy_ms,
                 const std::vector<Row>& rows, int reps) {
  const size_t bytes = t.byte_size();
  nlohmann::json codecs = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json row = {{"codec", r.name},
                          {"encode_ms", r.encode_ms},
                          {"decode_ms", r.decode_ms},
                          {"encode_gb_per_s", GbPerS(bytes, r.encode_ms)},
                          {"decode_gb_per_s", GbPerS(bytes, r.decode_ms)},
                          {"encode_ratio_to_memcpy", r.encode_ms / memcpy_ms},
                          {"decode_ratio_to_memcpy", r.decode_ms / memcpy_ms},
                          {"size_ratio", r.size_ratio},
                          {"max_abs_error", r.error.max_abs},
                          {"rel_l2_error", r.error.rel_l2}};
    if (r.has_goal) {
      row["goal_gb_per_s"] = kGoalGbPerS;
      row["met"] = GoalMet(r, bytes);
    }
    codecs.push_back(std::move(row));
  }
  const nlohmann::json doc = {{"benchmark", "codec_bench"},
                              {"shape", t.shape},
                              {"bytes", bytes},
                              {"repetitions", reps},
                              {"fp16_path", transport::half::HasF16c() ? "f16c" : "portable"},
                              {"memcpy_ms", memcpy_ms},
                              {"memcpy_gb_per_s", GbPerS(bytes, memcpy_ms)},
                              {"codecs", codecs}};
  return WriteFileAtomic(path, doc.dump(2) + "\n");
}

Status Run(const Options& options) {
  const Tensor t = ActivationTensor(options.mib);
  std::vector<std::byte> copy(t.data.size());
  SEAM_ASSIGN_OR_RETURN(const double memcpy_ms, MedianMs(options.reps, [&] {
                          std::memcpy(copy.data(), t.data.data(), t.data.size());
                          return Status::Ok();
                        }));
  std::vector<Row> rows;
  for (const std::string& spec : options.codecs) {
    Result<Row> row = MeasureCodec(t, spec, options.reps);
    if (!row.ok()) return row.status().WithContext(spec);
    rows.push_back(std::move(row).value());
  }
  SEAM_ASSIGN_OR_RETURN(Row portable, MeasurePortableFp16(t, options.reps));
  rows.push_back(std::move(portable));
  PrintReport(t, memcpy_ms, rows, options.reps);
  if (!options.json_path.empty()) {
    SEAM_RETURN_IF_ERROR(WriteJson(options.json_path, t, memcpy_ms, rows, options.reps));
  }
  return Status::Ok();
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options options;
  CLI::App app{"codec_bench: transport codec throughput, size and error against memcpy"};
  app.add_option("--mib", options.mib, "size of the FP32 tensor in MiB")
      ->check(CLI::Range(0.001, 4096.0));
  app.add_option("--reps", options.reps, "repetitions per step (the median is reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--codecs", options.codecs, "codec specs to measure (default: all)");
  app.add_option("--json", options.json_path, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  const seam::Status status = seam::bench::Run(options);
  if (!status.ok()) {
    std::fprintf(stderr, "codec_bench: error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
