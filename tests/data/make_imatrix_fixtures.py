#!/usr/bin/python3
"""Writes the llama.cpp importance-matrix fixtures in tests/data/imatrix (numpy only).

Both layouts follow llama.cpp's tools/imatrix/imatrix.cpp:
- legacy .dat: int32 entry count; per entry int32 name length, name, int32 ncall, int32 nval,
  nval float32 = (sum of squares / count) * ncall; then int32 chunk count and an int32-length
  dataset name (the oldest files stop after the entries). Readers divide by ncall.
- GGUF: per weight tensor `<name>.in_sum2` (F32, ggml ne = [columns, matrices]) and
  `<name>.counts` (F32, ne = [1, matrices]); metadata general.type = "imatrix",
  imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size. Readers divide each matrix's sums by
  its count; a matrix with count 0 gets weight 1.

expected.json holds the normalised values each reader must produce, computed here in float32.
The GGUF bytes are written by hand with struct (the gguf package is not needed).
"""
import json
import os
import struct

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imatrix")
CHUNK = 512
NCALL = 7
DATASET = "wiki.train.raw"

rng = np.random.default_rng(2024)


def mean_squares(n):
    # Heavy-tailed activation energies, as real ones are.
    return (rng.standard_normal(n).astype(np.float32) ** 2 * 0.5 + 0.01).astype(np.float32)


# Names of the bundled example model's tensors, so the tests can weight real tensors.
DENSE = {
    "model.layers.0.self_attn.q_proj.weight": 96,
    "model.layers.0.mlp.down_proj.weight": 256,
}
MOE_NAME, MOE_EXPERTS, MOE_COLS = "blk.0.ffn_up_exps.weight", 3, 8


def legacy_bytes(entries, trailer=True):
    out = bytearray(struct.pack("<i", len(entries)))
    for name, stored in entries:
        b = name.encode()
        out += struct.pack("<i", len(b)) + b
        out += struct.pack("<ii", NCALL, stored.size) + stored.astype("<f4").tobytes()
    if trailer:
        d = DATASET.encode()
        out += struct.pack("<i", NCALL) + struct.pack("<i", len(d)) + d
    return bytes(out)


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_bytes(kvs, tensors):
    """kvs: (key, type, payload bytes); tensors: (name, ne list, float32 array)."""
    align = 32
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
    for key, vtype, payload in kvs:
        out += gguf_string(key) + struct.pack("<I", vtype) + payload
    offset = 0
    offsets = []
    for name, ne, data in tensors:
        offsets.append(offset)
        out += gguf_string(name) + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", 0, offset)  # type 0 = F32
        offset += (data.nbytes + align - 1) // align * align
    out += b"\0" * ((-len(out)) % align)
    for (name, ne, data), off in zip(tensors, offsets):
        out += data.astype("<f4").tobytes()
        out += b"\0" * ((-len(out)) % align)
    return bytes(out)


def imatrix_kvs():
    datasets = struct.pack("<IQ", 8, 1) + gguf_string(DATASET)  # array of 1 string
    return [
        ("general.type", 8, gguf_string("imatrix")),
        ("imatrix.datasets", 9, datasets),
        ("imatrix.chunk_count", 4, struct.pack("<I", NCALL)),
        ("imatrix.chunk_size", 4, struct.pack("<I", CHUNK)),
    ]


def main():
    os.makedirs(HERE, exist_ok=True)
    expected = {"legacy": {}, "gguf": {}}

    # Legacy: the stored value is mean * ncall; readers divide by ncall again (in float32).
    legacy = []
    for name, cols in DENSE.items():
        stored = (mean_squares(cols) * np.float32(NCALL)).astype(np.float32)
        legacy.append((name, stored))
        expected["legacy"][name] = {"matrices": 1,
                                    "values": [float(v) for v in stored / np.float32(NCALL)]}
    with open(os.path.join(HERE, "small.dat"), "wb") as f:
        f.write(legacy_bytes(legacy))
    with open(os.path.join(HERE, "no_trailer.dat"), "wb") as f:
        f.write(legacy_bytes(legacy[:1], trailer=False))

    # GGUF: sums of squares and counts (tokens seen) per matrix.
    tensors = []
    for name, cols in DENSE.items():
        count = np.float32(NCALL * CHUNK)
        sums = (mean_squares(cols) * count).astype(np.float32)
        tensors.append((name + ".in_sum2", [cols, 1], sums))
        tensors.append((name + ".counts", [1, 1], np.array([count], np.float32)))
        expected["gguf"][name] = {"matrices": 1, "values": [float(v) for v in sums / count]}
    counts = np.array([CHUNK * 3, 0, CHUNK], np.float32)  # expert 1 never routed to
    sums = (mean_squares(MOE_EXPERTS * MOE_COLS).reshape(MOE_EXPERTS, MOE_COLS)
            * counts[:, None]).astype(np.float32)
    tensors.append((MOE_NAME + ".in_sum2", [MOE_COLS, MOE_EXPERTS], sums.reshape(-1)))
    tensors.append((MOE_NAME + ".counts", [1, MOE_EXPERTS], counts))
    norm = np.where(counts[:, None] > 0, sums / np.where(counts > 0, counts, 1)[:, None],
                    np.float32(1)).astype(np.float32)
    expected["gguf"][MOE_NAME] = {"matrices": MOE_EXPERTS,
                                  "values": [float(v) for v in norm.reshape(-1)]}
    with open(os.path.join(HERE, "small.gguf"), "wb") as f:
        f.write(gguf_bytes(imatrix_kvs(), tensors))

    # Malformed GGUF imatrices: sums without counts, and counts of the wrong length.
    with open(os.path.join(HERE, "missing_counts.gguf"), "wb") as f:
        f.write(gguf_bytes(imatrix_kvs(), tensors[:1]))
    bad = [tensors[0], (tensors[1][0], [1, 2], np.array([1.0, 2.0], np.float32))]
    with open(os.path.join(HERE, "counts_mismatch.gguf"), "wb") as f:
        f.write(gguf_bytes(imatrix_kvs(), bad))

    expected["chunks"] = NCALL
    expected["dataset"] = DATASET
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
