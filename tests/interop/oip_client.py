#!/usr/bin/python3
"""An Open Inference Protocol client that seam did not write.

Generates Python stubs from proto/inference.proto with grpc_tools.protoc (Debian's
python3-grpc-tools) into a temporary directory, then, with plain grpcio, calls ServerLive,
ServerReady, ServerMetadata, ModelReady, ModelMetadata and ModelInfer (raw and typed contents)
against a running server, and checks the outputs byte for byte against a reference file.

Exit codes: 0 all checks passed, 1 a check failed, 77 python3-grpcio / grpc-tools missing (skip).
"""
import argparse
import array
import os
import sys
import tempfile

SKIP = 77


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True, help="HOST:PORT of the server")
    parser.add_argument("--proto", required=True, help="path of proto/inference.proto")
    parser.add_argument("--model", required=True)
    parser.add_argument("--input-name", required=True)
    parser.add_argument("--shape", required=True, help="comma-separated input shape")
    parser.add_argument("--input-file", required=True, help="raw FP32 input, little-endian")
    parser.add_argument("--output-name", required=True)
    parser.add_argument("--expected-file", required=True, help="raw FP32 expected output")
    args = parser.parse_args()

    try:
        import grpc
        from grpc_tools import protoc
    except ImportError as e:
        print("SKIP: python3-grpcio / python3-grpc-tools are not installed (%s)" % e)
        sys.exit(SKIP)

    with tempfile.TemporaryDirectory(prefix="seam_oip_stubs_") as stubs:
        proto_dir, proto_file = os.path.split(os.path.abspath(args.proto))
        include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
        rc = protoc.main(["grpc_tools.protoc", "-I" + proto_dir, "-I" + include,
                          "--python_out=" + stubs, "--grpc_python_out=" + stubs, proto_file])
        check(rc == 0, "grpc_tools.protoc failed on %s (exit %d)" % (args.proto, rc))
        sys.path.insert(0, stubs)
        module = os.path.splitext(proto_file)[0]
        pb = __import__(module + "_pb2")
        pb_grpc = __import__(module + "_pb2_grpc")
        run_checks(grpc, pb, pb_grpc, args)
    print("interop OK")


def run_checks(grpc, pb, pb_grpc, args):
    shape = [int(d) for d in args.shape.split(",")]
    with open(args.input_file, "rb") as f:
        raw_input = f.read()
    with open(args.expected_file, "rb") as f:
        expected = f.read()

    with grpc.insecure_channel(args.address) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        check(stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live, "ServerLive: not live")
        check(stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready, "ServerReady: not ready")
        server = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=10)
        check(server.name == "seam", "ServerMetadata: name %r" % server.name)
        check(stub.ModelReady(pb.ModelReadyRequest(name=args.model), timeout=10).ready,
              "ModelReady: %s not ready" % args.model)

        meta = stub.ModelMetadata(pb.ModelMetadataRequest(name=args.model), timeout=10)
        check(meta.name == args.model, "ModelMetadata: name %r" % meta.name)
        check(meta.platform == "onnxruntime_onnx", "ModelMetadata: platform %r" % meta.platform)
        check([t.name for t in meta.inputs] == [args.input_name],
              "ModelMetadata: inputs %s" % [t.name for t in meta.inputs])
        check(meta.inputs[0].datatype == "FP32", "ModelMetadata: datatype %s" % meta.inputs[0].datatype)
        declared = list(meta.inputs[0].shape)
        check(len(declared) == len(shape) and
              all(d == -1 or d == s for d, s in zip(declared, shape)),
              "ModelMetadata: input shape %s does not admit %s" % (declared, shape))
        check(args.output_name in [t.name for t in meta.outputs],
              "ModelMetadata: outputs %s" % [t.name for t in meta.outputs])

        # Raw contents.
        request = pb.ModelInferRequest(model_name=args.model, id="interop-raw")
        tensor = request.inputs.add(name=args.input_name, datatype="FP32", shape=shape)
        request.raw_input_contents.append(raw_input)
        request.outputs.add(name=args.output_name)
        response = stub.ModelInfer(request, timeout=30)
        check(response.id == "interop-raw", "ModelInfer: id %r" % response.id)
        check(response.model_name == args.model, "ModelInfer: model %r" % response.model_name)
        check([o.name for o in response.outputs] == [args.output_name],
              "ModelInfer: outputs %s" % [o.name for o in response.outputs])
        check(response.outputs[0].datatype == "FP32", "ModelInfer: datatype")
        check(response.raw_output_contents[0] == expected,
              "ModelInfer (raw): output differs from ONNX Runtime run in process")

        # Typed contents: the same numbers.
        values = array.array("f")
        values.frombytes(raw_input)
        request = pb.ModelInferRequest(model_name=args.model, id="interop-typed")
        tensor = request.inputs.add(name=args.input_name, datatype="FP32", shape=shape)
        tensor.contents.fp32_contents.extend(values)
        response = stub.ModelInfer(request, timeout=30)
        outputs = {o.name: i for i, o in enumerate(response.outputs)}
        check(response.raw_output_contents[outputs[args.output_name]] == expected,
              "ModelInfer (typed): output differs from ONNX Runtime run in process")

        # A bad request: INVALID_ARGUMENT with a message naming the input.
        request = pb.ModelInferRequest(model_name=args.model)
        request.inputs.add(name=args.input_name, datatype="FP64", shape=shape)
        request.raw_input_contents.append(raw_input)
        try:
            stub.ModelInfer(request, timeout=10)
            fail("ModelInfer with FP64: no error")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "bad request: code %s" % e.code())
            check("input '%s'" % args.input_name in e.details(), "bad request: %s" % e.details())


if __name__ == "__main__":
    main()
