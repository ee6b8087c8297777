// Ready-made plans: uniform precisions, the common "4-bit with 8-bit embeddings" recipe and
// llama.cpp-style mixes. A preset is built for a model because some mixes depend on how many
// layers it has.
#pragma once

#include "plan/plan.h"

#include <string>
#include <vector>

namespace qs {

struct PlanPreset
{
    std::string id;          // stable key, e.g. "q4_k_m"
    std::string name;        // shown to users
    std::string description; // one sentence on what it does
};

const std::vector<PlanPreset>& planPresets();

// Throws qs::Error for an unknown id.
Plan makePresetPlan(const std::string& id, const std::vector<TensorInfo>& tensors);

// llama.cpp's rule for which layers of a Q4_K_M/Q5_K_M mix get more bits: the first and last
// eighth of the layers and every third one in between (use_more_bits in llama-quant.cpp).
bool llamaUsesMoreBits(int layer, int layerCount);

// The layer number in a tensor name ("blk.7.attn_v.weight", "model.layers.7.mlp…"), or -1.
int layerIndexOf(const std::string& name);

} // namespace qs
