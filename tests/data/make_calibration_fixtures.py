#!/usr/bin/env python3
"""Generate tests/data/calibration/: independent references for the calibration methods
(engine/formats/calibration.h), so the C++ tests run without Python.

  inputs.f32     every input array, little-endian float32, concatenated
  expected.json  {"numpy_version", "torch_version", "percentile": [...], "mse": [...],
                 "hqq": [...]}, each case naming its input by offset and length

percentile  np.percentile(x.astype(float64), p) with NumPy's default method ("linear"),
            of x or of |x| ("abs": true), for P from 0 to 100.
mse         the grid search of the clipping range written here again with NumPy, float32
            arithmetic step by step as the engine's README states it (scale rules,
            nearbyint with ties to even, clamping, (q - zp) * s) and the squared error
            summed in float64: the chosen scale and zero point, and whether its error is
            strictly below min-max's ("changed").
hqq         the documented HQQ zero-point optimisation (calibration.h, hqqParams) written
            again with PyTorch float32 tensor operations (torch.round, torch.pow, the
            shrink as sign(t) * relu(|t| - |t|^(p-1) / beta)), sums and means in float64:
            the fp16 zero, the scale and the iteration count. The script also runs HQQ's
            own loop semantics (optimize_weights_proximal_legacy: the zero after the last
            update is returned, no fp16 rounding inside the loop) and prints how much the
            two differ; that comparison is informative only and not stored.

All values are written as the shortest decimal that reads back as the same double, so
parsing them as double (and converting to float32 where the value is a float) is exact.

Usage: /usr/bin/python3 tests/data/make_calibration_fixtures.py
"""

import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "calibration")
SEED = 20240611

F32 = np.float32
HIGH_PERCENTILES = [50.0, 62.5, 90.0, 99.0, 99.9, 99.99, 100.0]
# The engine clips affine ranges at 100 - P computed in double (0.09999999999999432 for
# P = 99.9), so those exact values are the low percentiles asked for.
PERCENTILES = sorted(set(HIGH_PERCENTILES + [100.0 - p for p in HIGH_PERCENTILES] + [0.1]))
MSE_FORMATS = [("int2", 1, False), ("int4", 7, False), ("int8", 127, False),
               ("uint2", 3, True), ("uint4", 15, True), ("uint8", 255, True)]
HQQ_QMAX = [3, 7, 15, 255]


class Inputs:
    def __init__(self):
        self.chunks = []
        self.size = 0

    def add(self, x):
        x = np.ascontiguousarray(x, dtype=F32)
        offset = self.size
        self.chunks.append(x)
        self.size += x.size
        return offset, int(x.size)

    def write(self, path):
        np.concatenate(self.chunks).astype("<f4").tofile(path)


def percentile_arrays(rng):
    yield np.array([0.37], F32)
    yield np.array([-1.0, 3.0], F32)
    yield np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], F32)  # ties
    yield rng.normal(0.0, 0.02, 128).astype(F32)
    heavy = rng.normal(0.0, 1.0, 1000).astype(F32)
    heavy[::97] *= 40.0
    yield heavy
    yield rng.laplace(0.0, 0.5, 4097).astype(F32)
    yield -np.abs(rng.normal(1.0, 0.3, 129)).astype(F32)
    dup = rng.choice(np.array([-0.0, 0.0, 0.25, -0.5, 1.0], F32), 64).astype(F32)
    yield dup


# --- the engine's scale rules, float32 step by step (README "Formats") ---

def store_scale(s, fp16):
    return F32(np.float16(min(s, F32(65504.0)))) if fp16 else F32(s)


def symmetric_params(amax, qmax, fp16):
    amax = F32(amax)
    with np.errstate(all="ignore"):
        s = F32(amax / F32(qmax))
        if amax == 0 or not np.isfinite(s) or not np.isfinite(F32(1.0) / s):
            s = F32(1.0)
    s = store_scale(s, fp16)
    inv = F32(0.0) if s == 0 else F32(F32(1.0) / s)
    return s, inv, 0


def affine_params(mn, mx, qmax, fp16):
    mn = min(F32(mn), F32(0.0))
    mx = max(F32(mx), F32(0.0))
    with np.errstate(all="ignore"):
        s = max(F32(F32(mx - mn) / F32(qmax)), F32(2.0 ** -23))
        if not np.isfinite(s):
            s = F32(1.0)
    s = store_scale(s, fp16)
    if s == 0:
        return s, F32(0.0), 0
    z = np.rint(np.clip(F32(F32(0.0) - F32(mn / s)), F32(0.0), F32(qmax)))
    return s, F32(F32(1.0) / s), int(z)


def squared_error(x, params, qmax, affine):
    s, inv, zp = params
    y = (x * inv).astype(F32)
    if affine:
        q = (F32(zp) + np.rint(np.clip(y, F32(-zp), F32(qmax - zp)))).astype(F32)
    else:
        q = np.rint(np.clip(y, F32(-qmax), F32(qmax))).astype(F32)
    d = ((q - F32(zp)).astype(F32) * s).astype(F32)
    e = (x - d).astype(F32).astype(np.float64)
    return float(np.sum(e * e))


def mse_reference(x, qmax, affine, fp16):
    mn, mx = F32(x.min()), F32(x.max())

    def params(lo, hi):
        if affine:
            return affine_params(lo, hi, qmax, fp16)
        return symmetric_params(max(abs(lo), abs(hi)), qmax, fp16)

    base = params(mn, mx)
    best, best_err = base, squared_error(x, base, qmax, affine)
    for k in range(1, 80):
        f = 1.0 - k / 100.0
        cand = params(F32(float(mn) * f), F32(float(mx) * f))
        err = squared_error(x, cand, qmax, affine)
        if err < best_err:
            best, best_err = cand, err
    changed = best_err < squared_error(x, base, qmax, affine)
    return best, changed


def mse_groups(rng):
    for g in range(20):
        x = rng.normal(0.0, 0.02, 128).astype(F32)
        if g % 4 == 1:
            x[rng.integers(0, 128)] *= 25.0  # one outlier, like the benchmark's data
        if g % 5 == 2:
            x = np.abs(x)  # positive only: the affine zero point sits at 0
        yield x
    yield rng.standard_t(3, 128).astype(F32)
    yield np.full(128, 0.5, F32)
    yield np.zeros(128, F32)
    yield rng.normal(0.0, 0.02, 4096).astype(F32)


# --- HQQ ---

P, BETA, KAPPA, ITERS = 0.7, 10.0, 1.01, 20


def shrink(t, beta):
    a = t.abs()
    return torch.sign(t) * torch.relu(a - a.pow(P - 1.0) / beta)


def hqq_documented(x, qmax, fp16):
    w = torch.from_numpy(x)
    mn, mx = w.min(), w.max()
    s = (mx - mn) / qmax
    if fp16:
        s = s.clamp(max=65504.0).half().float()
    inv = 1.0 / s
    z = (-mn * inv).half().float()
    beta, best_err, best_z, iters = BETA, float("inf"), z, 0
    for it in range(ITERS):
        q = torch.round(w * inv + z).clamp(0, qmax)
        t = w - (q - z) * s
        e = shrink(t, beta)
        z_sum = (q - (w - e) * inv).double().mean()
        err = float(t.abs().double().mean())
        iters = it + 1
        if not err < best_err:
            break
        best_err, best_z = err, z
        z = z_sum.float().half().float()
        beta *= KAPPA
    return float(s), float(best_z), iters


def hqq_legacy(x, qmax):
    """HQQ's own loop on CPU (float32): returns the dequantization scale and zero as it
    stores them (both fp16)."""
    w = torch.from_numpy(x)
    mn, mx = w.min(), w.max()
    inv = (qmax / (mx - mn)).clamp(max=2e4)
    z = -mn * inv
    beta, best = BETA, 1e4
    for _ in range(ITERS):
        q = torch.round(w * inv + z).clamp(0, qmax)
        r = (q - z) / inv
        e = shrink(w - r, beta)
        z = torch.mean(q - (w - e) * inv)
        beta *= KAPPA
        err = float(torch.abs(w - r).mean())
        if err < best:
            best = err
        else:
            break
    return float((1.0 / inv).half()), float(z.half())


def float_zero_sq_error(x, s, z, qmax):
    s, z = F32(s), F32(z)
    inv = F32(F32(1.0) / s)
    q = np.clip(np.rint((x * inv).astype(F32) + z), 0, qmax).astype(F32)
    e = (x - ((q - z).astype(F32) * s).astype(F32)).astype(np.float64)
    return float(np.sum(e * e))


def hqq_groups(rng):
    for g in range(16):
        std = 1.0 if g % 2 else 0.02  # at std 1 the shrink is active, at 0.02 never
        x = rng.normal(0.0, std, 128).astype(F32)
        if g % 4 == 3:
            x[rng.integers(0, 128)] *= 8.0
        yield x
    yield np.abs(rng.normal(0.0, 1.0, 128)).astype(F32) + F32(0.5)  # zero point below 0
    yield rng.normal(0.0, 1.0, 2048).astype(F32)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(SEED)
    inputs = Inputs()
    expected = {"numpy_version": np.__version__, "torch_version": torch.__version__,
                "percentile": [], "mse": [], "hqq": []}

    for x in percentile_arrays(rng):
        offset, n = inputs.add(x)
        x64 = x.astype(np.float64)
        for use_abs in (False, True):
            v = np.abs(x64) if use_abs else x64
            for p in PERCENTILES:
                expected["percentile"].append({
                    "offset": offset, "n": n, "abs": use_abs, "p": p,
                    "value": float(np.percentile(v, p))})

    for x in mse_groups(rng):
        offset, n = inputs.add(x)
        for name, qmax, affine in MSE_FORMATS:
            for fp16 in (False, True):
                (s, _, zp), changed = mse_reference(x, qmax, affine, fp16)
                expected["mse"].append({
                    "offset": offset, "n": n, "format": name, "qmax": qmax, "affine": affine,
                    "fp16_scale": fp16, "scale": float(s), "zero_point": zp,
                    "changed": bool(changed)})

    worse = better = 0
    for x in hqq_groups(rng):
        offset, n = inputs.add(x)
        for qmax in HQQ_QMAX:
            for fp16 in (False, True):
                s, z, iters = hqq_documented(x, qmax, fp16)
                expected["hqq"].append({
                    "offset": offset, "n": n, "qmax": qmax, "fp16_scale": fp16,
                    "scale": s, "zero": z, "iterations": iters})
                ls, lz = hqq_legacy(x, qmax)
                ours = float_zero_sq_error(x, s, z, qmax)
                theirs = float_zero_sq_error(x, ls, lz, qmax)
                worse += ours > theirs
                better += ours < theirs

    inputs.write(os.path.join(OUT_DIR, "inputs.f32"))
    with open(os.path.join(OUT_DIR, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"{inputs.size} input values, {len(expected['percentile'])} percentile, "
          f"{len(expected['mse'])} mse, {len(expected['hqq'])} hqq cases")
    print(f"hqq as documented vs HQQ legacy loop, squared error: lower in {better}, "
          f"higher in {worse} of {len(expected['hqq'])} cases")


if __name__ == "__main__":
    main()
