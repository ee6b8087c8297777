#!/usr/bin/env python3
"""Check a Keras 2 HDF5 classifier written by `quantscope-cli train` without QuantScope's code:
read its config and weights with h5py, build the equivalent torch.nn model (NCHW, kernels
transposed from Keras's (kh, kw, in, out) and (in, out) layouts, flattening in Keras's NHWC
order), and measure its accuracy on the Fashion-MNIST test set read from the IDX files.

Usage:
  /usr/bin/python3 tests/data/check_fashion_model.py MODEL.h5
        [--dataset /usr/share/datasets/fashion-mnist] [--expect ACCURACY [--tolerance T]]

Prints {"model", "test_images", "accuracy"} as JSON. With --expect, exits 1 unless the accuracy
is within T (default 0.0005, a few images' worth of float rounding) of ACCURACY.
"""

import argparse
import gzip
import json
import os
import sys

import h5py
import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(path + ": not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def dataset_file(directory, base):
    for name in (base + ".gz", base):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise FileNotFoundError(os.path.join(directory, base))


def text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


class SamePad(nn.Module):
    """TensorFlow's "same" padding for a stride-1 odd kernel: symmetric."""

    def __init__(self, kh, kw):
        super().__init__()
        self.pad = (kw // 2, kw // 2, kh // 2, kh // 2)

    def forward(self, x):
        return nn.functional.pad(x, self.pad)


class FlattenNHWC(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


def build(path):
    with h5py.File(path, "r") as f:
        config = json.loads(text(f.attrs["model_config"]))
        group = f["model_weights"]
        weights = {}
        for name in group.attrs["layer_names"]:
            name = text(name)
            names = [text(n) for n in group[name].attrs["weight_names"]]
            weights[name] = [torch.from_numpy(np.asarray(group[name][n], np.float32))
                             for n in names]
    modules = []
    for layer in config["config"]["layers"]:
        cls, cfg = layer["class_name"], layer["config"]
        w = weights.get(cfg["name"], [])
        if cls in ("InputLayer", "Dropout"):
            continue
        if cls == "Conv2D":
            kh, kw = cfg["kernel_size"]
            if cfg["strides"] != [1, 1] or (cfg["padding"] == "same" and (kh % 2 == 0 or kw % 2 == 0)):
                raise ValueError("this check handles stride-1, odd-kernel convolutions only")
            if cfg["padding"] == "same":
                modules.append(SamePad(kh, kw))
            conv = nn.Conv2d(w[0].shape[2], w[0].shape[3], (kh, kw), bias=cfg["use_bias"])
            conv.weight.data = w[0].permute(3, 2, 0, 1).contiguous()
            if cfg["use_bias"]:
                conv.bias.data = w[1]
            modules.append(conv)
            if cfg["activation"] == "relu":
                modules.append(nn.ReLU())
            elif cfg["activation"] != "linear":
                raise ValueError("activation " + cfg["activation"])
        elif cls == "BatchNormalization":
            gamma, beta, mean, var = w
            bn = nn.BatchNorm2d(gamma.shape[0], eps=cfg["epsilon"])
            bn.weight.data, bn.bias.data = gamma, beta
            bn.running_mean.data, bn.running_var.data = mean, var
            modules.append(bn)
        elif cls == "ReLU" or (cls == "Activation" and cfg["activation"] == "relu"):
            modules.append(nn.ReLU())
        elif cls == "MaxPooling2D":
            if cfg["padding"] != "valid":
                raise ValueError("this check handles valid pooling only")
            modules.append(nn.MaxPool2d(cfg["pool_size"], cfg["strides"]))
        elif cls == "Flatten":
            modules.append(FlattenNHWC())
        elif cls == "Dense":
            lin = nn.Linear(w[0].shape[0], w[0].shape[1], bias=cfg["use_bias"])
            lin.weight.data = w[0].t().contiguous()
            if cfg["use_bias"]:
                lin.bias.data = w[1]
            modules.append(lin)
            if cfg["activation"] == "relu":
                modules.append(nn.ReLU())
            elif cfg["activation"] not in ("linear", "softmax"):
                raise ValueError("activation " + cfg["activation"])
        elif cls == "Softmax":
            continue  # does not change the arg-max
        else:
            raise ValueError("layer class " + cls + " is not handled by this check")
    return nn.Sequential(*modules).eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--dataset", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--expect", type=float)
    ap.add_argument("--tolerance", type=float, default=0.0005)
    a = ap.parse_args()
    images = read_idx(dataset_file(a.dataset, "t10k-images-idx3-ubyte"))
    labels = read_idx(dataset_file(a.dataset, "t10k-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # N, 1, H, W
    model = build(a.model)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            pred = model(x[i:i + 1000]).argmax(dim=1).numpy()
            correct += int((pred == labels[i:i + 1000]).sum())
    accuracy = correct / len(x)
    print(json.dumps({"model": a.model, "test_images": len(x), "accuracy": accuracy}))
    if a.expect is not None and abs(accuracy - a.expect) > a.tolerance:
        print("expected %.4f, got %.4f" % (a.expect, accuracy), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
