// A tensor-type file for llama-quantize --tensor-type-file.
#include "report/reports.h"
#include "report/svg_plot.h"

#include <cstdio>

namespace qs {
namespace {

// The ggml type llama-quantize would be asked for, or "" when it has none that QuantScope
// reproduces: fp32/fp16/bf16 and the ggml block formats (whose names are ggml_type_name's
// spelling, matched case-insensitively). mxfp4 is left out: ggml's MXFP4 lays its blocks along
// rows and rounds its shared exponent its own way, so QuantScope's figures would not describe it.
std::string ggmlTypeName(const Format& f)
{
    switch (f.kind) {
    case FormatKind::Float32:
        return "f32";
    case FormatKind::Float16:
        return "f16";
    case FormatKind::BFloat16:
        return "bf16";
    case FormatKind::GgmlBlock:
        return std::string(f.name);
    default:
        return "";
    }
}

// llama-quantize lower-cases the pattern and searches it as a regex anywhere in the name, and
// cuts tokens at whitespace and at the first '='. Anchoring makes "output.weight" stop matching
// "blk.0.attn_output.weight"; \xHH escapes keep upper-case letters (which lower-casing would
// change), spaces, '=' and regex syntax literal. Bytes of UTF-8 sequences stay as they are.
std::string pattern(const std::string& name)
{
    std::string p = "^";
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || u >= 0x80) {
            p += c;
        } else if (c == '.') {
            p += "\\.";
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            p += buf;
        }
    }
    return p + "$";
}

} // namespace

ToolFile llamaTensorTypes(std::span<const TensorOutcome> outcomes, const std::string& modelFormat)
{
    ToolFile out;
    if (modelFormat != "gguf")
        out.notes.push_back(svg::cat(
            std::string("the names are this "), modelFormat,
            " model's; llama.cpp's converter (convert_hf_to_gguf.py) renames tensors "
            "(model.layers.0.self_attn.q_proj.weight becomes blk.0.attn_q.weight), so rename "
            "them before use"));
    for (const auto& o : outcomes) {
        if (!o.spec) continue;
        const std::string type = ggmlTypeName(*o.spec->format);
        if (type.empty()) {
            out.skipped.push_back({o.name, svg::cat(std::string("llama.cpp has no type for "),
                                                    o.spec->format->name)});
            continue;
        }
        out.text += svg::cat(pattern(o.name), "=", type, "\n");
    }
    return out;
}

} // namespace qs
