// Shared by the Keras targets: a loaded model is used as the Accuracy page uses it, with its
// batch norms folded and one sample run through it, when it is small enough to run quickly.
#pragma once

#include "core/tensor.h"
#include "nn/sequential.h"

#include <cstdint>
#include <vector>

namespace qs::fuzz {

inline void runOnce(const qs::nn::Sequential& loaded)
{
    const std::int64_t in = qs::shapeNumel(loaded.inputShape());
    std::int64_t cost = loaded.parameterCount();
    for (std::size_t i = 0; i < loaded.size(); ++i)
        cost += qs::shapeNumel(loaded.layer(i).outputShape());
    if (in < 1 || in > 4096 || cost > (std::int64_t{1} << 16)) return;
    qs::nn::Sequential model = qs::nn::foldBatchNorm(loaded);
    const std::vector<float> sample(static_cast<std::size_t>(in), 0.5f);
    (void)model.predict(sample.data(), 1, nullptr);
}

} // namespace qs::fuzz
