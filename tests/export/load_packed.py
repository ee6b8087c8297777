#!/usr/bin/python3
"""Loads a QuantScope "packed" safetensors file with NumPy alone and dequantizes it.

The layout is described in README.md ("Exports"): every quantized tensor NAME is stored as
NAME.qweight (codes), NAME.scales and NAME.zeros, and the JSON string in the file's
__metadata__["quantscope.packed"] says how to read them. Tensors written as they are pass
through unchanged (bfloat16 and fp8 become float32, which NumPy lacks).

    /usr/bin/python3 load_packed.py IN.safetensors OUT.npz

writes every tensor of the original model, under its original name, to OUT.npz.
Formats this loader knows: the integer formats (intN, uintN, with 8-bit or fp16 zero points)
per tensor, channel or group, fp8_e4m3 and fp8_e5m2, nf4, mxfp4, the ggml formats q8_0, q4_0,
q4_1, q5_0, q5_1, q2_K ... q6_K, and fp32/fp16/bf16.
"""
import json
import struct
import sys

import numpy as np

F32 = np.float32
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1", "F8_E4M3": "u1", "F8_E5M2": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = np.frombuffer(body[start:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = (info["dtype"], raw.reshape(info["shape"]))
    return meta, tensors


def plain_values(dtype, a):
    """A stored tensor as NumPy holds it best."""
    if dtype == "BF16":
        return (a.astype(np.uint32) << 16).view(F32)
    if dtype == "F8_E5M2":  # the upper byte of a binary16
        return (a.astype(np.uint16) << 8).view(np.float16).astype(F32)
    if dtype == "F8_E4M3":  # OCP E4M3FN: no infinities, S.1111.111 is NaN
        e = ((a >> 3) & 15).astype(np.int32)
        m = (a & 7).astype(F32)
        v = np.where(e == 0, np.ldexp(m, -9), np.ldexp(8 + m, e - 10)).astype(F32)
        v = np.where((a & 0x7F) == 0x7F, np.nan, v).astype(F32)
        return np.where(a & 0x80, -v, v).astype(F32)
    if dtype == "BOOL":
        return a.astype(bool)
    return a


def unpack_codes(codes, bits, n, signed):
    """Code k is bits [k*bits, (k+1)*bits) of the byte stream, low bits first."""
    if bits == 8:
        q = codes[:n].astype(np.int32)
    else:
        stream = np.unpackbits(codes, bitorder="little")[: n * bits].reshape(n, bits)
        q = stream.astype(np.int32) @ (1 << np.arange(bits, dtype=np.int32))
    if signed:
        q = np.where(q >= 1 << (bits - 1), q - (1 << bits), q)
    return q


def to_row_major(values, d):
    """Codes run channel by channel (the channel axis first); put the axis back."""
    shape = list(d["shape"])
    if d["order"] == "row-major" or not shape:
        return values.reshape(shape)
    axis = d["channel_axis"]
    moved = [shape[axis]] + shape[:axis] + shape[axis + 1:]
    return np.moveaxis(values.reshape(moved), 0, axis)


# bitsandbytes' NF4 levels (QLoRA), and OCP's FP4 E2M1 values, by code.
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], dtype=F32)
E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], dtype=F32)


def e8m0(b):
    """OCP E8M0 scale bytes: 2^(b - 127), 0xFF is NaN."""
    v = np.ldexp(np.ones(b.shape, F32), b.astype(np.int32) - 127).astype(F32)
    return np.where(b == 0xFF, np.nan, v).astype(F32)


def dequantize_grouped(d, parts):
    """Formats with a scale per group: integers, fp8, nf4, mxfp4."""
    n = int(np.prod(d["shape"], dtype=np.int64))
    if n == 0:
        return np.zeros(d["shape"], F32)
    q = unpack_codes(parts["codes"], d["bits"], n, d.get("signed", False))
    per = n // d["channels"]
    e = np.arange(n, dtype=np.int64)
    group = (e // per) * d["groups_per_channel"] + (e % per) // d["group_size"]
    scales = parts["scales"].astype(F32)[group]
    fmt, family = d["format"], d["family"]
    if family == "int-symmetric":
        y = q.astype(F32) * scales
    elif family == "int-affine" and parts["zeros"].dtype == np.uint8:
        y = (q - parts["zeros"].astype(np.int32)[group]).astype(F32) * scales
    elif family == "int-affine":  # HQQ: real-valued fp16 zero points
        y = (q.astype(F32) - parts["zeros"].astype(F32)[group]) * scales
    elif fmt in ("fp8_e4m3", "fp8_e5m2"):
        dtype = "F8_E4M3" if fmt == "fp8_e4m3" else "F8_E5M2"
        y = plain_values(dtype, q.astype(np.uint8)) * scales
    elif fmt == "nf4":
        y = NF4[q] * scales
    elif fmt == "mxfp4":
        y = E2M1[q] * scales
    else:
        raise ValueError("format %s is not supported by this loader" % fmt)
    return to_row_major(y.astype(F32), d)


def f16(block, at):
    return block[:, at:at + 2].copy().view("<f2").astype(F32).reshape(-1)


def col(v):
    return v.reshape(-1, 1)


def deq_q8_0(b):
    return col(f16(b, 0)) * b[:, 2:34].view(np.int8).astype(F32)


def deq_q4_0_1(b, has_min):
    d = col(f16(b, 0))
    qs = b[:, 4:20] if has_min else b[:, 2:18]
    lo = (qs & 15).astype(np.int32)
    hi = (qs >> 4).astype(np.int32)
    if has_min:
        m = col(f16(b, 2))
        return np.hstack([lo.astype(F32) * d + m, hi.astype(F32) * d + m])
    return np.hstack([(lo - 8).astype(F32) * d, (hi - 8).astype(F32) * d])


def deq_q5(b, has_min):
    d = col(f16(b, 0))
    at = 4 if has_min else 2
    qh = b[:, at:at + 4].copy().view("<u4").astype(np.int64)
    qs = b[:, at + 4:at + 20].astype(np.int64)
    j = np.arange(16)
    lo = (qs & 15) | (((qh >> j) << 4) & 0x10)
    hi = (qs >> 4) | ((qh >> (j + 12)) & 0x10)
    if has_min:
        m = col(f16(b, 2))
        return np.hstack([lo.astype(F32) * d + m, hi.astype(F32) * d + m])
    return np.hstack([(lo - 16).astype(F32) * d, (hi - 16).astype(F32) * d])


def deq_q2_K(b):
    scales, qs = b[:, 0:16].astype(np.int32), b[:, 16:80].astype(np.int32)
    d, dmin = col(f16(b, 80)), col(f16(b, 82))
    out, s = [], 0
    for half in range(2):
        q = qs[:, 32 * half:32 * half + 32]
        for shift in (0, 2, 4, 6):
            for part in (q[:, :16], q[:, 16:]):
                sc = scales[:, s:s + 1]
                s += 1
                dl, ml = d * (sc & 15).astype(F32), dmin * (sc >> 4).astype(F32)
                out.append(dl * ((part >> shift) & 3).astype(F32) - ml)
    return np.hstack(out)


def k_scale_min(sc, j):
    """The 6-bit scale and minimum j of q4_K/q5_K's 12 packed bytes."""
    if j < 4:
        return sc[:, j:j + 1] & 63, sc[:, j + 4:j + 5] & 63
    return ((sc[:, j + 4:j + 5] & 15) | ((sc[:, j - 4:j - 3] >> 6) << 4),
            (sc[:, j + 4:j + 5] >> 4) | ((sc[:, j:j + 1] >> 6) << 4))


def deq_q3_K(b):
    hmask, qs = b[:, 0:32].astype(np.int32), b[:, 32:96].astype(np.int32)
    raw = b[:, 96:108].astype(np.int32)
    d = col(f16(b, 108))
    # 16 scales of 6 bits: low 4 bits in bytes 0-7 (two per byte), high 2 bits in bytes 8-11.
    low = np.hstack([raw[:, 0:8] & 15, raw[:, 0:8] >> 4])
    high = np.hstack([(raw[:, 8:12] >> s) & 3 for s in (0, 2, 4, 6)])
    scales = (low | (high << 4)) - 32
    out, s, m = [], 0, 1
    for half in range(2):
        q = qs[:, 32 * half:32 * half + 32]
        for shift in (0, 2, 4, 6):
            for lo, hi in ((0, 16), (16, 32)):
                dl = d * scales[:, s:s + 1].astype(F32)
                s += 1
                v = ((q[:, lo:hi] >> shift) & 3) - np.where(hmask[:, lo:hi] & m, 0, 4)
                out.append(dl * v.astype(F32))
            m <<= 1
    return np.hstack(out)


def deq_q45_K(b, five):
    d, dmin = col(f16(b, 0)), col(f16(b, 2))
    sc = b[:, 4:16].astype(np.int32)
    qh = b[:, 16:48].astype(np.int32) if five else None
    qs = b[:, 48:176].astype(np.int32) if five else b[:, 16:144].astype(np.int32)
    out = []
    for j in range(4):
        q = qs[:, 32 * j:32 * j + 32]
        for k, nib in enumerate((q & 15, q >> 4)):
            s, m = k_scale_min(sc, 2 * j + k)
            if five:
                nib = nib + np.where(qh & (1 << (2 * j + k)), 16, 0)
            out.append((d * s.astype(F32)) * nib.astype(F32) - dmin * m.astype(F32))
    return np.hstack(out)


def deq_q6_K(b):
    ql, qh = b[:, 0:128].astype(np.int32), b[:, 128:192].astype(np.int32)
    sc = b[:, 192:208].view(np.int8).astype(F32)
    d = col(f16(b, 208))
    out = []
    for half in range(2):
        l, h, s = ql[:, 64 * half:64 * half + 64], qh[:, 32 * half:32 * half + 32], 8 * half
        quarters = [(l[:, :32] & 15) | ((h & 3) << 4), (l[:, 32:] & 15) | (((h >> 2) & 3) << 4),
                    (l[:, :32] >> 4) | (((h >> 4) & 3) << 4), (l[:, 32:] >> 4) | (((h >> 6) & 3) << 4)]
        for k, q in enumerate(quarters):
            scale = np.repeat(sc[:, s + 2 * k:s + 2 * k + 2], 16, axis=1)
            out.append((d * scale) * (q - 32).astype(F32))
    return np.hstack(out)


GGML = {"q8_0": (34, deq_q8_0), "q4_0": (18, lambda b: deq_q4_0_1(b, False)),
        "q4_1": (20, lambda b: deq_q4_0_1(b, True)), "q5_0": (22, lambda b: deq_q5(b, False)),
        "q5_1": (24, lambda b: deq_q5(b, True)), "q2_K": (84, deq_q2_K), "q3_K": (110, deq_q3_K),
        "q4_K": (144, lambda b: deq_q45_K(b, False)), "q5_K": (176, lambda b: deq_q45_K(b, True)),
        "q6_K": (210, deq_q6_K)}


def dequantize(d, parts):
    if d["packing"] == "plain":
        return parts["codes"].astype(F32)
    if d["family"] == "ggml":
        if d["format"] not in GGML:
            raise ValueError("ggml type %s is not supported by this loader" % d["format"])
        size, fn = GGML[d["format"]]
        blocks = parts["codes"].reshape(-1, size)
        return fn(blocks).astype(F32).reshape(d["shape"])
    return dequantize_grouped(d, parts)


def load(path):
    meta, stored = read_safetensors(path)
    layout = json.loads(meta["quantscope.packed"])
    if layout["version"] != 1:
        raise ValueError("unsupported layout version %s" % layout["version"])
    described = layout["tensors"]
    part_names = {p["tensor"] for d in described.values() for p in d["parts"].values()}
    result = {}
    for name, (dtype, a) in stored.items():
        if name not in part_names:
            result[name] = plain_values(dtype, a)
    for name, d in described.items():
        parts = {role: plain_values(*stored[p["tensor"]]) for role, p in d["parts"].items()}
        if d["parts"].get("scales", {}).get("encoding") == "e8m0":
            parts["scales"] = e8m0(parts["scales"])
        result[name] = dequantize(d, parts)
    return {name: np.ascontiguousarray(a) for name, a in result.items()}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: load_packed.py IN.safetensors OUT.npz")
    np.savez(sys.argv[2], **load(sys.argv[1]))


if __name__ == "__main__":
    main()
