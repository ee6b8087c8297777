// Reads a GGUF file with @huggingface/gguf (an implementation independent of QuantScope's) and
// prints what it found as JSON, for tests/engine/tst_export.cpp:
//   {"version", "tensorDataOffset", "tensors": [{"name", "n_dims", "shape", "dtype", "offset"}],
//    "metadata": {key: {"type", "subType"?, "value"}}}
// 64-bit integers (BigInt) are printed as decimal strings so that no digit is lost.
// Usage: node read_gguf.mjs FILE.gguf
import { gguf } from "@huggingface/gguf";
import path from "node:path";

const file = process.argv[2];
if (!file) {
    console.error("usage: node read_gguf.mjs FILE.gguf");
    process.exit(2);
}

const plain = (v) => {
    if (typeof v === "bigint") return v.toString();
    if (Array.isArray(v)) return v.map(plain);
    return v;
};

const { metadata, typedMetadata, tensorInfos, tensorDataOffset } = await gguf(path.resolve(file), {
    allowLocalFile: true,
    typedMetadata: true,
});

const out = {
    version: metadata.version,
    tensorDataOffset: tensorDataOffset.toString(),
    tensors: tensorInfos.map((t) => ({
        name: t.name,
        n_dims: t.n_dims,
        shape: t.shape.map((d) => d.toString()),
        dtype: t.dtype,
        offset: t.offset.toString(),
    })),
    metadata: {},
};
for (const [key, entry] of Object.entries(typedMetadata)) {
    if (key === "version" || key === "tensor_count" || key === "kv_count") continue;
    const item = { type: entry.type, value: plain(entry.value) };
    if (entry.subType !== undefined) item.subType = entry.subType;
    out.metadata[key] = item;
}
process.stdout.write(JSON.stringify(out) + "\n");
