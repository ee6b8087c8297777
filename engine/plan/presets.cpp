#include "plan/presets.h"

#include "core/error.h"

#include <algorithm>
#include <regex>
#include <set>

namespace qs {
namespace {

// Token embeddings and the output projection under their usual names (Hugging Face,
// GPT-2, GGUF, GPT-NeoX): the tensors recipes keep at higher precision.
const char* kEmbeddingOrOutput =
    R"((^|\.)(embed_tokens|tok_embeddings|wte|word_embeddings|token_embd|embed_in|)"
    R"(lm_head|embed_out)\.|^output\.weight$)";
const char* kOutput = R"((^|\.)(lm_head|embed_out)\.|^output\.weight$)";
// The value projection and the feed-forward down projection, GGUF and Hugging Face names
// (the last components of the name).
const char* kAttnV = R"((attn_v|v_proj)\.weight$)";
const char* kFfnDown = R"((ffn_down|down_proj|fc2)\.weight$)";

Granularity channel()
{
    return Granularity{Granularity::Kind::Channel, 0};
}

// A rule matching exactly the listed layers' tensors whose names end in `suffix`. "(|.*\.)"
// rather than "(.*\.)?": the plan refuses a quantified group holding a quantifier.
std::string layersRule(const std::vector<int>& layers, const char* suffix)
{
    std::string alt;
    for (int l : layers) {
        if (!alt.empty()) alt += '|';
        alt += std::to_string(l);
    }
    return "(^|\\.)(" + alt + ")\\.(|.*\\.)" + suffix;
}

// The layers of this model whose tensors match `pattern` and would get more bits.
std::vector<int> moreBitsLayers(const std::vector<TensorInfo>& tensors, const char* pattern)
{
    const std::regex re(std::string("(^|\\.)") + pattern);
    std::set<int> layers;
    for (const auto& t : tensors)
        if (std::regex_search(t.name, re))
            if (const int l = layerIndexOf(t.name); l >= 0) layers.insert(l);
    std::vector<int> out;
    const int n = static_cast<int>(layers.size());
    int i = 0;
    for (int l : layers) // the i-th such layer in order, as llama.cpp counts them
        if (llamaUsesMoreBits(i++, n)) out.push_back(l);
    return out;
}

Plan kQuantMix(const std::vector<TensorInfo>& tensors, const char* base)
{
    Plan p = Plan::uniform(Precision{base});
    p.rules.push_back({kOutput, Precision{"q6_K"}});
    for (const char* which : {kAttnV, kFfnDown}) {
        const auto layers = moreBitsLayers(tensors, which);
        if (!layers.empty()) p.rules.push_back({layersRule(layers, which), Precision{"q6_K"}});
    }
    return p;
}

} // namespace

const std::vector<PlanPreset>& planPresets()
{
    static const std::vector<PlanPreset> presets = {
        {"int8", "INT8 everywhere", "Every weight matrix at int8, one scale per output channel."},
        {"w4g128", "W4 group-128, embeddings and output at 8-bit",
         "int4 in groups of 128 for the weight matrices; token embeddings and the output "
         "projection at int8 per channel."},
        {"fp16", "FP16 everywhere", "Every weight matrix at IEEE half precision."},
        {"fp8", "FP8 E4M3 per channel", "Every weight matrix at fp8_e4m3, one scale per channel."},
        {"nf4", "NF4 (bitsandbytes)", "Every weight matrix at nf4 in blocks of 64."},
        {"q8_0", "Q8_0", "llama.cpp's q8_0 for every weight matrix."},
        {"q4_k_m", "Q4_K_M-like",
         "llama.cpp's Q4_K_M mix: q4_K, with q6_K for the output projection and for the value "
         "and down projections of the first and last eighth of the layers and every third "
         "between."},
        {"q5_k_m", "Q5_K_M-like", "As Q4_K_M, with q5_K as the base."},
    };
    return presets;
}

Plan makePresetPlan(const std::string& id, const std::vector<TensorInfo>& tensors)
{
    if (id == "int8") return Plan::uniform(Precision{"int8", channel()});
    if (id == "w4g128") {
        Plan p = Plan::uniform(Precision{"int4", Granularity{Granularity::Kind::Group, 128}});
        p.rules.push_back({kEmbeddingOrOutput, Precision{"int8", channel()}});
        return p;
    }
    if (id == "fp16") return Plan::uniform(Precision{"fp16"});
    if (id == "fp8") return Plan::uniform(Precision{"fp8_e4m3", channel()});
    if (id == "nf4") return Plan::uniform(Precision{"nf4"});
    if (id == "q8_0") return Plan::uniform(Precision{"q8_0"});
    if (id == "q4_k_m") return kQuantMix(tensors, "q4_K");
    if (id == "q5_k_m") return kQuantMix(tensors, "q5_K");
    throw Error("unknown preset \"" + id + "\"");
}

bool llamaUsesMoreBits(int layer, int layerCount)
{
    return layer < layerCount / 8 || layer >= 7 * layerCount / 8 ||
           (layer - layerCount / 8) % 3 == 2;
}

int layerIndexOf(const std::string& name)
{
    // The first all-digit component between separators: "blk.7.", "layers.7.", "h.7.".
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t end = name.find_first_of("./", start);
        if (end == std::string::npos) end = name.size();
        if (end > start && end - start <= 6 &&
            std::all_of(name.begin() + static_cast<std::ptrdiff_t>(start),
                        name.begin() + static_cast<std::ptrdiff_t>(end),
                        [](char c) { return c >= '0' && c <= '9'; }))
            return std::stoi(name.substr(start, end - start));
        start = end + 1;
    }
    return -1;
}

} // namespace qs
