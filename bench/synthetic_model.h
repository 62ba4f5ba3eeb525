// A generated CNN-like ONNX model for benchmarks: large enough (thousands of nodes) to show how
// seam's graph passes scale, small enough in weights (8 channels, 1x1 kernels) that parsing and
// copying bytes does not hide them.
//
// The graph is a DAG with the shapes that make cutting interesting:
//  - residual blocks: Conv -> Relu -> Conv -> Add(skip) -> Relu, the skip spanning the block;
//  - every fourth block a two-branch block: Conv | Conv -> Relu, Concat (16 channels), then a
//    1x1 Conv back to 8 channels;
//  - every sixth block a long skip: an Add with the output of the block four blocks earlier, so
//    some crossing sets hold three or more tensors;
//  - Relu nodes at the end to reach the exact node count.
// Input "x" is float [N,8,16,16] with a symbolic batch "N"; the one output is [N,8,16,16].
// IR version 8, opset 13; every node has a unique name; it passes onnx::checker::check_model.
// The output is a pure function of `num_nodes`: weights come from a fixed-seed generator.
#pragma once

#include <onnx/onnx_pb.h>

namespace seam::bench {

// `num_nodes` must be at least 5 (one block); the graph has exactly that many nodes.
onnx::ModelProto MakeSyntheticCnn(int num_nodes);

}  // namespace seam::bench
