// libFuzzer target for the quantization-plan JSON reader and its rule matching.
#include "core/error.h"
#include "plan/plan.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const qs::Plan plan =
            qs::Plan::fromJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        qs::TensorInfo t;
        t.name = "model.layers.0.self_attn.q_proj.weight";
        t.shape = {8, 8};
        (void)plan.resolve(t);
        (void)plan.toJson();
    } catch (const qs::Error&) {
    }
    return 0;
}
