#!/usr/bin/env python3
"""Generate the GGUF fixtures in tests/data/gguf/ for tests/engine/tst_gguf.cpp.

Written from the GGUF specification (ggml docs/gguf.md); Debian has no gguf Python package, and
the fixtures should not depend on the code they test.

k_quants.gguf (GGUF v3, general.alignment = 64):
  - tensors of several ggml types whose data are ggml's own blocks from tests/data/ggml/
    (q4_K, q6_K, q8_0, q2_K, q3_K as a 3-D tensor, q5_K, q4_0), plus f32 and f16 tensors,
  - two tensors of types QuantScope cannot decode yet (iq4_nl and mxfp4, random bytes): they
    must be listed with their type names and sizes,
  - metadata with every scalar type, strings needing escapes, arrays of every kind, arrays of
    arrays, an empty array and long arrays that are summarised.
  k_quants.expected.json holds what `quantscope-cli inspect --json` must report for it (shapes
  are ggml's ne reversed; metadata values rendered as text, written out by hand below), and
  per tensor the golden file its data came from and its byte offset in the file.

v2_default_alignment.gguf (GGUF v2, no general.alignment, so 32): an f32 and a q8_0 tensor.

Usage: /usr/bin/python3 tests/data/make_gguf_fixtures.py   (deterministic output)
"""

import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "ggml")
OUT_DIR = os.path.join(HERE, "gguf")
sys.dont_write_bytecode = True

# ggml type ids, element count and bytes per block (ggml.h / ggml-common.h).
GGML_TYPES = {
    "f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q4_1": (3, 32, 20),
    "q5_0": (6, 32, 22), "q5_1": (7, 32, 24), "q8_0": (8, 32, 34), "q2_K": (10, 256, 84),
    "q3_K": (11, 256, 110), "q4_K": (12, 256, 144), "q5_K": (13, 256, 176),
    "q6_K": (14, 256, 210), "iq4_nl": (20, 32, 18), "bf16": (30, 1, 2), "mxfp4": (39, 32, 17),
}

# Metadata value types (gguf_metadata_value_type).
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMATS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
                  BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}


def gguf_string(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype, value):
    """value for ARRAY is (element_type, [elements]); nested arrays are (ARRAY, [(t, [...]), ...])."""
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        etype, elements = value
        out = struct.pack("<IQ", etype, len(elements))
        for e in elements:
            out += gguf_value(etype, e)
        return out
    return struct.pack(SCALAR_FORMATS[vtype], value)


def align(n, a):
    return n + (a - n % a) % a


def write_gguf(path, version, metadata, tensors, alignment):
    """metadata: [(key, type, value)]; tensors: [(name, ne, type_name, data_bytes)].
    Returns each tensor's absolute data offset."""
    header = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    for key, vtype, value in metadata:
        header += gguf_string(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
    rel, offsets = 0, []
    infos = b""
    for name, ne, tname, data in tensors:
        type_id, block, block_bytes = GGML_TYPES[tname]
        assert ne[0] % block == 0 and len(data) == int(np.prod(ne)) // block * block_bytes, name
        infos += gguf_string(name) + struct.pack("<I", len(ne))
        infos += b"".join(struct.pack("<Q", d) for d in ne)
        infos += struct.pack("<IQ", type_id, rel)
        offsets.append(rel)
        rel = align(rel + len(data), alignment)
    head = header + infos
    data_start = align(len(head), alignment)
    blob = bytearray(head + b"\0" * (data_start - len(head)))
    for (name, ne, tname, data), off in zip(tensors, offsets):
        assert len(blob) <= data_start + off
        blob += b"\0" * (data_start + off - len(blob))
        blob += data
    with open(path, "wb") as f:
        f.write(bytes(blob))
    return len(head), data_start, [data_start + o for o in offsets]


def golden(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return f.read()


def k_quants():
    rng = np.random.default_rng(20240601)
    tokens = ["<tok%d>" % i for i in range(100)]
    # (key, type, value, expected text)
    metadata = [
        ("general.architecture", STRING, "llama", "llama"),
        ("general.name", STRING, "QuantScope GGUF fixture", "QuantScope GGUF fixture"),
        ("general.alignment", U32, 64, "64"),
        ("general.quantization_version", U32, 2, "2"),
        ("test.uint8", U8, 200, "200"),
        ("test.int8", I8, -100, "-100"),
        ("test.uint16", U16, 60000, "60000"),
        ("test.int16", I16, -30000, "-30000"),
        ("test.uint32", U32, 4000000000, "4000000000"),
        ("test.int32", I32, -2000000000, "-2000000000"),
        ("test.uint64", U64, 18446744073709551615, "18446744073709551615"),
        ("test.int64", I64, -9223372036854775808, "-9223372036854775808"),
        ("test.float32", F32, 0.1, "0.1"),           # float32(0.1), shortest round-trip form
        ("test.float32_big", F32, 3.0e38, "3e+38"),
        ("test.float64", F64, 1e-5, "1e-05"),
        ("test.float64_neg_zero", F64, -0.0, "-0"),
        ("test.bool_true", BOOL, 1, "true"),
        ("test.bool_false", BOOL, 0, "false"),
        ("test.string", STRING, 'h\u00e9llo "quoted"\n', 'h\u00e9llo "quoted"\n'),
        ("test.string_empty", STRING, "", ""),
        ("test.array.int32", ARRAY, (I32, [1, -2, 3]), "[1, -2, 3]"),
        ("test.array.uint8", ARRAY, (U8, [0, 255]), "[0, 255]"),
        ("test.array.float64", ARRAY, (F64, [0.5, -2.25]), "[0.5, -2.25]"),
        ("test.array.bool", ARRAY, (BOOL, [1, 0]), "[true, false]"),
        ("test.array.string", ARRAY, (STRING, ["a", 'b"c', "d\\e"]), '["a", "b\\"c", "d\\\\e"]'),
        ("test.array.empty", ARRAY, (I64, []), "[]"),
        ("test.array.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (U8, [3])]), "[[1, 2], [3]]"),
        ("test.array.nested_strings", ARRAY, (ARRAY, [(STRING, ["x"]), (STRING, [])]),
         '[["x"], []]'),
        ("test.array.nested_long", ARRAY, (ARRAY, [(I32, list(range(20)))]),
         "[[array of 20 int32]]"),
        ("test.array.deep", ARRAY, (ARRAY, [(ARRAY, [(ARRAY, [(I16, [7])])])]), "[[[[7]]]]"),
        ("test.array.many_arrays", ARRAY, (ARRAY, [(U8, [i]) for i in range(17)]),
         "[array of 17 array]"),
        ("test.array.sixteen", ARRAY, (U16, list(range(16))),
         "[" + ", ".join(str(i) for i in range(16)) + "]"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens), "[array of 100 string]"),
        ("tokenizer.ggml.scores", ARRAY, (F32, [float(-i) for i in range(100)]),
         "[array of 100 float32]"),
    ]

    f32 = np.arange(64, dtype=np.float32) / 8 - 4
    f16 = (rng.standard_normal(256) * 0.05).astype(np.float16)
    # (name, ne, type, data, golden source or None)
    tensors = [
        ("token_embd.weight", [256, 32], "q4_K", golden("normal.q4_K.bin"), "normal.q4_K"),
        ("blk.0.attn_norm.weight", [64], "f32", f32.tobytes(), None),
        ("blk.0.attn_q.weight", [512, 16], "q6_K", golden("uniform.q6_K.bin"), "uniform.q6_K"),
        ("blk.0.attn_k.weight", [256, 32], "q8_0", golden("normal.q8_0.bin"), "normal.q8_0"),
        ("blk.0.attn_v.weight", [1024, 8], "q4_0", golden("outliers.q4_0.bin"), "outliers.q4_0"),
        ("blk.0.ffn_gate.weight", [64, 4], "iq4_nl", rng.bytes(8 * 18), None),
        ("blk.0.ffn_up.weight", [2048, 4], "q2_K", golden("outliers.q2_K.bin"), "outliers.q2_K"),
        ("blk.0.ffn_down.weight", [256, 4, 8], "q3_K", golden("edge.q3_K.bin"), "edge.q3_K"),
        ("blk.0.exp_probs.weight", [64, 2], "mxfp4", rng.bytes(4 * 17), None),
        ("blk.0.attn_output.weight", [256, 32], "q5_K", golden("edge.q5_K.bin"), "edge.q5_K"),
        ("output.weight", [32, 8], "f16", f16.tobytes(), None),
    ]
    # The alignment must matter: the header must end where 32- and 64-byte alignment differ.
    pad = 0
    while True:
        md = metadata + ([("test.padding", STRING, "p" * pad, "p" * pad)] if pad else [])
        path = os.path.join(OUT_DIR, "k_quants.gguf")
        head, data_start, offsets = write_gguf(
            path, 3, [(k, t, v) for k, t, v, _ in md], [t[:4] for t in tensors], 64)
        if align(head, 32) != data_start:
            break
        pad += 1
    assert any(o % 128 for o in offsets)

    expected_tensors = []
    for (name, ne, tname, data, source), off in zip(tensors, offsets):
        expected_tensors.append({
            "name": name, "shape": list(reversed(ne)), "dtype": tname,
            "params": int(np.prod(ne)), "bytes": len(data),
            "offset": off, "golden": source,
            "decodable": tname not in ("iq4_nl", "mxfp4"),
        })
    meta = {k: text for k, _, _, text in md}
    meta["gguf.version"] = "3"
    meta["quantscope.not_decodable"] = (
        "iq4_nl: 1 tensor, mxfp4: 1 tensor (listed with their sizes; QuantScope cannot decode "
        "these types yet)")
    expected = {
        "format": "gguf",
        "tensors": expected_tensors,
        "total_params": sum(t["params"] for t in expected_tensors),
        "total_bytes": sum(t["bytes"] for t in expected_tensors),
        "metadata": meta,
        "data_start": data_start,
        "f32_values": f32.tolist(),
        "f16_values": f16.astype(np.float32).tolist(),
    }
    with open(os.path.join(OUT_DIR, "k_quants.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


def v2_default_alignment():
    values = np.linspace(-1, 1, 96, dtype=np.float32)
    tensors = [
        ("a.weight", [32, 3], "f32", values.tobytes()),
        ("b.weight", [32, 32], "q8_0", golden("uniform.q8_0.bin")[: 32 * 34]),
    ]
    metadata = [("general.architecture", STRING, "test")]
    write_gguf(os.path.join(OUT_DIR, "v2_default_alignment.gguf"), 2, metadata, tensors, 32)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    k_quants()
    v2_default_alignment()


if __name__ == "__main__":
    main()
