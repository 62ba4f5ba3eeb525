// Models the server benchmark makes for itself (none is committed: they are large or derived).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "common/status.h"

namespace seam::bench {

// A multi-layer perceptron where batching pays: input "x" float [N, width], `layers` Gemm+Relu
// layers of width x width, output "y" float [N, width]. At batch 1 each layer is a
// matrix-vector product that reads all its weights for one row; batched, the weights are read
// once for every row. Weights from a fixed-seed generator.
onnx::ModelProto MakeGemmMlp(int width, int layers);

// `model` with a dynamic batch: the first dimension of every graph input and output becomes
// "N", a Reshape whose constant shape starts with that batch of 1 gets -1 there, and a Concat
// of a tensor with zeros from ConstantOfShape (a channel pad, as TensorFlow exports it) becomes
// a Pad, whose output has the batch of its input. For BlazeFace, whose export fixes batch 1.
// FAILED_PRECONDITION naming a node that cannot be made batch-dynamic this way.
Status MakeBatchDynamic(onnx::ModelProto& model);

}  // namespace seam::bench
