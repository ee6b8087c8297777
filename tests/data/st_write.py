"""Minimal safetensors writer and reader used by the data generators.

Written by hand so the generators only need numpy: the safetensors package is
not a dependency of this project, and the files it writes are part of what the
C++ reader is tested against, so the byte layout should be explicit here.

Layout: u64 little-endian header length N, N bytes of JSON header padded with
spaces to a multiple of 8, then the raw little-endian tensor data. Offsets in the
header are relative to the start of the data section; tensors are contiguous in
the order they are written.
"""

import json
import struct

import numpy as np

# safetensors dtype name -> little-endian numpy dtype of the stored bytes.
# BF16 has no numpy type; it is stored as its 16-bit pattern.
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
}


def to_bf16_bits(x):
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even.

    NaN stays NaN (quiet bit forced so truncation cannot turn it into Inf).
    """
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    rounded = np.where(nan, (u >> 16) | 0x0040, rounded)
    return rounded.astype("<u2")


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).astype("<u4").view("<f4")


def _encode(dtype, array):
    if dtype not in DTYPES:
        raise ValueError(f"unsupported dtype {dtype}")
    a = np.asarray(array)
    if dtype == "BF16" and a.dtype != np.uint16:
        a = to_bf16_bits(a.astype(np.float32))
    return np.ascontiguousarray(a.astype(DTYPES[dtype], copy=False))


def write_safetensors(path, tensors, metadata=None):
    """Write tensors, a list of (name, dtype, array), to path.

    For BF16 the array may be float (rounded here) or uint16 bit patterns.
    Returns the number of bytes written.
    """
    header = {}
    if metadata:
        if not all(isinstance(v, str) for v in metadata.values()):
            raise ValueError("safetensors metadata values must be strings")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name, dtype, array in tensors:
        if name in header:
            raise ValueError(f"duplicate tensor name {name}")
        data = _encode(dtype, array)
        raw = data.tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": [int(d) for d in np.shape(array)],
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    return 8 + len(text) + offset


def read_safetensors(path):
    """Read a file back: returns (metadata, {name: (dtype, shape, numpy array)}).

    Checks the structural rules the writer promises (alignment, contiguous
    offsets, sizes matching shapes) so a generator can verify its own output.
    Arrays come back in their stored type (BF16 as uint16 bit patterns).
    """
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    if n % 8 or 8 + n > len(blob):
        raise ValueError(f"{path}: bad header length {n}")
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    expect = 0
    for name, entry in header.items():
        dtype = entry["dtype"]
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
        if begin != expect:
            raise ValueError(f"{path}: {name} is not contiguous ({begin} != {expect})")
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * DTYPES[dtype].itemsize:
            raise ValueError(f"{path}: {name} byte size does not match its shape")
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[dtype]).reshape(shape)
        tensors[name] = (dtype, shape, arr)
        expect = end
    if expect != len(data):
        raise ValueError(f"{path}: {len(data) - expect} trailing bytes after the last tensor")
    return metadata, tensors


def verify(path, tensors, metadata=None):
    """Read path back and check it holds exactly tensors/metadata, bit for bit."""
    meta, got = read_safetensors(path)
    if meta != (metadata or {}):
        raise AssertionError(f"{path}: metadata mismatch")
    if list(got) != [name for name, _, _ in tensors]:
        raise AssertionError(f"{path}: tensor names or order differ")
    for name, dtype, array in tensors:
        gdtype, gshape, garr = got[name]
        want = _encode(dtype, array)
        if gdtype != dtype or gshape != tuple(np.shape(array)) or garr.tobytes() != want.tobytes():
            raise AssertionError(f"{path}: tensor {name} does not round-trip")
