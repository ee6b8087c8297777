#!/usr/bin/env python3
"""Generate tests/data/torch_ckpt/: checkpoints written by torch.save (zip format), and the
values PyTorch itself reads back from them, for the C++ PyTorch checkpoint reader.

Files
  conv_bn_linear.pt   the state_dict of a small conv + batchnorm + linear model (BatchNorm's
                      num_batches_tracked is an int64 0-d tensor)
  nested.pth          {"model": that state_dict, "optimizer_step": 3, "note": "x"}
  views.bin           tensors that share one storage: a matrix, its transpose, a slice, a row
  dtypes.pt           float16, bfloat16, float64 and int32 tensors, a 0-d and an empty tensor
  malicious.pt        an object whose __reduce__ returns (os.system, (command,)); the command
                      would create MALICIOUS_MARKER, so a test can check that nothing ran
  expected.safetensors  for every tensor "<file>:<name>", its values in row-major order as
                      PyTorch reads them back with torch.load: F32 for floating tensors
                      (float64 rounded to float32 as the engine computes), I64 otherwise

Usage: /usr/bin/python3 tests/data/make_torch_checkpoints.py
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)

from st_write import verify, write_safetensors  # noqa: E402

OUT_DIR = os.path.join(HERE, "torch_ckpt")
SEED = 4321
MALICIOUS_MARKER = "/tmp/quantscope_torch_pickle_ran"


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > " + MALICIOUS_MARKER,))


def small_model():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.copy_(torch.randn(4))
        bn.running_var.copy_(torch.rand(4) + 0.5)
        bn.weight.copy_(torch.randn(4))
        bn.num_batches_tracked.fill_(7)
    return model


def flatten(prefix, obj, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(obj, torch.Tensor):
        out[prefix] = obj


def main():
    torch.manual_seed(SEED)
    os.makedirs(OUT_DIR, exist_ok=True)
    sd = small_model().state_dict()

    base = torch.randn(4, 6)
    views = {
        "base": base,
        "transposed": base.t(),
        "slice": base[1:3, 2:5],
        "row": base[2],
    }
    dtypes = {
        "half": torch.randn(3, 5).half(),
        "bfloat16": torch.randn(2, 7).bfloat16(),
        "double": torch.randn(4, 3, dtype=torch.float64),
        "int32": torch.arange(-3, 3, dtype=torch.int32).reshape(2, 3),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
    }
    files = {
        "conv_bn_linear.pt": sd,
        "nested.pth": {"model": sd, "optimizer_step": 3, "note": "x"},
        "views.bin": views,
        "dtypes.pt": dtypes,
    }
    expected = []
    for name, obj in files.items():
        path = os.path.join(OUT_DIR, name)
        torch.save(obj, path)
        tensors = {}
        flatten("", torch.load(path), tensors)  # what PyTorch reads back
        for tname, t in tensors.items():
            t = t.contiguous()
            if t.is_floating_point():
                expected.append((f"{name}:{tname}", "F32", t.float().numpy()))
            else:
                expected.append((f"{name}:{tname}", "I64", t.long().numpy()))
    torch.save({"weight": torch.ones(2), "payload": Evil()}, os.path.join(OUT_DIR, "malicious.pt"))

    meta = {"torch_version": torch.__version__, "seed": str(SEED)}
    out = os.path.join(OUT_DIR, "expected.safetensors")
    write_safetensors(out, expected, meta)
    verify(out, expected, meta)


if __name__ == "__main__":
    main()
