#!/usr/bin/python3
"""Writes small, readable reproducers of the fuzzer's findings next to this script.

Each model passes onnx.checker.check_model (so LoadModelFromBytes accepts it) and then breaks a
later stage of `seam analyze`. Run with Debian's python3-onnx: /usr/bin/python3 make_repros.py
"""

import os

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def tensor(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


w = numpy_helper.from_array(np.zeros([4, 3, 3, 3], np.float32), "w")

# ONNX 1.12's convPoolShapeInference divides by each stride: strides=[0,1] is SIGFPE (Conv and
# every pooling op; the checker does not look at attribute values).
save("conv_zero_stride",
     [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], strides=[0, 1])],
     [tensor("x", [1, 3, 8, 8])], [tensor("y", ["n", "c", "h", "w"])], [w])
save("maxpool_zero_stride",
     [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], strides=[0, 1])],
     [tensor("x", [1, 3, 8, 8])], [tensor("y", ["n", "c", "h", "w"])])

# Element count of an input overflows int64 (3 * 2^31 * 2^31 > 2^63): ElementCount.
save("huge_input_elements",
     [helper.make_node("Relu", ["x"], ["y"], name="relu")],
     [tensor("x", [1, 3, 2**31, 2**31])], [tensor("y", ["n", "c", "h", "w"])])

# Element count fits (2^61) but bytes (x4) do not: Describe in analysis.cc.
save("huge_input_bytes",
     [helper.make_node("Relu", ["x"], ["y"], name="relu")],
     [tensor("x", [1, 2**61])], [tensor("y", ["n", "c"])])

# Gemm FLOPs 2 * M*N * K = 2 * 2^50 * 2^25 overflow: CountFlops.
save("gemm_flops_overflow",
     [helper.make_node("Gemm", ["a", "b"], ["y"], name="gemm")],
     [tensor("a", [2**25, 2**25]), tensor("b", [2**25, 2**25])], [tensor("y", ["m", "n"])])

# Conv FLOPs 2 * out_elems * (C_in * kH * kW) = 2 * 2^40 * 2^30 overflow: CountFlops.
save("conv_flops_overflow",
     [helper.make_node("Conv", ["x", "wx"], ["y"], name="conv", kernel_shape=[1, 1])],
     [tensor("x", [1, 2**30, 2**30, 1]), tensor("wx", [2**10, 2**30, 1, 1])],
     [tensor("y", ["n", "c", "h", "w"])])

# An initializer whose dims multiply past int64 (its 4 bytes of data do not match them; the
# checker does not compare): LightCopy in shape_inference.cc.
big = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[2**32 + 1, 2**32 + 1], raw_data=b"\0" * 4)
save("initializer_dims_overflow",
     [helper.make_node("Add", ["x", "big"], ["y"], name="add")],
     [tensor("x", [1])], [tensor("y", ["a", "b"])], [big])
