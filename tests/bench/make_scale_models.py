"""Writes the two files the README's "Real files" figures were measured on (NumPy only):
  big.safetensors  48 fp16 matrices of 4096 x 4096 (1.6 GB), normal(0, 0.02) values
  big.npz          np.savez_compressed of 8 float32 arrays of 2048 x 2048 (128 MiB inflated)
Usage: /usr/bin/python3 tests/bench/make_scale_models.py OUTDIR
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np


def safetensors(path, n=48, rows=4096, cols=4096):
    rng = np.random.default_rng(1)
    block = (rng.standard_normal(rows * cols, dtype=np.float32) * 0.02).astype("<f2").tobytes()
    header, offset = {}, 0
    for i in range(n):
        header[f"model.layers.{i}.mlp.weight"] = {
            "dtype": "F16", "shape": [rows, cols], "data_offsets": [offset, offset + len(block)]}
        offset += len(block)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for i in range(n):  # every other tensor shifted by one value, so they differ
            f.write(block if i % 2 == 0 else block[2:] + block[:2])


def npz(path):
    rng = np.random.default_rng(0)
    arrays = {f"w{i}": rng.standard_normal((2048, 2048), dtype=np.float32) * 0.02
              for i in range(8)}
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    safetensors(out / "big.safetensors")
    npz(out / "big.npz")
