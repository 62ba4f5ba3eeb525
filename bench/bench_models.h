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

// A model where dividing it pays on a weak device: a camera-sized input ("frame", float
// [1, 1, side, side]) reduced cheaply (AveragePool pool x pool, Flatten) to a small feature
// vector, then `layers` heavy Gemm+Relu layers of `width` (output "y", float [1, width]). Sending
// the frame costs the link; running the layers costs the device; the cut after the pooling
// sends a few KB and leaves the heavy part to a faster tier. Weights from a fixed-seed generator.
onnx::ModelProto MakePooledMlp(int side, int pool, int width, int layers);

// `model` with a dynamic batch: the first dimension of every graph input and output becomes
// "N", a Reshape whose constant shape starts with that batch of 1 gets -1 there, and a Concat
// of a tensor with zeros from ConstantOfShape (a channel pad, as TensorFlow exports it) becomes
// a Pad, whose output has the batch of its input. For BlazeFace, whose export fixes batch 1.
// FAILED_PRECONDITION naming a node that cannot be made batch-dynamic this way.
Status MakeBatchDynamic(onnx::ModelProto& model);

}  // namespace seam::bench
