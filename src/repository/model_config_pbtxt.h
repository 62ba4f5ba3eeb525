// Triton's config.pbtxt (protobuf text format), read as seam's ModelConfig with Triton's meaning:
//   max_batch_size                 as config.json's (dims then exclude the batch dimension)
//   input / output                 name, data_type (TYPE_FP32...), dims
//   version_policy                 latest { num_versions }, all {}, specific { versions }
//   instance_group                 count (summed over groups), kind KIND_CPU or KIND_AUTO
//   dynamic_batching               preferred_batch_size, max_queue_delay_microseconds,
//                                  default_queue_policy { max_queue_size }
//   platform "onnxruntime_onnx" or backend "onnxruntime"; default_model_filename "model.onnx"
// Any other field of Triton's configuration is refused naming it and its line (never silently
// ignored, as Triton's would be by a server that does not implement it); so are values seam does
// not implement (kind KIND_GPU, another backend).
#pragma once

#include <string>

#include "common/status.h"
#include "repository/model_config.h"

namespace seam::repository {

inline constexpr char kPbtxtConfigFile[] = "config.pbtxt";

// Parses `text`, the contents of `path` (REPO/MODEL/config.pbtxt). Errors name the file, the line
// where the parser stopped and the field.
Result<ModelConfig> ParseModelConfigPbtxt(const std::string& text, const std::string& path,
                                          const std::string& model_name);

}  // namespace seam::repository
