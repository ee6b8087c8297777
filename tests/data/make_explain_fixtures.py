#!/usr/bin/python3
"""Expected rows of the number explorer (engine/teach/explain.h) for tst_explain.

Written from the format definitions, not from QuantScope's C++:
- every value is first a float32 weight: numpy's float64 -> float32 cast (nearest, ties to even);
- fp16: numpy's float32 -> float16 cast (IEEE, ties to even, overflow to Inf); neighbours by
  numpy.nextafter in float16;
- bf16: round to nearest even on the float32 bit pattern (the top 16 bits are kept), NaN quiet;
  neighbours from the sorted table of all finite bf16 values;
- fp8 E4M3FN / E5M2 (OCP OFP8 v1.0) and FP4 E2M1 (OCP MX v1.0): every code's value from the
  sign/exponent/mantissa definition, then the nearest value by exact float64 comparison with ties
  to the even code, saturating at +-max (also +-Inf); NaN is code 0x7F for fp8 (sign kept) and
  +0 for E2M1, which has no NaN (the project's convention);
- integers, all in float32 as the engine's README states: symmetric s = hi / qmax, codes
  clamp(rint(x * (1 / s)), -qmax, qmax); affine (PyTorch MinMax) mn = min(lo, 0), mx = max(hi, 0),
  s = max((mx - mn) / qmax, 2^-23), zp = clamp(rint(-mn / s), 0, qmax),
  q = clamp(zp + rint(x * (1 / s)), 0, qmax), decoded (q - zp) * s; neighbours are codes +-1.
Run with Debian's /usr/bin/python3; writes tests/data/explain/explain_cases.json. Each case holds
the value, the range and per format [code, decoded, below, above]; non-finite numbers are the
strings "inf", "-inf", "nan" and a missing neighbour is null.
"""
import json
import math
import os
from fractions import Fraction

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explain")
F32 = np.float32


def minifloat_table(ebits, mbits, bias, specials):
    """Value of every code, sign bit on top; specials 'fn' (S.1111.111 NaN), 'ieee' or 'none'."""
    n = 1 << (1 + ebits + mbits)
    top = (1 << ebits) - 1
    values = []
    for c in range(n):
        sign = -1.0 if c >> (ebits + mbits) else 1.0
        e = (c >> mbits) & top
        m = c & ((1 << mbits) - 1)
        if specials == "ieee" and e == top:
            v = math.inf if m == 0 else math.nan
        elif specials == "fn" and e == top and m == (1 << mbits) - 1:
            v = math.nan
        elif e == 0:
            v = math.ldexp(m, 1 - bias - mbits)
        else:
            v = math.ldexp((1 << mbits) + m, e - bias - mbits)
        values.append(sign * v)
    return values


class Minifloat:
    def __init__(self, ebits, mbits, bias, specials, nan_code):
        self.table = minifloat_table(ebits, mbits, bias, specials)
        self.sign = 1 << (ebits + mbits)
        self.nan_code = nan_code
        finite = [v for v in self.table if math.isfinite(v)]
        self.max = max(finite)
        self.grid = sorted(set(finite))  # +0 and -0 are one point

    def encode(self, y):
        y = float(y)
        sign = self.sign if math.copysign(1.0, y) < 0 else 0
        if math.isnan(y):  # fp8 keeps NaN (and its sign); E2M1 has none and stores +0
            return 0 if self.nan_code is None else sign | self.nan_code
        a = Fraction(min(abs(y), self.max))
        best = None
        for c in range(self.sign):  # magnitude codes, finite ones only
            v = self.table[c]
            if not math.isfinite(v):
                continue
            d = abs(Fraction(v) - a)
            if best is None or d < best[0] or (d == best[0] and c % 2 == 0):
                best = (d, c)
        return sign | best[1]

    def neighbours(self, decoded):
        if math.isnan(decoded):
            return None, None
        below = [v for v in self.grid if v < decoded]
        above = [v for v in self.grid if v > decoded]
        return (below[-1] if below else None), (above[0] if above else None)


E4M3 = Minifloat(4, 3, 7, "fn", 0x7F)
E5M2 = Minifloat(5, 2, 15, "ieee", 0x7F)
E2M1 = Minifloat(2, 1, 1, "none", None)


def finite_or_none(v):
    return float(v) if np.isfinite(v) else None


def fp32_row(x):
    code = int(np.array([x], F32).view(np.uint32)[0])
    if np.isnan(x):
        return [code, float(x), None, None]
    if np.isinf(x):
        m = float(np.finfo(F32).max)
        return [code, float(x)] + ([None, -m] if x < 0 else [m, None])
    below = np.nextafter(x, F32(-np.inf))
    above = np.nextafter(x, F32(np.inf))
    return [code, float(x), finite_or_none(below), finite_or_none(above)]


def fp16_row(x):
    h = np.float16(x)
    code = int(np.array([h], np.float16).view(np.uint16)[0])
    if np.isnan(h):
        return [code, float(h), None, None]
    # Beside an infinity lies only the largest finite value: nextafter gives it on one side and
    # the infinity itself on the other, which finite_or_none drops.
    below = np.nextafter(h, np.float16(-np.inf))
    above = np.nextafter(h, np.float16(np.inf))
    return [code, float(h), finite_or_none(below), finite_or_none(above)]


def bf16_value(code):
    return float(np.array([code << 16], np.uint32).view(F32)[0])


BF16_GRID = sorted({bf16_value(c) for c in range(1 << 16) if math.isfinite(bf16_value(c))})


def bf16_row(x):
    b = int(np.array([x], F32).view(np.uint32)[0])
    if np.isnan(x):
        code = (b >> 16) | 0x40
    else:
        keep, rest = b >> 16, b & 0xFFFF
        if rest > 0x8000 or (rest == 0x8000 and keep & 1):
            keep += 1
        code = keep
    d = bf16_value(code)
    if math.isnan(d):
        return [code, d, None, None]
    below = [v for v in BF16_GRID if v < d]
    above = [v for v in BF16_GRID if v > d]
    return [code, d, below[-1] if below else None, above[0] if above else None]


def minifloat_row(fmt, x):
    code = fmt.encode(x)
    d = fmt.table[code]
    below, above = fmt.neighbours(d)
    return [code, d, below, above]


def int_row(x, lo, hi, bits):
    x, lo, hi = F32(x), F32(lo), F32(hi)
    with np.errstate(all="ignore"):
        if lo == -hi:
            qmax = (1 << (bits - 1)) - 1
            qmin, zp = -qmax, 0
            s = hi / F32(qmax)
            if not np.isfinite(s) or not np.isfinite(F32(1) / s) or hi == 0:
                s = F32(1)
        else:
            qmax, qmin = (1 << bits) - 1, 0
            mn, mx = min(lo, F32(0)), max(hi, F32(0))
            s = max((mx - mn) / F32(qmax), F32(2.0**-23))
            if not np.isfinite(s):
                s = F32(1)
            zp = int(np.rint(np.clip(F32(0) - mn / s, 0, qmax)))
        y = x * (F32(1) / s)
        if np.isnan(y):
            q = zp
        else:
            q = int(np.clip(zp + np.rint(np.clip(y, -1024, 1024)), qmin, qmax))
        dec = lambda c: float(F32(c - zp) * s)
    return [q, dec(q), dec(q - 1) if q > qmin else None, dec(q + 1) if q < qmax else None]


def rows(value, lo, hi):
    x = F32(value)
    with np.errstate(all="ignore"):
        out = {"fp32": fp32_row(x), "fp16": fp16_row(x), "bf16": bf16_row(x),
               "fp8_e4m3": minifloat_row(E4M3, x), "fp8_e5m2": minifloat_row(E5M2, x),
               "fp4_e2m1": minifloat_row(E2M1, x)}
    prefix = "int" if lo == -hi else "uint"
    out[prefix + "8"] = int_row(value, lo, hi, 8)
    out[prefix + "4"] = int_row(value, lo, hi, 4)
    return out


def jsonable(v):
    if isinstance(v, list):
        return [jsonable(e) for e in v]
    if isinstance(v, dict):
        return {k: jsonable(e) for k, e in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def values():
    vs = [0.87654321, 0.0, -0.0, 1.0, -1.0, 0.5, 6.0, 448.0, 57344.0, 65504.0]
    # Ties of each float format (exactly halfway between neighbours, as float32).
    vs += [1 + 2.0**-11, 1 + 3 * 2.0**-11, 1 + 2.0**-8, 1 + 3 * 2.0**-8, 1.0625, 1.1875, 1.125,
           1.375, 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, -2.5, -0.75, 2049.0, 2051.0]
    # Subnormals of fp16, fp8 and fp4, and values that round to zero.
    vs += [2.0**-24, 3 * 2.0**-25, 2.0**-25, 6e-8, 2.0**-9, 2.0**-10, 3 * 2.0**-10, 2.0**-16,
           2.0**-17, 1e-40, -1e-45, 2.0**-14 * 0.999, 1e-5, -3e-6]
    # Overflow and saturation.
    vs += [449.0, 464.0, 465.0, 480.0, 1000.0, -1000.0, 57344.0 + 4096, 61440.0, 65519.0, 65520.0,
           7.0, -6.5, 1e6, 3e38, 1e39, -1e39, math.inf, -math.inf, math.nan]
    # Integer grid points and halfway points for the ranges below.
    vs += [k / 127 for k in (1, 50, 111, 127)] + [(k + 0.5) / 127 for k in (0, 10, 111, -3)]
    vs += [(k + 0.5) / 255 for k in (0, 100, 223)] + [(k + 0.5) / 7 for k in (-4, 0, 3, 6)]
    vs += [1.5, -1.5, 2.0, -2.0, 0.999, -0.999]
    rng = np.random.default_rng(8)
    mags = 10.0 ** rng.uniform(-9, 5, 110)
    signs = np.where(rng.random(110) < 0.5, -1.0, 1.0)
    vs += [float(v) for v in mags * signs]
    vs += [float(v) for v in rng.uniform(-1.2, 1.2, 30)]
    return vs


RANGES = [(-1.0, 1.0), (0.0, 1.0), (-2.0, 6.0), (-0.5, 0.5), (0.25, 2.0), (-3.0, -1.0),
          (-1e-3, 1e-3), (-100.0, 100.0)]


def main():
    np.seterr(all="ignore")  # the overflow cases (1e39 -> float32 Inf) are intended
    cases = []
    vs = values()
    for i, v in enumerate(vs):
        lo, hi = RANGES[i % len(RANGES)]
        cases.append({"value": v, "lo": lo, "hi": hi, "formats": rows(v, lo, hi)})
    for lo, hi in RANGES[1:]:  # the default value against every range
        cases.append({"value": vs[0], "lo": lo, "hi": hi, "formats": rows(vs[0], lo, hi)})
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "explain_cases.json"), "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(jsonable(c), allow_nan=False) for c in cases))
        f.write("\n]\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
