#!/usr/bin/env python3
"""Generate tests/data/onnx/: small ONNX models written by the onnx package
itself, and what onnx.numpy_helper.to_array reads back from them, so the C++
reader is checked value for value against the reference implementation.

Good models (each NAME.onnx comes with NAME.expected.safetensors):
  net_f32, net_f16, net_f64  Conv + Gemm(transB=1) + MatMul + Gemm + ConvTranspose
                             net, weights as initializers, some as raw_data and
                             some in the typed fields (float_data, int32_data,
                             double_data), plus an INT64 Reshape shape and a
                             FLOAT16 weight reached through a Cast
  dtypes                     unconsumed initializers of every element type
                             (FLOAT8E4M3FN, newer than onnx 1.12, as a bare
                             data_type number; the checker is skipped for it)
  constants                  weights only in Constant nodes (value, value_float,
                             value_floats, value_int, value_ints)
  control_flow               an If whose branches hold Constant weights, a Loop
                             whose body has an initializer, reads an outer
                             initializer and nests another If
  external                   a net like net_f32 saved with save_as_external_data=True,
                             all_tensors_to_one_file=True, size_threshold=0: onnx moves
                             the raw_data tensors to external.onnx.data and leaves the
                             typed-field ones in the model, so both kinds are read

NAME.expected.safetensors holds, under the name QuantScope gives each tensor:
floating-point tensors as F32 (to_array(t).astype(float32)), integer tensors
in the type QuantScope keeps them in (UINT16 widened to I32, UINT32 and UINT64
to I64, BOOL as U8). Its metadata "expect" is a JSON list, in model order, of
{name, shape, type (ONNX element type name), axis (output-channel axis),
data (false when QuantScope lists the tensor without data)}.

Malformed models (bad/*.onnx) are good models changed after the fact; the C++
test lists the error each must produce.

Usage: /usr/bin/python3 tests/data/make_onnx_fixtures.py
"""

import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)

from st_write import write_safetensors  # noqa: E402

OUT = os.path.join(HERE, "onnx")
BAD = os.path.join(OUT, "bad")
OPSET = [helper.make_opsetid("", 13)]
rng = np.random.default_rng(20240611)

NP_TYPE = {
    TensorProto.FLOAT: np.float32,
    TensorProto.FLOAT16: np.float16,
    TensorProto.DOUBLE: np.float64,
}
TYPE_NAME = {v: k for k, v in TensorProto.DataType.items()}
FLOAT8E4M3FN = 17  # newer than onnx 1.12: written as a plain data_type number


def weights(shape, dtype):
    return (rng.standard_normal(shape) * 0.1).astype(dtype)


def typed_tensor(name, array, elem):
    """A TensorProto whose values sit in the typed field (float_data, int32_data, ...)."""
    return helper.make_tensor(name, elem, array.shape, array.flatten().tolist(), raw=False)


def raw_tensor(name, array):
    return numpy_helper.from_array(array, name)


def make_model(graph, **kw):
    model = helper.make_model(graph, opset_imports=kw.pop("opsets", OPSET),
                              producer_name="quantscope-fixtures", producer_version="1.0", **kw)
    helper.set_model_props(model, {"note": "hello", "origin": "make_onnx_fixtures.py"})
    return model


def net(elem):
    """Conv -> Reshape -> Gemm(transB=1) -> MatMul -> {Gemm, MatMul, Gemm(transB=1)}, plus a
    ConvTranspose on the Conv output and a MatMul reading a FLOAT16 weight through a Cast."""
    t = NP_TYPE[elem]
    init = [
        raw_tensor("conv.weight", weights((4, 3, 3, 3), t)),
        typed_tensor("conv.bias", weights((4,), t), elem),
        numpy_helper.from_array(np.array([1, 144], dtype=np.int64), "flat_shape"),
        typed_tensor("fc1.weight", weights((10, 144), t), elem),
        raw_tensor("fc1.bias", weights((10,), t)),
        raw_tensor("fc2.weight", weights((10, 6), t)),
        typed_tensor("fc3.weight", weights((6, 5), t), elem),
        raw_tensor("shared", weights((6, 6), t)),
        typed_tensor("deconv.weight", weights((4, 2, 2, 2), t), elem),
        raw_tensor("cast.weight", weights((6, 3), np.float16)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv"),
        helper.make_node("Reshape", ["c", "flat_shape"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
        helper.make_node("MatMul", ["h", "fc2.weight"], ["y"], name="fc2"),
        helper.make_node("Gemm", ["y", "fc3.weight"], ["z"], name="fc3"),
        # Two consumers that disagree: MatMul (last axis) comes first and wins.
        helper.make_node("MatMul", ["y", "shared"], ["s1"], name="shared_mm"),
        helper.make_node("Gemm", ["y", "shared"], ["s2"], name="shared_gemm", transB=1),
        helper.make_node("ConvTranspose", ["c", "deconv.weight"], ["d"], name="deconv"),
        helper.make_node("Cast", ["cast.weight"], ["cast.weight_t"], name="cast", to=elem),
        helper.make_node("MatMul", ["y", "cast.weight_t"], ["k"], name="cast_mm"),
    ]
    outs = [helper.make_tensor_value_info(n, elem, s) for n, s in (
        ("z", [1, 5]), ("s1", [1, 6]), ("s2", [1, 6]), ("d", [1, 2, 7, 7]), ("k", [1, 3]))]
    graph = helper.make_graph(nodes, "net",
                              [helper.make_tensor_value_info("x", elem, [1, 3, 8, 8])], outs, init)
    axes = {"conv.weight": 0, "conv.bias": 0, "flat_shape": 0, "fc1.weight": 0, "fc1.bias": 0,
            "fc2.weight": 1, "fc3.weight": 1, "shared": 1, "deconv.weight": 1, "cast.weight": 1}
    return make_model(graph), [(t.name, t, axes[t.name]) for t in init]


def dtypes():
    """Initializers of every element type, consumed by nothing."""
    def t(name, elem, array, raw):
        return raw_tensor(name, array) if raw else typed_tensor(name, array, elem)

    ints = np.array([[0, 1, -2], [3, -4, 5]])
    init = [
        t("bf16.typed", TensorProto.BFLOAT16, weights((2, 3), np.float32), False),
        t("i8.raw", TensorProto.INT8, ints.astype(np.int8), True),
        t("i8.typed", TensorProto.INT8, ints.astype(np.int8), False),
        t("u8.typed", TensorProto.UINT8, np.abs(ints).astype(np.uint8) * 50, False),
        t("i16.typed", TensorProto.INT16, ints.astype(np.int16) * 1000, False),
        t("u16.raw", TensorProto.UINT16, np.array([0, 1, 65535], dtype=np.uint16), True),
        t("u16.typed", TensorProto.UINT16, np.array([0, 40000], dtype=np.uint16), False),
        t("i32.typed", TensorProto.INT32, ints.astype(np.int32) * 100000, False),
        t("i64.typed", TensorProto.INT64, ints.astype(np.int64) << 40, False),
        t("u32.raw", TensorProto.UINT32, np.array([0, 4000000000], dtype=np.uint32), True),
        t("u64.typed", TensorProto.UINT64, np.array([7, 1 << 62], dtype=np.uint64), False),
        t("bool.raw", TensorProto.BOOL, np.array([True, False, True]), True),
        t("bool.typed", TensorProto.BOOL, np.array([False, True]), False),
        t("f32.scalar", TensorProto.FLOAT, np.array(1.5, dtype=np.float32), True),
        t("f32.empty", TensorProto.FLOAT, np.zeros((0, 3), dtype=np.float32), True),
        helper.make_tensor("str", TensorProto.STRING, [2], [b"a", b"bc"]),
        helper.make_tensor("c64", TensorProto.COMPLEX64, [2], [1 + 2j, 3 - 4j]),
    ]
    f8 = TensorProto(name="f8.raw", data_type=FLOAT8E4M3FN, dims=[4],
                     raw_data=bytes([0x00, 0x38, 0xB8, 0x7E]))  # 0, 1, -1, 448
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "dtypes",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                              init + [f8])
    entries = [(i.name, i, 0) for i in init] + [("f8.raw", f8, 0)]
    return make_model(graph), entries


def constants():
    """A MatMul/Gemm net whose every weight is a Constant node's value."""
    w1 = weights((4, 3), np.float32)
    w2 = weights((5, 3), np.float16)
    nodes = [
        helper.make_node("Constant", [], ["w1"], name="const_w1",
                         value=typed_tensor("ignored", w1, TensorProto.FLOAT)),
        helper.make_node("Constant", [], ["w2"], value=raw_tensor("ignored2", w2)),
        helper.make_node("Constant", [], ["bias"], value_floats=[0.5, -0.25, 0.125]),
        helper.make_node("Constant", [], ["scale"], value_float=2.0),
        helper.make_node("Constant", [], ["shape"], value_ints=[5, 1]),
        helper.make_node("Constant", [], ["axis"], value_int=-1),
        helper.make_node("MatMul", ["x", "w1"], ["a"]),
        helper.make_node("Add", ["a", "bias"], ["b"]),
        helper.make_node("Mul", ["b", "scale"], ["c"]),
        helper.make_node("Cast", ["w2"], ["w2f"], to=TensorProto.FLOAT),
        helper.make_node("Gemm", ["c", "w2f"], ["d"], transB=1),
        helper.make_node("Reshape", ["d", "shape"], ["e"]),
        helper.make_node("Unsqueeze", ["e", "axis"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "constants",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 1, 1])])
    entries = [
        ("w1", numpy_helper.from_array(w1), 1),
        ("w2", numpy_helper.from_array(w2), 0),
        ("bias", numpy_helper.from_array(np.array([0.5, -0.25, 0.125], np.float32)), 0),
        ("scale", numpy_helper.from_array(np.array(2.0, np.float32)), 0),
        ("shape", numpy_helper.from_array(np.array([5, 1], np.int64)), 0),
        ("axis", numpy_helper.from_array(np.array(-1, np.int64)), 0),
    ]
    return make_model(graph), entries


def control_flow():
    """If with Constant weights in both branches; a Loop body with its own initializer, a use
    of an outer initializer, and a nested If whose branches both name their constant deep_w."""
    f = TensorProto.FLOAT
    then_w, else_w = weights((4, 2), np.float32), weights((2, 4), np.float32)
    outer_w, body_w = weights((4, 4), np.float32), weights((4, 4), np.float32)
    deep_a, deep_b = weights((4,), np.float32), weights((4,), np.float32)

    def branch(name, const, w, op, **attrs):
        return helper.make_graph(
            [helper.make_node("Constant", [], [const], value=raw_tensor(const, w)),
             helper.make_node(op, ["x", const], [name + "_out"], **attrs)],
            name, [], [helper.make_tensor_value_info(name + "_out", f, [1, 2])])

    if_node = helper.make_node("If", ["cond"], ["branch_out"], name="branch",
                               then_branch=branch("then", "then_w", then_w, "MatMul"),
                               else_branch=branch("else", "else_w", else_w, "Gemm", transB=1))

    def deep(name, w):
        return helper.make_graph(
            [helper.make_node("Constant", [], ["deep_w"], value=raw_tensor("deep_w", w)),
             helper.make_node("Add", ["s1", "deep_w"], [name + "_out"])],
            name, [], [helper.make_tensor_value_info(name + "_out", f, [1, 4])])

    body = helper.make_graph(
        [helper.make_node("MatMul", ["state_in", "body_w"], ["s0"]),
         helper.make_node("MatMul", ["s0", "outer_w"], ["s1"]),
         helper.make_node("If", ["cond_in"], ["s2"], name="inner_if",
                          then_branch=deep("deep_then", deep_a),
                          else_branch=deep("deep_else", deep_b)),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("state_in", f, [1, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s2", f, [1, 4])],
        [raw_tensor("body_w", body_w)])
    loop = helper.make_node("Loop", ["trips", "cond", "x"], ["loop_state"], body=body)

    graph = helper.make_graph(
        [if_node, loop], "control_flow",
        [helper.make_tensor_value_info("x", f, [1, 4]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("trips", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("branch_out", f, [1, 2]),
         helper.make_tensor_value_info("loop_state", f, [1, 4])],
        [raw_tensor("outer_w", outer_w)])
    entries = [
        ("outer_w", numpy_helper.from_array(outer_w), 1),
        ("branch/then_w", numpy_helper.from_array(then_w), 1),
        ("branch/else_w", numpy_helper.from_array(else_w), 0),
        ("loop_state/body_w", numpy_helper.from_array(body_w), 1),
        ("loop_state/inner_if/deep_w", numpy_helper.from_array(deep_a), 0),
        ("loop_state/inner_if/deep_w#2", numpy_helper.from_array(deep_b), 0),
    ]
    return make_model(graph), entries


# What QuantScope keeps each element type as (safetensors dtype of the expected values).
KEPT = {
    TensorProto.FLOAT: "F32", TensorProto.FLOAT16: "F32", TensorProto.DOUBLE: "F32",
    TensorProto.BFLOAT16: "F32", TensorProto.INT8: "I8", TensorProto.UINT8: "U8",
    TensorProto.INT16: "I16", TensorProto.UINT16: "I32", TensorProto.INT32: "I32",
    TensorProto.INT64: "I64", TensorProto.UINT32: "I64", TensorProto.UINT64: "I64",
    TensorProto.BOOL: "U8", FLOAT8E4M3FN: "U8",
}


def write_expected(name, entries):
    expect, tensors = [], []
    for qname, t, axis in entries:
        has_data = t.data_type in KEPT
        expect.append({"name": qname, "shape": list(t.dims),
                       "type": TYPE_NAME.get(t.data_type, "FLOAT8E4M3FN"), "axis": axis,
                       "data": has_data})
        if not has_data:
            continue
        if t.data_type == FLOAT8E4M3FN:
            values = np.frombuffer(t.raw_data, dtype=np.uint8)
        else:
            values = numpy_helper.to_array(t)
        tensors.append((qname, KEPT[t.data_type], values.astype(np.float32)
                        if KEPT[t.data_type] == "F32" else values))
    write_safetensors(os.path.join(OUT, name + ".expected.safetensors"), tensors,
                      {"expect": json.dumps(expect), "onnx_version": onnx.__version__})


def save(name, model, entries, check=True, **kw):
    if check:
        onnx.checker.check_model(model)
    write_expected(name, entries)  # before saving: external data saving empties the tensors
    onnx.save(model, os.path.join(OUT, name + ".onnx"), **kw)


def bad_models():
    """Good models broken on purpose, each in one way the reader must report."""
    def simple(tensor):
        graph = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "bad", [],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
                                  [tensor])
        return make_model(graph)

    w = weights((2, 2), np.float32)
    t = raw_tensor("w", w)
    t.raw_data = t.raw_data[:12]
    onnx.save(simple(t), os.path.join(BAD, "raw_size.onnx"))

    t = typed_tensor("w", w, TensorProto.FLOAT)
    del t.float_data[-1]
    onnx.save(simple(t), os.path.join(BAD, "typed_count.onnx"))

    t = raw_tensor("w", w)
    t.dims[0] = -2
    onnx.save(simple(t), os.path.join(BAD, "negative_dim.onnx"))

    t = typed_tensor("w", np.array([1, 300], dtype=np.int32), TensorProto.INT32)
    t.data_type = TensorProto.INT8
    onnx.save(simple(t), os.path.join(BAD, "int8_range.onnx"))

    def external(name, location, offset, length, data_bytes):
        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 2],
                        data_location=TensorProto.EXTERNAL)
        for k, v in (("location", location), ("offset", offset), ("length", length)):
            if v is not None:
                t.external_data.add(key=k, value=str(v))
        onnx.save(simple(t), os.path.join(BAD, name + ".onnx"))
        if data_bytes is not None:
            with open(os.path.join(BAD, name + ".data"), "wb") as f:
                f.write(data_bytes)

    external("ext_offset", "ext_offset.data", 32, 16, w.tobytes())
    external("ext_range", "ext_range.data", 8, 16, w.tobytes())
    external("ext_length", "ext_length.data", 0, 12, w.tobytes())
    external("ext_short", "ext_short.data", None, None, w.tobytes()[:12])
    external("ext_escape", "../ext_offset.data", 0, 16, None)
    external("ext_bad_number", "ext_bad_number.data", "0x10", 16, w.tobytes())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(BAD)
    for elem, suffix in ((TensorProto.FLOAT, "f32"), (TensorProto.FLOAT16, "f16"),
                         (TensorProto.DOUBLE, "f64")):
        model, entries = net(elem)
        save("net_" + suffix, model, entries)
    model, entries = dtypes()
    save("dtypes", model, entries, check=False)  # the checker knows no FLOAT8 in onnx 1.12
    save("constants", *constants())
    save("control_flow", *control_flow())
    model, entries = net(TensorProto.FLOAT)
    model.graph.name = "net_external"
    save("external", model, entries, save_as_external_data=True, all_tensors_to_one_file=True,
         location="external.onnx.data", size_threshold=0)
    bad_models()
    # Confirm the producer reads its own output back, external data included.
    for name in ("net_f32", "external", "control_flow"):
        onnx.checker.check_model(os.path.join(OUT, name + ".onnx"))
        onnx.load(os.path.join(OUT, name + ".onnx"))


if __name__ == "__main__":
    main()
