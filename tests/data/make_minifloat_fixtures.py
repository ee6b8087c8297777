#!/usr/bin/python3
"""Golden vectors for the fp8_e4m3, fp8_e5m2, mxfp4 (FP4 E2M1) and nf4 codecs.

Written from the format definitions, not from QuantScope's C++:
- OCP 8-bit Floating Point Specification (OFP8) v1.0: E4M3 (bias 7, no Inf, S.1111.111 = NaN,
  max 448) and E5M2 (bias 15, IEEE-like Inf/NaN, max 57344); saturating conversion: round to
  nearest, ties to even, overflow and +-Inf to +-max, NaN to NaN.
- OCP Microscaling Formats (MX) v1.0: FP4 E2M1 elements, E8M0 shared scale
  X = 2^(floor(log2(amax)) - emax_elem), emax_elem = 2, clamped to [-127, 127] like the spec's
  reference code (microsoft/microxcaling, mx_ops.py).
- bitsandbytes NF4 (csrc/kernels.cu, dQuantizeNF4 / dDequantizeNF4): the 16 levels and the 15
  decision constants below are typed in from that source; code = number of constants t with
  y > t, y = x * (1 / absmax) in float32.
Every element decision is made in exact arithmetic (float64 sums and comparisons of dyadic
numbers that are exact); where the definition says float32 (x / s, 1 / absmax, x * inv, nf4's
level * absmax) numpy's IEEE float32 operations are used; the fp8 and mxfp4 products are exact in
float64 and rounded once to float32. Run with Debian's /usr/bin/python3; writes
tests/data/minifloat/ (see the README there).
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minifloat")
F32 = np.float32

# ---------------------------------------------------------------------------------------------
# Element formats from the OCP definitions
# ---------------------------------------------------------------------------------------------


def decode_table(ebits, mbits, bias, specials):
    """Values of every code (sign bit on top). specials: 'fn' (only S.1..1.1..1 is NaN),
    'ieee' (all-ones exponent: Inf / NaN) or 'none'."""
    n = 1 << (1 + ebits + mbits)
    top = (1 << ebits) - 1
    out = np.empty(n, np.float64)
    for c in range(n):
        sign = -1.0 if c >> (ebits + mbits) else 1.0
        e = (c >> mbits) & top
        m = c & ((1 << mbits) - 1)
        if specials == "ieee" and e == top:
            v = np.inf if m == 0 else np.nan
        elif specials == "fn" and e == top and m == (1 << mbits) - 1:
            v = np.nan
        elif e == 0:
            v = m * 2.0 ** (1 - bias - mbits)
        else:
            v = (1.0 + m / 2.0**mbits) * 2.0 ** (e - bias)
        out[c] = sign * v
    return out


E4M3 = dict(table=decode_table(4, 3, 7, "fn"), sign=0x80, nan=0x7F, max=448.0)
E5M2 = dict(table=decode_table(5, 2, 15, "ieee"), sign=0x80, nan=0x7F, max=57344.0)
E2M1 = dict(table=decode_table(2, 1, 1, "none"), sign=0x8, nan=None, max=6.0)


def encode(fmt, y):
    """Saturating round-to-nearest-even of float32 values y to codes of fmt."""
    mags = fmt["table"][: fmt["sign"]]
    maxcode = int(np.nonzero(mags == fmt["max"])[0][0])
    mags = mags[: maxcode + 1]  # increasing with the code
    assert np.all(np.diff(mags) > 0)
    out = np.empty(len(y), np.uint8)
    for i, v in enumerate(np.asarray(y, F32).astype(np.float64)):
        sign = fmt["sign"] if np.signbit(v) else 0
        if np.isnan(v):
            # OFP8: NaN stays NaN (we emit the all-ones mantissa, keeping the sign). E2M1 has
            # no NaN: QuantScope's rule is +0.
            out[i] = (fmt["nan"] | sign) if fmt["nan"] is not None else 0
            continue
        a = abs(v)
        if a >= mags[-1]:
            c = maxcode  # saturate, also +-Inf
        else:
            hi = int(np.searchsorted(mags, a, side="left"))  # first value >= a
            if mags[hi] == a:
                c = hi
            else:
                lo = hi - 1
                # a vs the midpoint, compared as 2a vs lo + hi: both sides are exact in float64.
                twice, mid2 = 2.0 * a, mags[lo] + mags[hi]
                if twice != mid2:
                    c = hi if twice > mid2 else lo
                else:
                    c = lo if lo % 2 == 0 else hi  # tie: the even code
        out[i] = c | sign
    return out


def fp8_scale(fmt, amax):
    s = F32(amax) / F32(fmt["max"])
    if not (amax > 0 and np.isfinite(amax) and s > 0):
        s = F32(1.0)
    return F32(s)


def fp8_tensor(fmt, x):
    x = x.astype(F32)
    fin = x[np.isfinite(x)]
    amax = np.max(np.abs(fin)) if fin.size else F32(0)
    s = fp8_scale(fmt, amax)
    with np.errstate(all="ignore"):
        y = x / s  # IEEE float32 division
    codes = encode(fmt, y)
    # fp8 value * s: the float64 product of a <= 4-bit significand and a 24-bit one is exact,
    # so casting it rounds once, like a float32 multiplication.
    with np.errstate(all="ignore"):
        deq = (fmt["table"][codes] * np.float64(s)).astype(F32)
    return s, codes, deq


# ---------------------------------------------------------------------------------------------
# MXFP4
# ---------------------------------------------------------------------------------------------


def mx_block(x):
    x = x.astype(F32)
    fin = x[np.isfinite(x)]  # QuantScope's rule: NaN and Inf do not enter amax
    amax = float(np.max(np.abs(fin))) if fin.size else 0.0
    if amax == 0.0:
        e = -127
    else:
        _, ex = np.frexp(amax)  # amax in [2^(ex-1), 2^ex): floor(log2(amax)) = ex - 1
        e = int(ex) - 1 - 2
    e = min(max(e, -127), 127)
    X = 2.0**e
    y = x.astype(np.float64) / X  # exact
    codes = encode(E2M1, y.astype(F32))
    # y may not be a float32 when it underflows float32's range; it then rounds to code 0 either
    # way (|y| < 2^-126 < 0.25), so the float32 cast above changes no code.
    deq = (E2M1["table"][codes] * X).astype(F32)  # exact
    return e + 127, codes, deq


# ---------------------------------------------------------------------------------------------
# NF4
# ---------------------------------------------------------------------------------------------

NF4_LEVELS = [  # dDequantizeNF4, code 0 .. 15
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]
BNB_THRESHOLDS = [  # dQuantizeNF4's constants (written with an f suffix there), low to high
    -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544,
    -0.23460740596055984, -0.13791173323988914, -0.045525018125772476, 0.03979014977812767,
    0.1202552504837513, 0.2035212516784668, 0.2920137718319893, 0.3893125355243683,
    0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
]
LV32 = np.array(NF4_LEVELS, F32)
TH32 = np.array(BNB_THRESHOLDS, F32)
assert np.all(LV32.astype(np.float64) == np.array(NF4_LEVELS))  # the levels are float32 numbers


def nf4_codes(y):
    y = np.asarray(y, F32)
    c = (y[:, None] > TH32[None, :]).sum(axis=1).astype(np.uint8)
    c[np.isnan(y)] = 7  # QuantScope's rule for NaN
    return c


def nf4_nearest(y):
    """The nearest level in exact arithmetic, a tie going to the lower code (spec wording)."""
    out = np.empty(len(y), np.uint8)
    L = LV32.astype(np.float64)
    for i, v in enumerate(np.asarray(y, F32).astype(np.float64)):
        if np.isnan(v):
            out[i] = 7
            continue
        c = 0
        for k in range(15):
            if 2.0 * v > L[k] + L[k + 1]:  # exact: all three are float32 numbers
                c = k + 1
        out[i] = c
    return out


def nf4_block(x):
    x = x.astype(F32)
    ok = ~np.isnan(x)
    absmax = np.max(np.abs(x[ok])) if ok.any() else F32(0)
    with np.errstate(all="ignore"):
        inv = F32(1.0) / F32(absmax)
        y = x * inv
        codes = nf4_codes(y)
        deq = LV32[codes] * F32(absmax)
    return F32(absmax), codes, deq.astype(F32)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

rng = np.random.default_rng(20240611)


def nextafter32(v, toward):
    return np.nextafter(F32(v), F32(toward))


def element_inputs():
    """Decoded values, midpoints (ties) and their float32 neighbours for all three minifloats,
    values beyond the maximum, float32 specials and random magnitudes; both signs."""
    vals = []
    for fmt, beyond in ((E4M3, [464, 480, 500]), (E5M2, [59392, 61440, 65536]), (E2M1, [7, 8])):
        mags = [v for v in fmt["table"][: fmt["sign"]] if np.isfinite(v)]
        pts = list(mags) + [(a + b) / 2 for a, b in zip(mags, mags[1:])] + beyond
        for p in pts:
            p = F32(p)
            vals += [p, nextafter32(p, np.inf), nextafter32(p, 0)]
    vals += [F32(v) for v in (0.0, 1e-45, 1e-40, 1.17549435e-38, 1e-30, 3.4028235e38, np.inf)]
    vals += list((2.0 ** rng.uniform(-30, 20, 2000)).astype(F32))
    pos = np.array(vals, F32)
    y = np.concatenate([pos, -pos, np.array([np.nan, -np.nan], F32)])
    return y


def nf4_inputs():
    pts = list(TH32) + list(LV32) + [F32(v) for v in (2.0, 1e-45, 1.17549435e-38, np.inf)]
    vals = []
    for p in pts:
        up, down = nextafter32(p, np.inf), nextafter32(p, -np.inf)
        vals += [F32(p), up, down, nextafter32(up, np.inf), nextafter32(down, -np.inf)]
    vals += list(rng.uniform(-1.05, 1.05, 1500).astype(F32))
    y = np.array(vals, F32)
    return np.concatenate([y, -y, np.array([np.nan, 0.0, -0.0, -np.inf], F32)])


def log_uniform(n, lo, hi):
    mag = 2.0 ** rng.uniform(lo, hi, n)
    return (mag * rng.choice([-1.0, 1.0], n)).astype(F32)


def fp8_inputs():
    n = 512
    t = []
    t.append(rng.normal(0, 0.02, n))
    o = rng.normal(0, 0.02, n)
    o[::37] *= 30
    t.append(o)
    t.append(rng.uniform(-1, 1, n))
    t.append(log_uniform(n, -30, 10))  # many binades: fp8 subnormals after scaling
    t.append(log_uniform(n, -149, -120))  # float32 subnormals: s underflows, s = 1
    z = np.zeros(n)
    z[1::2] = -0.0
    t.append(z)
    w = rng.normal(0, 1, n)
    w[5], w[77], w[300], w[301] = np.nan, np.inf, -np.inf, -np.nan
    t.append(w)
    t.append(log_uniform(n, 120, 127.9))  # near float32's top
    t.append(rng.normal(0, 1e-3, n) * 10.0 ** rng.uniform(-3, 3, n))
    return [np.asarray(v, F32) for v in t]


def mx_rows():
    L = 100
    rows = []
    for _ in range(6):
        rows.append(rng.normal(0, 0.02, L))
    for _ in range(4):
        r = rng.normal(0, 0.02, L)
        r[::29] *= 40
        rows.append(r)
    for _ in range(4):
        rows.append(rng.uniform(-1, 1, L))
    for _ in range(4):
        rows.append(log_uniform(L, -40, 40))
    z = np.zeros(L)
    z[::3] = -0.0
    rows.append(z)
    r = rng.normal(0, 1e-3, L)
    r[:32] = 0.0
    rows.append(r)
    rows.append(log_uniform(L, -149, -129))  # subnormal amax: byte 0
    rows.append(log_uniform(L, -127, -123))  # amax exponent fields 0..4 around the clamp
    rows.append(log_uniform(L, 125, 127.99))  # the largest bytes
    ties = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 0.5, 1, 1.5, 2, 3, 4, 6])
    for _ in range(4):  # exact element ties: each block's amax is 6 * 2^k, so X = 2^k
        r = np.empty(L)
        for b in range(0, L, 32):
            k = int(rng.integers(-30, 30))
            m = min(32, L - b)
            v = rng.choice(np.concatenate([ties, -ties]), m) * 2.0**k
            v[0] = 6 * 2.0**k
            r[b : b + m] = v
        rows.append(r)
    for _ in range(2):  # amax in (6, 8) * X: elements past 6 saturate
        r = np.empty(L)
        for b in range(0, L, 32):
            k = int(rng.integers(-10, 10))
            m = min(32, L - b)
            r[b : b + m] = rng.uniform(-7.99, 7.99, m) * 2.0**k
            r[b] = 7.99 * 2.0**k
        rows.append(r)
    r = rng.normal(0, 1, L)
    r[3], r[40], r[41], r[70] = np.nan, np.inf, -np.inf, -np.nan
    rows.append(r)
    r = rng.normal(0, 1, L)
    r[:32] = np.nan
    r[32:64] = np.inf
    r[64:96:2] = -np.inf
    rows.append(r)
    while len(rows) < 40:
        rows.append(rng.normal(0, 1, L) * 10.0 ** rng.uniform(-5, 5))
    return np.concatenate([np.asarray(v, F32) for v in rows])


def nf4_rows():
    L, B = 200, 64
    rows = []
    for _ in range(5):
        rows.append(rng.normal(0, 0.02, L))
    for _ in range(2):
        r = rng.normal(0, 0.02, L)
        r[::31] *= 25
        rows.append(r)
    for _ in range(2):
        rows.append(rng.uniform(-1, 1, L))
    z = np.zeros(L)
    z[::5] = -0.0
    rows.append(z)
    r = rng.normal(0, 1, L)
    r[[2, 9, 150]] = np.nan
    r[64:128] = np.nan
    rows.append(r)
    r = rng.normal(0, 1, L)
    r[10], r[140] = np.inf, -np.inf
    rows.append(r)
    r = log_uniform(L, -145, -129).astype(np.float64)  # 1 / absmax overflows to Inf
    r[::4] = 0.0
    rows.append(r)
    pts = np.concatenate([TH32, LV32]).astype(np.float64)
    for _ in range(3):  # absmax = 2^k exactly, values on the decision points (exact products)
        r = np.empty(L)
        for b in range(0, L, B):
            k = int(rng.integers(-20, 20))
            m = min(B, L - b)
            v = rng.choice(np.concatenate([pts, -pts]), m) * 2.0**k
            v[0] = 2.0**k
            r[b : b + m] = v
        rows.append(r)
    while len(rows) < 20:
        rows.append(log_uniform(L, -30, 30))
    return np.concatenate([np.asarray(v, F32) for v in rows])


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def save(name, arr, dtype):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(np.ascontiguousarray(arr, dtype=dtype).tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, fmt in (("e4m3", E4M3), ("e5m2", E5M2), ("e2m1", E2M1)):
        save(f"{name}_decode.f32", fmt["table"].astype(F32), "<f4")

    y = element_inputs()
    save("elem_y.f32", y, "<f4")
    for name, fmt in (("e4m3", E4M3), ("e5m2", E5M2), ("e2m1", E2M1)):
        save(f"{name}_y.u8", encode(fmt, y), "u1")

    save("nf4_levels.f32", LV32, "<f4")
    save("nf4_thresholds.f32", TH32, "<f4")
    yn = nf4_inputs()
    bnb, near = nf4_codes(yn), nf4_nearest(yn)
    save("nf4_y.f32", yn, "<f4")
    save("nf4_y.u8", bnb, "u1")
    save("nf4_y_nearest.u8", near, "u1")
    differ = sorted(set(float(v) for v in yn[bnb != near]))
    print("nf4: bitsandbytes' rule and the nearest level differ at", differ)

    tensors = fp8_inputs()
    save("fp8_x.f32", np.concatenate(tensors), "<f4")
    for name, fmt in (("e4m3", E4M3), ("e5m2", E5M2)):
        res = [fp8_tensor(fmt, t) for t in tensors]
        save(f"{name}_scale.f32", np.array([r[0] for r in res], F32), "<f4")
        save(f"{name}_codes.u8", np.concatenate([r[1] for r in res]), "u1")
        save(f"{name}_dequant.f32", np.concatenate([r[2] for r in res]), "<f4")

    x = mx_rows()
    save("mxfp4_x.f32", x, "<f4")
    scales, codes, deq = [], [], []
    for r in range(len(x) // 100):
        row = x[r * 100 : (r + 1) * 100]
        for b in range(0, 100, 32):
            s, c, d = mx_block(row[b : b + 32])
            scales.append(s)
            codes.append(c)
            deq.append(d)
    save("mxfp4_scales.u8", np.array(scales), "u1")
    save("mxfp4_codes.u8", np.concatenate(codes), "u1")
    save("mxfp4_dequant.f32", np.concatenate(deq), "<f4")

    x = nf4_rows()
    save("nf4_x.f32", x, "<f4")
    absmax, codes, deq = [], [], []
    for r in range(len(x) // 200):
        row = x[r * 200 : (r + 1) * 200]
        for b in range(0, 200, 64):
            a, c, d = nf4_block(row[b : b + 64])
            absmax.append(a)
            codes.append(c)
            deq.append(d)
    save("nf4_absmax.f32", np.array(absmax, F32), "<f4")
    save("nf4_codes.u8", np.concatenate(codes), "u1")
    save("nf4_dequant.f32", np.concatenate(deq), "<f4")

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
