#!/usr/bin/env python3
"""Generate tests/data/nn/: fixtures for the runtime in engine/nn and the IDX reader in
engine/data, with h5py, NumPy and PyTorch as the independent reference.

Files (small, seeded, deterministic):
  <model>.h5           a Keras 2 full-model file written with h5py the way Keras's
                       save_model_to_hdf5 writes it: root attributes keras_version, backend and
                       model_config (JSON bytes); group model_weights with layer_names, per
                       layer a group with weight_names (fixed-length byte strings, or an empty
                       float array for layers without weights) and datasets
                       <layer>/<layer>/<weight>:0 in Keras's shapes (Conv2D kernels
                       (kh, kw, in, out), Dense (in, out), channels-last activations)
  <model>.input.f32    float32 little-endian inputs, (batch, ...) as Keras takes them
  <model>.output.f32   PyTorch's forward pass of the same weights on those inputs
  broken_*.h5          copies of cnn.h5 with one defect each (a misshapen or missing weight,
                       a missing layer group, no or unparsable model_config, a Functional model)
  nn_fixtures.json     per model: input and output shapes
  idx/                 tiny IDX files for the reader: valid ones (plain and gzip) and
                       malformed ones (truncated header or data, bad magic, unsupported type,
                       absurd sizes, trailing bytes, a cut gzip stream)

Models:
  cnn  Rescaling - Conv2D(relu, same) - BatchNormalization - MaxPooling2D(3, stride 2, same:
       TensorFlow pads 0 before and 1 after) - Conv2D(stride 2, same, no bias) -
       Activation(gelu) - AveragePooling2D(2, stride 1, same: the mean excludes padding) -
       Flatten - Dense(relu) - Dropout - Dense - Softmax
  mlp  Dense(gelu) - BatchNormalization - Dense(softmax)

The PyTorch reference runs NCHW with the kernels transposed from Keras's layout, pads
explicitly with TensorFlow's "same" rule, and returns to NHWC before Flatten so the Dense
kernel sees Keras's element order.

Usage:
  /usr/bin/python3 tests/data/make_nn_fixtures.py            write the fixtures
  /usr/bin/python3 tests/data/make_nn_fixtures.py --check MODEL.h5 INPUT.f32 OUTPUT.f32 SHAPE
      read a Keras 2 file written by someone else (the C++ writer), recompute the forward
      pass of INPUT (shape SHAPE, e.g. 4x10x10x2) and compare it with OUTPUT; exit 0 when
      they agree within 1e-4, 1 otherwise (the C++ round-trip test runs this)
"""

import gzip
import json
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nn")


# ---------------------------------------------------------------- PyTorch reference forward

def same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def activation(x, name):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return F.relu(x)
    if name == "gelu":
        return F.gelu(x)  # the exact (erf) form, Keras's default
    if name == "softmax":
        return F.softmax(x, dim=1 if x.dim() == 2 else -1)
    raise ValueError(name)


def pad_nchw(x, k, s, same, value=0.0):
    if not same:
        return x
    top, bottom = same_pads(x.shape[2], k[0], s[0])
    left, right = same_pads(x.shape[3], k[1], s[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def forward(config, weights, x):
    """x: NHWC (or N x D) numpy float32 -> numpy output, in float64 for a tight reference."""
    t = torch.from_numpy(x.astype(np.float64))
    nchw = t.dim() == 4
    if nchw:
        t = t.permute(0, 3, 1, 2)
    for layer in config["config"]["layers"]:
        cls, cfg = layer["class_name"], layer["config"]
        w = [torch.from_numpy(a.astype(np.float64)) for a in weights.get(cfg["name"], [])]
        if cls == "InputLayer" or cls == "Dropout":
            continue
        if cls == "Rescaling":
            t = t * cfg["scale"] + cfg["offset"]
        elif cls == "Conv2D":
            k, s = pair(cfg["kernel_size"]), pair(cfg["strides"])
            kernel = w[0].permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
            bias = w[1] if cfg.get("use_bias", True) else None
            t = F.conv2d(pad_nchw(t, k, s, cfg["padding"] == "same"), kernel, bias, stride=s)
            t = activation(t, cfg.get("activation"))
        elif cls == "BatchNormalization":
            gamma, beta, mean, var = w
            if nchw:
                t = F.batch_norm(t, mean, var, gamma, beta, False, 0.0, cfg["epsilon"])
            else:
                t = (t - mean) / torch.sqrt(var + cfg["epsilon"]) * gamma + beta
        elif cls == "MaxPooling2D":
            k, s = pair(cfg["pool_size"]), pair(cfg["strides"])
            t = F.max_pool2d(pad_nchw(t, k, s, cfg["padding"] == "same", -math.inf), k, s)
        elif cls == "AveragePooling2D":
            # TensorFlow divides by the number of real (unpadded) elements in each window.
            k, s = pair(cfg["pool_size"]), pair(cfg["strides"])
            same = cfg["padding"] == "same"
            total = F.avg_pool2d(pad_nchw(t, k, s, same), k, s, divisor_override=1)
            count = F.avg_pool2d(pad_nchw(torch.ones_like(t), k, s, same), k, s,
                                 divisor_override=1)
            t = total / count
        elif cls == "Activation":
            t = activation(t, cfg["activation"])
        elif cls == "ReLU":
            t = F.relu(t)
        elif cls == "Flatten":
            t = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)  # Keras flattens NHWC
            nchw = False
        elif cls == "Dense":
            t = t @ w[0]
            if cfg.get("use_bias", True):
                t = t + w[1]
            t = activation(t, cfg.get("activation"))
        elif cls == "Softmax":
            t = F.softmax(t, dim=-1)
        else:
            raise ValueError("no reference for " + cls)
    if nchw:
        t = t.permute(0, 2, 3, 1)
    return t.numpy()


def read_keras(path):
    """(model config, {layer: [arrays in weight_names order]}) as Keras's loader reads them."""
    with h5py.File(path, "r") as f:
        config = f.attrs["model_config"]
        config = json.loads(config.decode("utf8") if isinstance(config, bytes) else config)
        g = f["model_weights"]
        weights = {}
        for name in g.attrs["layer_names"]:
            name = name.decode("utf8") if isinstance(name, bytes) else name
            names = [n.decode("utf8") if isinstance(n, bytes) else n
                     for n in g[name].attrs["weight_names"]]
            weights[name] = [np.asarray(g[name][n], dtype=np.float32) for n in names]
        for key in ("keras_version", "backend"):
            if key not in f.attrs:
                raise ValueError(path + ": no root attribute " + key)
    return config, weights


# ---------------------------------------------------------------- Keras-layout writer (h5py)

def keras_layer(cls, name, **cfg):
    return {"class_name": cls, "config": dict(name=name, trainable=True, dtype="float32", **cfg)}


def write_keras(path, layers, weights):
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        g = f.create_group("model_weights")
        names = [l["config"]["name"] for l in layers if l["class_name"] != "InputLayer"]
        g.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.13.1"
        for n in sorted(names):
            lg = g.create_group(n)
            ws = weights.get(n, [])
            wnames = [(n + "/" + wn + ":0").encode("utf8") for wn, _ in ws]
            lg.attrs["weight_names"] = np.array(wnames) if wnames else np.asarray([])
            for wn, arr in ws:
                lg.create_dataset(n + "/" + wn + ":0", data=arr.astype(np.float32))
    return config


def models(rng):
    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def bn(c):
        return [("gamma", normal(c, scale=0.5) + 1), ("beta", normal(c, scale=0.2)),
                ("moving_mean", normal(c, scale=0.3)),
                ("moving_variance", (rng.uniform(0.5, 1.5, c)).astype(np.float32))]

    cnn_layers = [
        keras_layer("InputLayer", "input_1", batch_input_shape=[None, 10, 10, 2]),
        keras_layer("Rescaling", "rescaling", scale=0.5, offset=0.1),
        keras_layer("Conv2D", "conv2d", filters=4, kernel_size=[3, 3], strides=[1, 1],
                    padding="same", data_format="channels_last", dilation_rate=[1, 1],
                    groups=1, activation="relu", use_bias=True),
        keras_layer("BatchNormalization", "batch_normalization", axis=[3], momentum=0.99,
                    epsilon=0.001, center=True, scale=True),
        keras_layer("MaxPooling2D", "max_pooling2d", pool_size=[3, 3], padding="same",
                    strides=[2, 2], data_format="channels_last"),
        keras_layer("Conv2D", "conv2d_1", filters=5, kernel_size=[3, 3], strides=[2, 2],
                    padding="same", data_format="channels_last", dilation_rate=[1, 1],
                    groups=1, activation="linear", use_bias=False),
        keras_layer("Activation", "activation", activation="gelu"),
        keras_layer("AveragePooling2D", "average_pooling2d", pool_size=[2, 2], padding="same",
                    strides=[1, 1], data_format="channels_last"),
        keras_layer("Flatten", "flatten", data_format="channels_last"),
        keras_layer("Dense", "dense", units=6, activation="relu", use_bias=True),
        keras_layer("Dropout", "dropout", rate=0.5),
        keras_layer("Dense", "dense_1", units=3, activation="linear", use_bias=True),
        keras_layer("Softmax", "softmax", axis=-1),
    ]
    cnn_weights = {
        "conv2d": [("kernel", normal(3, 3, 2, 4, scale=0.4)), ("bias", normal(4, scale=0.1))],
        "batch_normalization": bn(4),
        "conv2d_1": [("kernel", normal(3, 3, 4, 5, scale=0.3))],
        "dense": [("kernel", normal(45, 6, scale=0.3)), ("bias", normal(6, scale=0.1))],
        "dense_1": [("kernel", normal(6, 3, scale=0.5)), ("bias", normal(3, scale=0.1))],
    }
    mlp_layers = [
        keras_layer("InputLayer", "input_1", batch_input_shape=[None, 7]),
        keras_layer("Dense", "dense", units=5, activation="gelu", use_bias=True),
        keras_layer("BatchNormalization", "batch_normalization", axis=-1, momentum=0.99,
                    epsilon=0.001, center=True, scale=True),
        keras_layer("Dense", "dense_1", units=4, activation="softmax", use_bias=True),
    ]
    mlp_weights = {
        "dense": [("kernel", normal(7, 5, scale=0.5)), ("bias", normal(5, scale=0.1))],
        "batch_normalization": bn(5),
        "dense_1": [("kernel", normal(5, 4, scale=0.5)), ("bias", normal(4, scale=0.1))],
    }
    return {"cnn": (cnn_layers, cnn_weights, (4, 10, 10, 2)),
            "mlp": (mlp_layers, mlp_weights, (6, 7))}


def write_broken(good):
    """Copies of the cnn file with one thing wrong each, for the loader's error cases."""
    import shutil
    cases = {
        "bad_shape": lambda f: (f["model_weights/dense/dense"].__delitem__("kernel:0"),
                                f["model_weights/dense/dense"].create_dataset(
                                    "kernel:0", data=np.zeros((44, 6), np.float32))),
        "missing_weight": lambda f: f["model_weights/dense/dense"].__delitem__("bias:0"),
        "missing_layer": lambda f: f["model_weights"].__delitem__("conv2d_1"),
        "no_config": lambda f: f.attrs.__delitem__("model_config"),
        "bad_json": lambda f: f.attrs.__setitem__("model_config", b"{not json"),
        "functional": lambda f: f.attrs.__setitem__(
            "model_config", json.dumps({"class_name": "Functional", "config": {}}).encode()),
    }
    for name, change in cases.items():
        path = os.path.join(OUT, "broken_" + name + ".h5")
        shutil.copyfile(good, path)
        with h5py.File(path, "r+") as f:
            change(f)


# ---------------------------------------------------------------- IDX files

def idx(dims, values, type_byte=0x08):
    head = bytes([0, 0, type_byte, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return head + bytes(values)


def write_idx(rng):
    d = os.path.join(OUT, "idx")
    os.makedirs(d, exist_ok=True)
    images = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    good_images = idx([3, 4, 5], images.tobytes())
    good_labels = idx([3], labels.tobytes())
    files = {
        "images.idx": good_images,
        "labels.idx": good_labels,
        "bad_magic.idx": b"\x01\x00" + good_images[2:],
        "bad_type.idx": good_images[:2] + b"\x0d" + good_images[3:],
        "no_dims.idx": b"\x00\x00\x08\x00",
        "too_many_dims.idx": b"\x00\x00\x08\x09" + b"\x00\x00\x00\x01" * 9,
        "short_header.idx": good_images[:10],
        "truncated.idx": good_images[:-7],
        "trailing.idx": good_images + b"\x00\x00",
        "absurd.idx": idx([0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""),
        "label_out_of_range.idx": idx([3], bytes([1, 10, 2])),
        "labels_count_mismatch.idx": idx([2], bytes([1, 2])),
    }
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    # mtime=0 keeps the gzip bytes the same on every run.
    for name, data in (("images.idx.gz", good_images), ("labels.idx.gz", good_labels)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(gzip.compress(data, mtime=0))
    with open(os.path.join(d, "cut.idx.gz"), "wb") as f:
        f.write(gzip.compress(good_images, mtime=0)[:-12])
    with open(os.path.join(d, "truncated.idx.gz"), "wb") as f:
        f.write(gzip.compress(good_images[:-7], mtime=0))
    # A dataset directory in the Fashion-MNIST naming: gzip training files, plain test files.
    ds = os.path.join(d, "dataset")
    os.makedirs(ds, exist_ok=True)
    for name, data, gz in (("train-images-idx3-ubyte", good_images, True),
                           ("train-labels-idx1-ubyte", good_labels, True),
                           ("t10k-images-idx3-ubyte", idx([1, 4, 5], images[0].tobytes()), False),
                           ("t10k-labels-idx1-ubyte", idx([1], labels[:1].tobytes()), False)):
        with open(os.path.join(ds, name + (".gz" if gz else "")), "wb") as f:
            f.write(gzip.compress(data, mtime=0) if gz else data)
    return {"images": images.reshape(-1).tolist(), "labels": labels.tolist(), "shape": [3, 4, 5]}


def check(model_path, input_path, output_path, shape):
    config, weights = read_keras(model_path)
    dims = [int(v) for v in shape.split("x")]
    x = np.fromfile(input_path, dtype="<f4").reshape(dims)
    theirs = np.fromfile(output_path, dtype="<f4")
    ours = forward(config, weights, x).reshape(-1)
    if ours.shape != theirs.shape:
        print("shape mismatch", ours.shape, theirs.shape)
        return 1
    err = float(np.max(np.abs(ours - theirs)))
    print("max abs difference", err)
    return 0 if err <= 1e-4 else 1


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--check":
        sys.exit(check(*sys.argv[2:]))
    rng = np.random.default_rng(20240607)
    os.makedirs(OUT, exist_ok=True)
    manifest = {"models": {}}
    for name, (layers, weights, in_shape) in models(rng).items():
        path = os.path.join(OUT, name + ".h5")
        write_keras(path, layers, weights)
        config, read_back = read_keras(path)
        x = rng.uniform(-1, 1, in_shape).astype(np.float32)
        y = forward(config, read_back, x).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(OUT, name + ".input.f32"))
        y.astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
        manifest["models"][name] = {"input_shape": list(x.shape), "output_shape": list(y.shape)}
        if name == "cnn":
            write_broken(path)
    manifest["idx"] = write_idx(rng)
    with open(os.path.join(OUT, "nn_fixtures.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
