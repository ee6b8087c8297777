#!/usr/bin/env python3
"""Generate tests/data/numpy/: .npy and .npz files written by NumPy itself, for the
C++ NumPy readers, plus expected.json holding what NumPy reads back from them.

Files (all small, seeded, deterministic):
  f32_c.npy          float32 (3, 4), C order, format version 1.0
  f16_c.npy          float16 (2, 5)
  f64_c.npy          float64 (4, 3)
  f32_be.npy         '>f4' (3, 4): big-endian
  f64_be.npy         '>f8' (2, 3)
  f16_be.npy         '>f2' (5,)
  f32_fortran_2d.npy float32 (3, 5), Fortran order
  f32_fortran_3d.npy float32 (2, 3, 4), Fortran order
  f64_be_fortran.npy '>f8' (4, 2, 3), Fortran order and big-endian at once
  i64.npy            int64 (2, 3)
  i32_be_fortran.npy '>i4' (2, 3), Fortran order and big-endian: exported as plain int32
  bool.npy           bool (4,)
  u8.npy             uint8 (6,)
  scalar.npy         float32, shape () (a 0-d array)
  empty.npy          float32, shape (0, 4)
  v2.npy             float32 (3, 2), written with format version 2.0
  v3.npy             float32 (2, 2), written with format version 3.0
  savez.npz          np.savez: several members, stored (not compressed)
  savez_compressed.npz  np.savez_compressed: the same members, deflated
  c8.npy             complex64 (3,): refused by the reader
  object.npy         an object array (pickled): refused, never unpickled
  structured_v3.npy  a structured dtype with a field name outside Latin-1, which makes NumPy
                     choose format version 3.0 by itself: refused as structured
  expected.json      for every float array: its shape and its values as float32, in
                     C (row-major) order, as NumPy reads them back from the file

A float value in expected.json is the float32 value written as the shortest
decimal that reads back as the same double, so parsing it as a double and
converting to float32 gives the exact float32 bits.

Usage: /usr/bin/python3 tests/data/make_numpy_fixtures.py
"""

import json
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "numpy")
SEED = 2024


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(SEED)

    def normal(shape, dtype):
        return rng.normal(0.0, 0.5, size=shape).astype(dtype)

    arrays = {
        "f32_c.npy": normal((3, 4), "<f4"),
        "f16_c.npy": normal((2, 5), "<f2"),
        "f64_c.npy": normal((4, 3), "<f8"),
        "f32_be.npy": normal((3, 4), ">f4"),
        "f64_be.npy": normal((2, 3), ">f8"),
        "f16_be.npy": normal((5,), ">f2"),
        "f32_fortran_2d.npy": np.asfortranarray(normal((3, 5), "<f4")),
        "f32_fortran_3d.npy": np.asfortranarray(normal((2, 3, 4), "<f4")),
        "f64_be_fortran.npy": np.asfortranarray(normal((4, 2, 3), ">f8")),
        "i64.npy": np.arange(-3, 3, dtype="<i8").reshape(2, 3),
        "i32_be_fortran.npy": np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)),
        "bool.npy": np.array([True, False, False, True]),
        "u8.npy": np.arange(6, dtype="u1"),
        "scalar.npy": np.array(1.5, dtype="<f4"),
        "empty.npy": np.zeros((0, 4), dtype="<f4"),
    }
    # Extreme values NumPy must carry through unchanged.
    arrays["f32_c.npy"][0, :3] = [0.0, -0.0, np.float32(3.4e38)]

    for name, a in arrays.items():
        np.save(os.path.join(OUT_DIR, name), a, allow_pickle=False)

    versioned = {
        "v2.npy": ((2, 0), normal((3, 2), "<f4")),
        "v3.npy": ((3, 0), normal((2, 2), "<f4")),
    }
    for name, (version, a) in versioned.items():
        with open(os.path.join(OUT_DIR, name), "wb") as f:
            np.lib.format.write_array(f, a, version=version, allow_pickle=False)
        arrays[name] = a

    # Arrays the reader must refuse, as NumPy writes them.
    np.save(os.path.join(OUT_DIR, "c8.npy"), np.array([1 + 2j, 3, -1j], dtype="<c8"))
    np.save(
        os.path.join(OUT_DIR, "object.npy"),
        np.array([{"a": 1}, None], dtype=object),
        allow_pickle=True,
    )
    with warnings.catch_warnings():  # "Stored array in format 3.0": that is the point here
        warnings.simplefilter("ignore", UserWarning)
        np.save(
            os.path.join(OUT_DIR, "structured_v3.npy"),
            np.zeros(2, dtype=[("\u91cd\u307f", "<f4"), ("n", "<i4")]),
        )

    members = {
        "layer0.weight": normal((4, 6), "<f4"),
        "layer0.bias": normal((4,), "<f2"),
        "layer1.weight": np.asfortranarray(normal((3, 4), ">f4")),
        "steps": np.array([10, 20, 30], dtype="<i4"),
        "scale": np.array(0.25, dtype="<f8"),
    }
    np.savez(os.path.join(OUT_DIR, "savez.npz"), **members)
    np.savez_compressed(os.path.join(OUT_DIR, "savez_compressed.npz"), **members)

    # An all-zero array deflates by about 1000:1, close to deflate's limit: it must still open
    # (zip-bomb checks must not refuse it). Checked by its own test, not listed in expected.json.
    np.savez_compressed(os.path.join(OUT_DIR, "zeros_compressed.npz"), zeros=np.zeros((1024, 1024), "<f4"))

    expected = {}
    for name in sorted(arrays):
        expected[name] = describe(np.load(os.path.join(OUT_DIR, name)))
    for npz in ("savez.npz", "savez_compressed.npz"):
        with np.load(os.path.join(OUT_DIR, npz)) as z:
            for member in sorted(z.files):
                expected[npz + ":" + member] = describe(z[member])

    with open(os.path.join(OUT_DIR, "expected.json"), "w") as f:
        json.dump(
            {
                "numpy_version": np.__version__,
                "arrays": expected,
            },
            f,
            indent=1,
            sort_keys=True,
        )
        f.write("\n")
    print("wrote", len(os.listdir(OUT_DIR)), "files to", OUT_DIR, file=sys.stderr)


def describe(a):
    """Shape, NumPy dtype string and row-major values (float32 for float arrays)."""
    entry = {"shape": list(a.shape), "descr": a.dtype.str}
    if a.dtype.kind == "f":
        flat = np.ascontiguousarray(a, dtype="<f4").reshape(-1)
        entry["values"] = [float(v) for v in flat]
    else:
        entry["values"] = [int(v) for v in a.reshape(-1)]
    return entry


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    main()
