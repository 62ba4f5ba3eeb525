// Building self-contained ONNX models, one per segment of a partition.
//
// Each segment keeps the source model's IR version, opset imports and local functions, carries
// only the initializers and constant nodes its own nodes read (a weight shared by nodes on both
// sides of a cut is copied into both segments), takes as inputs the tensors it reads from model
// inputs or earlier segments, and outputs the tensors later segments read plus the model outputs
// it produces. Boundary tensors keep the symbolic types of the source (a dynamic batch stays
// dynamic). Every segment passes the ONNX checker before it is returned.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "graph/graph_view.h"
#include "graph/manifest.h"
#include "graph/model_loader.h"
#include "graph/partition.h"
#include "graph/shape_inference.h"

namespace seam::graph {

struct SegmentModel {
  onnx::ModelProto model;
  SegmentInfo info;  // file names and hashes are filled in when written
};

Result<std::vector<SegmentModel>> BuildSegments(const LoadedModel& source, const GraphView& view,
                                                const Partition& partition, const TypeTable& types);

struct SplitOptions {
  // Store initializers of at least `external_threshold_bytes` in DIR/segment_k.onnx.data.
  bool external_data = false;
  size_t external_threshold_bytes = 1024;
};

// Writes DIR/segment_k.onnx (+ .data) and DIR/manifest.json; creates DIR if needed.
Result<Manifest> WriteSplit(std::vector<SegmentModel>& segments, const LoadedModel& source,
                            const std::vector<std::vector<std::string>>& boundaries,
                            const std::string& directory, const SplitOptions& options);

// The whole split pipeline on a loaded model: view, types, partition, segments, files.
Result<Manifest> SplitModel(const LoadedModel& source, const std::vector<BoundarySpec>& boundaries,
                            const std::string& directory, const SplitOptions& options);

}  // namespace seam::graph
