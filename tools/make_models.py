#!/usr/bin/python3
"""Generate the small bundled ONNX test models for seam.

Usage: tools/make_models.py [OUTPUT_DIR]      (default: <repo>/models)

Needs only Debian's python3-onnx (1.12) and python3-numpy; run it with /usr/bin/python3.
The output is deterministic: weights come from np.random.default_rng(SEED + k), one generator
per model, so rerunning the script rewrites byte-identical files.

Every model has ir_version 8, opset 13 (domain ""), producer_name "seam-make-models", unique
non-empty node names, float32 weights, and passes onnx.checker.check_model and
onnx.shape_inference.infer_shapes(strict_mode=True) before it is saved.

Models
------
cnn_chain.onnx
    A straight CNN chain: "image" [N,3,32,32] -> Conv(3->8,k3,p1,bias) -> Relu -> MaxPool(2,2)
    -> Conv(8->16,k3,p1) -> BatchNormalization -> Relu -> MaxPool(2,2) -> Conv(16->32,k3,p1,bias)
    -> Relu -> GlobalAveragePool -> Flatten -> Gemm(32->10,transB=1) -> Softmax -> "probs" [N,10].

dag_blocks.onnx
    A DAG: stem Conv(3->16)+Relu -> ResNet basic block (16 ch, identity skip) -> residual block
    16->24 with stride 2 and a 1x1 stride-2 Conv projection on the skip -> Inception block with
    four branches (1x1 24->8; 1x1 24->16 -> Relu -> 3x3 16->16; 1x1 24->4 -> Relu -> 5x5 4->8;
    MaxPool k3 s1 p1 -> 1x1 24->8), Concat axis 1 (40 ch) -> Relu -> GlobalAveragePool ->
    Reshape(shape from a Constant node, [0,-1]) -> "features" [N,40] -> Gemm(40->10) ->
    "logits" [N,10].  Outputs, in order: "logits", "features" (the latter is produced
    mid-graph and also feeds the Gemm).
    The initializer "shared_w" ([16,16,3,3]) is used by two far-apart nodes: "b1_conv2" (the
    second Conv of the first residual block) and "inc_b2_conv3x3" (the 3x3 Conv of the
    Inception block's second branch).  The Constant node is "head_shape_const".

dag_blocks_external.onnx (+ dag_blocks_external.onnx.data)
    The same graph and weights as dag_blocks.onnx, saved with external data (one file,
    size_threshold=256 bytes, so tensors of 256 bytes or more live in the .data file).

tiny_golden.onnx
    A tiny fixed-batch model whose figures can be checked by hand:
    "x" [1,3,8,8] -> Conv "conv" (3->4, k3, pad 1, bias) -> Relu "relu" -> MaxPool "pool"
    (k2, s2) -> Flatten "flatten" -> Gemm "fc" (64->5, transB=1, C bias) -> "y" [1,5].

    Convention: Conv FLOPs = 2 * out_elems * (Cin/group * kH * kW) + out_elems (bias);
    Relu = out_elems; MaxPool = out_elems * kH * kW; Flatten = 0;
    Gemm = 2*M*N*K + M*N (bias).  Output bytes = elements * 4.
    Parameter bytes = initializer bytes (float32).

    node     output shape  elems  FLOPs                          out bytes  param bytes
    conv     [1,4,8,8]      256   2*256*(3*3*3) + 256 = 14080       1024    (108+4)*4 = 448
    relu     [1,4,8,8]      256   256                               1024    0
    pool     [1,4,4,4]       64   64 * 2*2 = 256                     256    0
    flatten  [1,64]          64   0                                  256    0
    fc       [1,5]            5   2*1*5*64 + 1*5 = 645                20    (320+5)*4 = 1300
    total                         15237                             2580    1748
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240601
IR_VERSION = 8
OPSET = 13
PRODUCER = "seam-make-models"
BATCH = "N"


class GraphBuilder:
    """Collects nodes and initializers; checks node names are unique and non-empty."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self._node_names = set()
        self._init_names = set()

    def weight(self, name, shape, scale=0.1):
        arr = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        return self.tensor(name, arr)

    def tensor(self, name, arr):
        assert name not in self._init_names, name
        self._init_names.add(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, outputs, name, **attrs):
        assert name and name not in self._node_names, name
        self._node_names.add(name)
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # Convenience wrappers -------------------------------------------------------------------
    def conv(self, name, x, cin, cout, k, stride=1, pad=None, bias=True, w=None, out=None):
        if pad is None:
            pad = k // 2
        if w is None:
            w = self.weight(name + "_w", (cout, cin, k, k))
        inputs = [x, w]
        if bias:
            inputs.append(self.weight(name + "_b", (cout,)))
        return self.node("Conv", inputs, [out or name + "_out"], name,
                         kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad, pad, pad, pad])

    def relu(self, name, x, out=None):
        return self.node("Relu", [x], [out or name + "_out"], name)


def make_model(builder, inputs, outputs, graph_name, doc):
    graph = helper.make_graph(builder.nodes, graph_name, inputs, outputs,
                              initializer=builder.inits)
    model = helper.make_model(graph, producer_name=PRODUCER,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = doc
    return model


def validate(model):
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    names = [n.name for n in model.graph.node]
    assert all(names) and len(set(names)) == len(names), "node names must be unique"


def image_input(name="image"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, 3, 32, 32])


# ---------------------------------------------------------------------------------------------
def build_cnn_chain():
    b = GraphBuilder(np.random.default_rng(SEED + 1))
    x = b.conv("conv1", "image", 3, 8, 3)
    x = b.relu("relu1", x)
    x = b.node("MaxPool", [x], ["pool1_out"], "pool1", kernel_shape=[2, 2], strides=[2, 2])

    x = b.conv("conv2", x, 8, 16, 3, bias=False)
    c = 16
    scale = b.tensor("bn2_scale", (1.0 + 0.1 * b.rng.standard_normal(c)).astype(np.float32))
    shift = b.weight("bn2_bias", (c,))
    mean = b.weight("bn2_mean", (c,))
    var = b.tensor("bn2_var", (0.5 + b.rng.random(c)).astype(np.float32))
    x = b.node("BatchNormalization", [x, scale, shift, mean, var], ["bn2_out"], "bn2",
               epsilon=1e-5)
    x = b.relu("relu2", x)
    x = b.node("MaxPool", [x], ["pool2_out"], "pool2", kernel_shape=[2, 2], strides=[2, 2])

    x = b.conv("conv3", x, 16, 32, 3)
    x = b.relu("relu3", x)
    x = b.node("GlobalAveragePool", [x], ["gap_out"], "gap")
    x = b.node("Flatten", [x], ["flatten_out"], "flatten", axis=1)
    x = b.node("Gemm", [x, b.weight("fc_w", (10, 32)), b.weight("fc_b", (10,))], ["logits"],
               "fc", transB=1)
    b.node("Softmax", [x], ["probs"], "softmax", axis=1)

    out = helper.make_tensor_value_info("probs", TensorProto.FLOAT, [BATCH, 10])
    return make_model(b, [image_input()], [out], "cnn_chain",
                      "Small CNN chain test model for seam.")


# ---------------------------------------------------------------------------------------------
def build_dag_blocks():
    b = GraphBuilder(np.random.default_rng(SEED + 2))
    # Stem: [N,3,32,32] -> [N,16,32,32]
    x = b.conv("stem_conv", "image", 3, 16, 3)
    stem = b.relu("stem_relu", x)

    # Residual block 1 (basic block, identity skip), 16 ch @ 32x32.
    shared_w = b.weight("shared_w", (16, 16, 3, 3))
    x = b.conv("b1_conv1", stem, 16, 16, 3)
    x = b.relu("b1_relu1", x)
    x = b.conv("b1_conv2", x, 16, 16, 3, w=shared_w)
    x = b.node("Add", [x, stem], ["b1_add_out"], "b1_add")
    b1 = b.relu("b1_relu2", x)

    # Residual block 2: 16 -> 24 ch, stride 2 (32x32 -> 16x16), 1x1 stride-2 Conv projection.
    x = b.conv("b2_conv1", b1, 16, 24, 3, stride=2)
    x = b.relu("b2_relu1", x)
    x = b.conv("b2_conv2", x, 24, 24, 3)
    skip = b.conv("b2_proj", b1, 16, 24, 1, stride=2)
    x = b.node("Add", [x, skip], ["b2_add_out"], "b2_add")
    b2 = b.relu("b2_relu2", x)

    # Inception block on 24 ch @ 16x16 -> 8 + 16 + 8 + 8 = 40 ch.
    br1 = b.conv("inc_b1_conv1x1", b2, 24, 8, 1)
    x = b.conv("inc_b2_conv1x1", b2, 24, 16, 1)
    x = b.relu("inc_b2_relu", x)
    br2 = b.conv("inc_b2_conv3x3", x, 16, 16, 3, w=shared_w)
    x = b.conv("inc_b3_conv1x1", b2, 24, 4, 1)
    x = b.relu("inc_b3_relu", x)
    br3 = b.conv("inc_b3_conv5x5", x, 4, 8, 5)
    x = b.node("MaxPool", [b2], ["inc_b4_pool_out"], "inc_b4_pool", kernel_shape=[3, 3],
               strides=[1, 1], pads=[1, 1, 1, 1])
    br4 = b.conv("inc_b4_conv1x1", x, 24, 8, 1)
    x = b.node("Concat", [br1, br2, br3, br4], ["inc_concat_out"], "inc_concat", axis=1)
    x = b.relu("inc_relu", x)

    # Head: GAP -> Reshape([0,-1]) -> "features" -> Gemm -> "logits".
    x = b.node("GlobalAveragePool", [x], ["gap_out"], "gap")
    shape = b.node("Constant", [], ["head_shape"], "head_shape_const",
                   value=numpy_helper.from_array(np.array([0, -1], dtype=np.int64),
                                                 "head_shape_value"))
    feats = b.node("Reshape", [x, shape], ["features"], "head_reshape")
    b.node("Gemm", [feats, b.weight("fc_w", (10, 40)), b.weight("fc_b", (10,))], ["logits"],
           "fc", transB=1)

    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [BATCH, 10]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, [BATCH, 40])]
    return make_model(b, [image_input()], outs, "dag_blocks",
                      "DAG test model for seam: residual and Inception blocks, a shared "
                      "initializer, a Constant node and two outputs.")


# ---------------------------------------------------------------------------------------------
def build_tiny_golden():
    b = GraphBuilder(np.random.default_rng(SEED + 3))
    x = b.conv("conv", "x", 3, 4, 3)
    x = b.relu("relu", x)
    x = b.node("MaxPool", [x], ["pool_out"], "pool", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Flatten", [x], ["flatten_out"], "flatten", axis=1)
    b.node("Gemm", [x, b.weight("fc_w", (5, 64)), b.weight("fc_b", (5,))], ["y"], "fc",
           transB=1)
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])
    return make_model(b, [inp], [out], "tiny_golden",
                      "Tiny fixed-batch model with hand-checkable FLOPs for seam.")


# ---------------------------------------------------------------------------------------------
def save(model, out_dir, filename, external=False):
    path = os.path.join(out_dir, filename)
    if external:
        location = filename + ".data"
        data_path = os.path.join(out_dir, location)
        # onnx appends to an existing data file, so start from scratch for a repeatable result.
        if os.path.exists(data_path):
            os.remove(data_path)
        model = onnx.ModelProto.FromString(model.SerializeToString())  # keep the caller's copy
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=location, size_threshold=256)
        onnx.checker.check_model(path)
    else:
        onnx.save_model(model, path)
    return path


def main(argv):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = argv[1] if len(argv) > 1 else os.path.join(repo, "models")
    os.makedirs(out_dir, exist_ok=True)

    cnn = build_cnn_chain()
    dag = build_dag_blocks()
    tiny = build_tiny_golden()
    for m in (cnn, dag, tiny):
        validate(m)

    written = [
        save(cnn, out_dir, "cnn_chain.onnx"),
        save(dag, out_dir, "dag_blocks.onnx"),
        save(dag, out_dir, "dag_blocks_external.onnx", external=True),
        os.path.join(out_dir, "dag_blocks_external.onnx.data"),
        save(tiny, out_dir, "tiny_golden.onnx"),
    ]
    for p in written:
        print(f"{os.path.getsize(p):8d}  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
