// Floating-point operation counts per node, from fixed shapes.
//
// Conventions (documented in docs/analysis.md, checked by hand in the golden test):
//  - a multiply-add is 2 FLOPs; a bias add is 1 FLOP per output element;
//  - Conv: 2 * out_elems * (C_in/group * prod(kernel)) [+ out_elems with bias];
//    ConvTranspose: 2 * in_elems * (C_out/group * prod(kernel)) [+ out_elems with bias];
//  - Gemm: 2*M*N*K [+ M*N with C]; MatMul: 2 * out_elems * K;
//  - MaxPool/AveragePool/LpPool: out_elems * prod(kernel); global pooling: in_elems;
//  - element-wise ops: out_elems per operation (n-input Sum/Max/Min/Mean: (n-1) * out_elems);
//  - BatchNormalization: 2 per element (scale and shift, as at inference);
//    Instance/Layer/GroupNormalization: 8 per element; Softmax/LogSoftmax: 3 per element;
//  - reductions: in_elems; Resize: out_elems (nearest) or 4 * out_elems (linear/cubic);
//  - data movement (Reshape, Transpose, Concat, Slice, Gather, Pad...): 0.
// Ops outside these lists, and nodes whose shapes are not fully known, report flops_known=false.
#pragma once

#include <cstdint>

#include "graph/graph_view.h"
#include "graph/shape_inference.h"

namespace seam::graph {

struct FlopCount {
  int64_t flops = 0;
  bool known = true;
};

FlopCount CountFlops(const NodeInfo& node, const TypeTable& types);

}  // namespace seam::graph
