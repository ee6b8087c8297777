#!/usr/bin/env python3
"""Generate tests/data/torch/*.safetensors: PyTorch reference results for the
integer formats, so the C++ tests can check parity bit for bit without torch.

Each file holds
  x           F32  the input
  dequant     F32  what PyTorch dequantizes x to
  scale       F32  one value per scale group ([1] per tensor, [C] per channel)
  zero_point  I32  one value per scale group (0 for the symmetric formats)
and metadata: format (QuantScope format name), granularity, channel_axis,
quant_min, quant_max, torch_version and reference, the exact torch code that
produced scale, zero_point and dequant from x. That code is executed as written
below, so the recorded text cannot drift from what actually ran.

Inputs are seeded normal values with outlier channels, a negative-only and a
positive-only channel (so zero points differ between channels), exact zeros,
and values that land exactly halfway between two codes: the scale is forced to
a power of two by pinning the group's min/max, which makes x/scale exact, so
round-half-to-even is actually exercised.

Usage: /usr/bin/python3 tests/data/make_torch_fixtures.py
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)

from st_write import read_safetensors, verify, write_safetensors  # noqa: E402

OUT_DIR = os.path.join(HERE, "torch")
SEED = 1234
SHAPES = {"": (16, 64), "_conv": (8, 3, 3, 3)}

# Channel roles (axis 0). The conv shape has 8 channels, so all indices are < 8.
OUTLIER_CHANNELS = (1, 6)
NEGATIVE_CHANNEL = 2
POSITIVE_CHANNEL = 4
TIE_CHANNEL = 5

OBS = "torch.ao.quantization"

CASES = [
    {
        "name": "uint8_tensor",
        "format": "uint8",
        "granularity": "tensor",
        "symmetric": False,
        "quant_min": 0,
        "quant_max": 255,
        "reference": (
            f"obs = {OBS}.MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "q = torch.quantize_per_tensor(x, float(scale), int(zero_point), torch.quint8); "
            "dequant = q.dequantize()"
        ),
        "cross_check": (
            "fake = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero_point), 0, 255)"
        ),
    },
    {
        "name": "uint8_channel",
        "format": "uint8",
        "granularity": "channel",
        "symmetric": False,
        "quant_min": 0,
        "quant_max": 255,
        "reference": (
            f"obs = {OBS}.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.quint8, "
            "qscheme=torch.per_channel_affine); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "q = torch.quantize_per_channel(x, scale, zero_point, 0, torch.quint8); "
            "dequant = q.dequantize()"
        ),
        "cross_check": (
            "fake = torch.fake_quantize_per_channel_affine(x, scale, zero_point.to(torch.int32), 0, 0, 255)"
        ),
    },
    {
        "name": "int8_tensor",
        "format": "int8",
        "granularity": "tensor",
        "symmetric": True,
        "quant_min": -127,
        "quant_max": 127,
        "reference": (
            f"obs = {OBS}.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, "
            "quant_min=-127, quant_max=127); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "q = torch.quantize_per_tensor(x, float(scale), int(zero_point), torch.qint8); "
            "dequant = q.dequantize()"
        ),
        "cross_check": (
            "fake = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero_point), -127, 127)"
        ),
    },
    {
        "name": "int8_channel",
        "format": "int8",
        "granularity": "channel",
        "symmetric": True,
        "quant_min": -127,
        "quant_max": 127,
        "reference": (
            f"obs = {OBS}.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, "
            "qscheme=torch.per_channel_symmetric, quant_min=-127, quant_max=127); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "q = torch.quantize_per_channel(x, scale, zero_point, 0, torch.qint8); "
            "dequant = q.dequantize()"
        ),
        "cross_check": (
            "fake = torch.fake_quantize_per_channel_affine(x, scale, zero_point.to(torch.int32), 0, -127, 127)"
        ),
    },
    # torch has no 4-bit quantize_per_channel on CPU; fake quantization with the
    # 4-bit code range computes the same quantize-dequantize round trip.
    {
        "name": "uint4_channel",
        "format": "uint4",
        "granularity": "channel",
        "symmetric": False,
        "quant_min": 0,
        "quant_max": 15,
        "reference": (
            f"obs = {OBS}.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.quint8, "
            "qscheme=torch.per_channel_affine, quant_min=0, quant_max=15); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "dequant = torch.fake_quantize_per_channel_affine(x, scale, zero_point.to(torch.int32), 0, 0, 15)"
        ),
    },
    {
        "name": "int4_channel",
        "format": "int4",
        "granularity": "channel",
        "symmetric": True,
        "quant_min": -7,
        "quant_max": 7,
        "reference": (
            f"obs = {OBS}.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, "
            "qscheme=torch.per_channel_symmetric, quant_min=-7, quant_max=7); "
            "obs(x); scale, zero_point = obs.calculate_qparams(); "
            "dequant = torch.fake_quantize_per_channel_affine(x, scale, zero_point.to(torch.int32), 0, -7, 7)"
        ),
    },
]


def base_input(rng, shape):
    """Weight-like values: per-channel spread, outlier and one-signed channels, zeros."""
    c = shape[0]
    n = int(np.prod(shape[1:]))
    x = rng.standard_normal((c, n)) * 0.05 * rng.lognormal(0.0, 0.3, size=(c, 1))
    for ch in OUTLIER_CHANNELS:
        x[ch] *= 8.0
    x[NEGATIVE_CHANNEL] = -np.abs(x[NEGATIVE_CHANNEL])
    x[POSITIVE_CHANNEL] = np.abs(x[POSITIVE_CHANNEL])
    x[rng.random((c, n)) < 0.04] = 0.0
    return x.astype(np.float32)


def pow2_at_least(v):
    return float(2.0 ** np.ceil(np.log2(v)))


def tie_offsets(rng, count, lo, hi):
    """count values k + 0.5 with lo <= k < hi: exactly halfway between codes."""
    return rng.integers(lo, hi, size=count).astype(np.float64) + 0.5


def pin_tensor_range(rng, x, case):
    """Per-tensor: pin the global min/max so the scale is a power of two, then
    place exact half-code values in the ordinary channels."""
    qmin, qmax = case["quant_min"], case["quant_max"]
    flat = x.reshape(-1)
    if case["symmetric"]:
        s = pow2_at_least(np.abs(flat).max() / qmax)
        i = int(np.argmax(np.abs(flat)))
        flat[i] = np.copysign(qmax * s, flat[i])
        z = 0
    else:
        span = qmax - qmin
        lo, hi = min(flat.min(), 0.0), max(flat.max(), 0.0)
        s = pow2_at_least((hi - lo) / (span - 1))
        z = int(np.ceil(-lo / s))
        flat[int(np.argmin(flat))] = -z * s
        flat[int(np.argmax(flat))] = (span - z) * s
    ordinary = [c for c in range(x.shape[0]) if c not in OUTLIER_CHANNELS + (NEGATIVE_CHANNEL, POSITIVE_CHANNEL)]
    rows = x.reshape(x.shape[0], -1)
    for c in ordinary[:4]:
        cols = rng.choice(rows.shape[1], size=3, replace=False)
        rows[c, cols] = tie_offsets(rng, 3, -6, 6) * s
    return s, z


def pin_channel(rng, x, case):
    """Per-channel: rebuild TIE_CHANNEL with a power-of-two scale, its exact
    min/max, a zero and many half-code values."""
    qmin, qmax = case["quant_min"], case["quant_max"]
    rows = x.reshape(x.shape[0], -1)
    n = rows.shape[1]
    s = pow2_at_least(0.15 / (qmax - qmin))
    if case["symmetric"]:
        lo_code, hi_code, z = -qmax, qmax, 0
    else:
        z = int(rng.integers(1, qmax - qmin))
        lo_code, hi_code = qmin - z, qmax - z
    row = rng.uniform(lo_code * s, hi_code * s, size=n)
    idx = rng.permutation(n)
    row[idx[0]] = lo_code * s
    row[idx[1]] = hi_code * s
    row[idx[2]] = 0.0
    ties = idx[3 : 3 + n // 3]
    row[ties] = tie_offsets(rng, len(ties), lo_code, hi_code) * s
    rows[TIE_CHANNEL] = row
    return s, z


def bits(t):
    return t.contiguous().view(torch.int32).numpy()


def run_case(rng, case, suffix, shape):
    x = base_input(rng, shape)
    if case["granularity"] == "tensor":
        pinned_scale, pinned_zp = pin_tensor_range(rng, x, case)
    else:
        pinned_scale, pinned_zp = pin_channel(rng, x, case)

    # Every channel stays clearly non-zero: for an all-zero group torch clamps the
    # scale to float32 eps while QuantScope uses 1, which is a convention, not a bug.
    amax = np.abs(x.reshape(x.shape[0], -1)).max(axis=1)
    assert amax.min() > 1e-3, "a channel is (nearly) zero"
    assert (x == 0.0).any()

    xt = torch.from_numpy(x.copy())
    ns = {"torch": torch, "x": xt}
    exec(case["reference"], ns)
    scale = ns["scale"].to(torch.float32).reshape(-1)
    zero_point = ns["zero_point"].reshape(-1)
    dequant = ns["dequant"]
    assert dequant.dtype == torch.float32 and dequant.shape == xt.shape
    assert torch.equal(xt, torch.from_numpy(x)), "torch modified the input"

    # The pinned group must really have got the power-of-two scale.
    group = 0 if case["granularity"] == "tensor" else TIE_CHANNEL
    assert float(scale[group]) == pinned_scale, (case["name"], float(scale[group]), pinned_scale)
    assert int(zero_point[group]) == pinned_zp, (case["name"], int(zero_point[group]), pinned_zp)

    if "cross_check" in case:
        exec(case["cross_check"], ns)
        if not np.array_equal(bits(ns["fake"]), bits(dequant)):
            diff = int((bits(ns["fake"]) != bits(dequant)).sum())
            raise AssertionError(f"{case['name']}{suffix}: fake quantize differs from quantize/dequantize in {diff} values")

    tensors = [
        ("x", "F32", x),
        ("dequant", "F32", dequant.numpy()),
        ("scale", "F32", scale.numpy()),
        ("zero_point", "I32", zero_point.to(torch.int32).numpy()),
    ]
    metadata = {
        "format": case["format"],
        "granularity": case["granularity"],
        "channel_axis": "0",
        "quant_min": str(case["quant_min"]),
        "quant_max": str(case["quant_max"]),
        "torch_version": torch.__version__,
        "reference": case["reference"],
    }
    path = os.path.join(OUT_DIR, case["name"] + suffix + ".safetensors")
    size = write_safetensors(path, tensors, metadata)
    verify(path, tensors, metadata)

    # Independent sanity check of the stored data against the stored parameters.
    _, got = read_safetensors(path)
    gx, gdq = got["x"][2], got["dequant"][2]
    gs, gz = got["scale"][2], got["zero_point"][2].astype(np.int64)
    rows = gx.reshape(gx.shape[0], -1) if case["granularity"] == "channel" else gx.reshape(1, -1)
    codes = np.rint(gdq.reshape(rows.shape) / gs[:, None]).astype(np.int64) + gz[:, None]
    assert codes.min() >= case["quant_min"] and codes.max() <= case["quant_max"]
    err = np.abs(gdq.reshape(rows.shape) - rows)
    assert (err <= gs[:, None] * 0.5001).all(), f"{path}: error exceeds half a step"
    return path, size


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for case in CASES:
        for suffix, shape in SHAPES.items():
            # One generator per file, so adding a case does not change the others.
            rng = np.random.default_rng([SEED, CASES.index(case), len(suffix)])
            path, size = run_case(rng, case, suffix, shape)
            total += size
            print(f"{os.path.relpath(path, HERE)}: {size} bytes")
    print(f"torch {torch.__version__}, {total} bytes in total")


if __name__ == "__main__":
    main()
