#!/usr/bin/env python3
"""Generate tests/data/hdf5/: HDF5 files written by h5py (libhdf5) for the C++ HDF5 reader,
plus expected.json holding what h5py reads back from them.

Files (all small, seeded, deterministic):
  keras2_model.h5    a Keras 2 full-model layout: model_weights/<layer>/<layer>/<weight>:0,
                     layer_names / weight_names as fixed-length byte strings (what Keras 2
                     writes through np.asarray of encoded names), model_config JSON,
                     keras_version and backend as byte strings, an optimizer_weights group;
                     layers Dense, Conv2D, Conv2DTranspose, BatchNormalization and a Flatten
                     without weights (weight_names is then an empty float array, as Keras 2
                     writes it)
  keras2_weights.h5  the same weights in the Keras 2 weights-only layout (at the root)
  keras2_vlen.h5     the Keras 2 layout with variable-length UTF-8 string attributes
  generic.h5         nested groups; float16/float64/big-endian/int64/bool datasets; a chunked
                     + gzip dataset, a chunked + shuffle + gzip big-endian one; a 0-d dataset;
                     an empty (0, 4) dataset; datasets the reader skips (strings, uint16)
  userblock.h5       a file with a 512-byte user block: the signature is at byte 512
  tail.h5            one float32 dataset written last, for the truncation tests
  keras3.keras       a Keras 3 archive (zip, members stored): metadata.json, config.json and
                     model.weights.h5 with layers/<name>/vars/<i> and optimizer/vars/<i>
  keras3_deflated.keras  the same archive with its members deflated
  keras3.weights.h5  the Keras 3 weights file on its own
  bad_no_weights.keras, bad_not_hdf5.keras  archives without usable weights (error cases)
  expected.json      per file and dataset path: shape, h5py's dtype string and the values in
                     row-major order (floats as float32 -> shortest decimal, ints as ints)

Usage: /usr/bin/python3 tests/data/make_hdf5_fixtures.py   (needs python3-h5py)
"""

import io
import json
import os
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hdf5")
rng = np.random.default_rng(20240531)


def normal(shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# Keras 2 model: layer name -> (class, [(weight name, array)])
KERAS2_LAYERS = [
    ("dense", "Dense", [("dense/kernel:0", normal((4, 3))), ("dense/bias:0", normal((3,)))]),
    ("conv2d", "Conv2D",
     [("conv2d/kernel:0", normal((3, 3, 2, 4))), ("conv2d/bias:0", normal((4,)))]),
    ("conv2d_transpose", "Conv2DTranspose",
     [("conv2d_transpose/kernel:0", normal((2, 2, 5, 4))),
      ("conv2d_transpose/bias:0", normal((5,)))]),
    ("batch_normalization", "BatchNormalization",
     [("batch_normalization/gamma:0", normal((4,))),
      ("batch_normalization/beta:0", normal((4,))),
      ("batch_normalization/moving_mean:0", normal((4,))),
      ("batch_normalization/moving_variance:0", np.abs(normal((4,))))]),
    ("flatten", "Flatten", []),
]

MODEL_CONFIG = {
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "layers": [{"class_name": cls, "config": {"name": name}}
                   for name, cls, _ in KERAS2_LAYERS],
    },
}

expected = {}


def record(file_name, path, array):
    a = np.asarray(array)
    if a.dtype.kind == "f":
        values = [float(np.float32(v)) for v in a.astype(np.float32).ravel()]
    else:
        values = [int(v) for v in a.ravel()]
    expected.setdefault(file_name, {})[path] = {
        "shape": list(a.shape), "dtype": a.dtype.str, "values": values}


def record_file(file_name):
    """Everything numeric as h5py reads it back."""
    with h5py.File(os.path.join(OUT, file_name), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub":
                record(file_name, name, obj[()])
        f.visititems(visit)


def write_keras2_layout(group, vlen):
    def names(items):
        if vlen:
            return np.array(items, dtype=h5py.string_dtype("utf-8"))
        return np.asarray([s.encode("utf8") for s in items])  # fixed-length 'S'

    group.attrs["layer_names"] = names([name for name, _, _ in KERAS2_LAYERS])
    group.attrs["backend"] = "tensorflow" if vlen else b"tensorflow"
    group.attrs["keras_version"] = "2.13.1" if vlen else b"2.13.1"
    for name, _, weights in KERAS2_LAYERS:
        g = group.create_group(name)
        g.attrs["weight_names"] = (names([w for w, _ in weights]) if weights
                                   else np.asarray([]))  # Keras 2: an empty float64 array
        for wname, value in weights:
            d = g.create_dataset(wname, value.shape, dtype=value.dtype)
            d[...] = value


def keras2_files():
    config = json.dumps(MODEL_CONFIG)
    with h5py.File(os.path.join(OUT, "keras2_model.h5"), "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["model_config"] = config.encode("utf8")
        f.attrs["training_config"] = b'{"loss": "mse"}'
        write_keras2_layout(f.create_group("model_weights"), vlen=False)
        opt = f.create_group("optimizer_weights")
        opt.create_dataset("Adam/iter:0", data=np.int64(10))
    with h5py.File(os.path.join(OUT, "keras2_weights.h5"), "w") as f:
        write_keras2_layout(f, vlen=False)
    with h5py.File(os.path.join(OUT, "keras2_vlen.h5"), "w") as f:
        f.attrs["model_config"] = config  # a Python str: variable-length UTF-8
        f.attrs["keras_version"] = "2.13.1"
        write_keras2_layout(f.create_group("model_weights"), vlen=True)
    for name in ("keras2_model.h5", "keras2_weights.h5", "keras2_vlen.h5"):
        record_file(name)


def generic_file():
    with h5py.File(os.path.join(OUT, "generic.h5"), "w") as f:
        enc = f.create_group("encoder")
        l0 = enc.create_group("layer0")
        l0["weight"] = normal((3, 5))
        l0["bias"] = normal((5,), np.float64)
        enc["half"] = normal((2, 3), np.float16)
        be = f.create_group("be")
        be["f32"] = normal((4,)).astype(">f4")
        be["f64"] = normal((2, 2)).astype(">f8")
        be["f16"] = normal((3,)).astype(">f2")
        be["i32"] = np.arange(-3, 3, dtype=">i4").reshape(2, 3)
        f["counts"] = np.array([1, -2, 3, 1 << 40, -(1 << 50)], dtype=np.int64)
        f["flags"] = np.array([True, False, True])
        f["bytes"] = np.arange(6, dtype=np.uint8)
        f.create_dataset("compressed", data=normal((20, 10)), chunks=(5, 5),
                         compression="gzip", compression_opts=6)
        f.create_dataset("shuffled_be", data=normal((6, 7)).astype(">f4"), chunks=(3, 7),
                         shuffle=True, compression="gzip")
        f["scalar"] = np.float32(2.5)
        f.create_dataset("empty", shape=(0, 4), dtype=np.float32)
        f["labels"] = np.array([b"cat", b"dog"])
        f["u16"] = np.arange(4, dtype=np.uint16)
        f.create_dataset("never_written", shape=(2, 2), dtype=np.float32, fillvalue=7.0)
    record_file("generic.h5")


def small_files():
    with h5py.File(os.path.join(OUT, "userblock.h5"), "w", userblock_size=512) as f:
        f["data"] = normal((2, 3))
    record_file("userblock.h5")
    with h5py.File(os.path.join(OUT, "tail.h5"), "w", libver="earliest") as f:
        f["w"] = normal((64, 16))
    record_file("tail.h5")


KERAS3_CONFIG = {
    "module": "keras", "class_name": "Sequential",
    "config": {"name": "sequential", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"name": "input"}},
        {"module": "keras.layers", "class_name": "Embedding", "config": {"name": "embedding"}},
        {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d"}},
        {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten"}},
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense"}},
    ]},
}


def keras3_weights(path):
    with h5py.File(path, "w") as f:
        layers = f.create_group("layers")
        emb = layers.create_group("embedding").create_group("vars")
        emb["0"] = normal((10, 4))
        conv = layers.create_group("conv2d").create_group("vars")
        conv["0"] = normal((3, 3, 2, 4))
        conv["1"] = normal((4,))
        layers.create_group("flatten").create_group("vars")
        dense = layers.create_group("dense").create_group("vars")
        dense["0"] = normal((4, 3))
        dense["1"] = normal((3,))
        f.create_group("vars")
        opt = f.create_group("optimizer").create_group("vars")
        for i in range(12):  # natural order: 0, 1, 2, ..., 10, 11
            opt[str(i)] = np.zeros((2,), np.float32)
    return path


def keras3_files():
    h5path = keras3_weights(os.path.join(OUT, "keras3.weights.h5"))
    record_file("keras3.weights.h5")
    with open(h5path, "rb") as fh:
        weights = fh.read()
    metadata = json.dumps({"keras_version": "3.3.3", "date_saved": "2024-05-31@12:00:00"})
    config = json.dumps(KERAS3_CONFIG)
    for name, method in (("keras3.keras", zipfile.ZIP_STORED),
                         ("keras3_deflated.keras", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(os.path.join(OUT, name), "w", compression=method) as z:
            for member, data in (("metadata.json", metadata), ("config.json", config),
                                 ("model.weights.h5", weights)):
                info = zipfile.ZipInfo(member, date_time=(2024, 5, 31, 12, 0, 0))
                info.compress_type = method
                z.writestr(info, data)
        expected[name] = expected["keras3.weights.h5"]
    # Malformed archives: no weights member, and a weights member that is not HDF5.
    for name, members in (("bad_no_weights.keras", (("metadata.json", metadata),
                                                    ("config.json", config))),
                          ("bad_not_hdf5.keras", (("metadata.json", metadata),
                                                  ("model.weights.h5", "not an HDF5 file")))):
        with zipfile.ZipFile(os.path.join(OUT, name), "w") as z:
            for member, data in members:
                z.writestr(zipfile.ZipInfo(member, date_time=(2024, 5, 31, 12, 0, 0)), data)


def main():
    os.makedirs(OUT, exist_ok=True)
    keras2_files()
    generic_file()
    small_files()
    keras3_files()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
