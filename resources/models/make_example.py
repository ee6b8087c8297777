#!/usr/bin/env python3
"""Generate resources/models/example.safetensors, the bundled example model.

A small Llama-style decoder (hidden 96, 2 layers, vocab 512, MLP 256) with a
4x4 conv patch stem. The weights are random but shaped like trained ones, so the
quantization views have something realistic to show: per-layer scales that
follow fan-in, a few outlier output channels, heavy-tailed down projections,
a dead (all-zero) channel, a channel of subnormal values, and mixed storage
dtypes (F32, F16, BF16).

Deterministic: the same numpy version gives the same file byte for byte.

Usage: /usr/bin/python3 resources/models/make_example.py [output.safetensors]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "data"))

from st_write import verify, write_safetensors  # noqa: E402

SEED = 20240611
HIDDEN = 96
LAYERS = 2
VOCAB = 512
INTERMEDIATE = 256
PATCH = 4
CHANNELS = 3


def linear(rng, out_features, in_features, gain=1.0):
    """Normal weights with std gain/sqrt(fan_in), plus the per-row spread of
    norms that trained projections have (rows are not all equally large)."""
    w = rng.standard_normal((out_features, in_features)) * (gain / np.sqrt(in_features))
    w *= rng.lognormal(0.0, 0.15, size=(out_features, 1))
    return w


def add_outlier_rows(rng, w, count, factor=8.0):
    """Scale a few output channels up; attention and MLP projections in trained
    models regularly have rows far larger than the rest, which is what makes
    per-tensor scales lose precision."""
    rows = rng.choice(w.shape[0], size=count, replace=False)
    w[rows] *= factor
    return sorted(int(r) for r in rows)


def heavy_tailed(rng, out_features, in_features, df=3.0):
    """Student-t values with the same std as linear(); down projections are
    the most heavy-tailed matrices in trained transformers."""
    t = rng.standard_t(df, size=(out_features, in_features))
    t /= np.sqrt(df / (df - 2.0))  # unit variance
    return t / np.sqrt(in_features)


def norm_weight(rng, n, centre=1.0):
    """RMSNorm gains: close to 1 with a small spread and a couple of large dims."""
    g = centre + 0.05 * rng.standard_normal(n)
    g[rng.choice(n, size=2, replace=False)] *= 2.5
    return g


def build(rng):
    f32 = np.float32
    notes = []
    tensors = []

    # Embedding rows of frequent tokens end up larger than those of rare ones.
    emb = rng.standard_normal((VOCAB, HIDDEN)) * 0.02
    emb *= np.linspace(1.6, 0.6, VOCAB)[:, None] * rng.lognormal(0.0, 0.1, size=(VOCAB, 1))
    tensors.append(("model.embed_tokens.weight", "F16", emb.astype(np.float16)))

    fan_in = CHANNELS * PATCH * PATCH
    conv = rng.standard_normal((HIDDEN, CHANNELS, PATCH, PATCH)) * (0.8 / np.sqrt(fan_in))
    conv *= rng.lognormal(0.0, 0.3, size=(HIDDEN, 1, 1, 1))
    tensors.append(("model.patch_embed.proj.weight", "F32", conv.astype(f32)))
    tensors.append(("model.patch_embed.proj.bias", "F32", (0.02 * rng.standard_normal(HIDDEN)).astype(f32)))

    for i in range(LAYERS):
        p = f"model.layers.{i}."
        mlp_dtype = "BF16" if i == 1 else "F32"
        tensors.append((p + "input_layernorm.weight", "F32", norm_weight(rng, HIDDEN).astype(f32)))

        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            w = linear(rng, HIDDEN, HIDDEN)
            if name in ("q_proj", "k_proj"):
                rows = add_outlier_rows(rng, w, 3)
                notes.append(f"{p}self_attn.{name}.weight: outlier rows {rows}")
            if i == 0 and name == "v_proj":
                # A channel that training drove to (almost) nothing: values in
                # the float32 subnormal range, around 1e-40.
                row = 41
                w[row] = rng.standard_normal(HIDDEN) * 1e-40
                notes.append(f"{p}self_attn.{name}.weight: subnormal row {row}")
            tensors.append((p + f"self_attn.{name}.weight", "F32", w.astype(f32)))

        tensors.append((p + "post_attention_layernorm.weight", "F32", norm_weight(rng, HIDDEN).astype(f32)))

        gate = linear(rng, INTERMEDIATE, HIDDEN)
        up = linear(rng, INTERMEDIATE, HIDDEN)
        rows = add_outlier_rows(rng, gate, 2)
        notes.append(f"{p}mlp.gate_proj.weight: outlier rows {rows}")
        if i == 0:
            # A dead MLP unit: its gate row is exactly zero.
            row = 17
            gate[row] = 0.0
            notes.append(f"{p}mlp.gate_proj.weight: zero row {row}")
        down = heavy_tailed(rng, HIDDEN, INTERMEDIATE)
        rows = add_outlier_rows(rng, down, 2)
        notes.append(f"{p}mlp.down_proj.weight: outlier rows {rows}")
        tensors.append((p + "mlp.gate_proj.weight", mlp_dtype, gate.astype(f32)))
        tensors.append((p + "mlp.up_proj.weight", mlp_dtype, up.astype(f32)))
        tensors.append((p + "mlp.down_proj.weight", mlp_dtype, down.astype(f32)))

    tensors.append(("model.norm.weight", "F32", norm_weight(rng, HIDDEN, centre=1.8).astype(f32)))
    tensors.append(("lm_head.weight", "F32", linear(rng, VOCAB, HIDDEN).astype(f32)))
    return tensors, notes


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "example.safetensors")
    tensors, notes = build(np.random.default_rng(SEED))
    metadata = {
        "format": "pt",
        "generator": "resources/models/make_example.py",
        "description": (
            "synthetic example: Llama-style decoder (hidden 96, 2 layers, vocab 512, "
            "intermediate 256) with a 4x4 conv patch stem; random weights shaped like "
            "trained ones (outlier channels, heavy tails, a zero and a subnormal channel), "
            "not a trained model"
        ),
    }
    size = write_safetensors(out, tensors, metadata)
    verify(out, tensors, metadata)
    assert size == os.path.getsize(out) <= 2 * 1024 * 1024
    for line in notes:
        print(line)
    print(f"wrote {out}: {len(tensors)} tensors, {size} bytes")


if __name__ == "__main__":
    main()
