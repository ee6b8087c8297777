#include "nn/loss.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace qs::nn {
namespace {

void checkLabels(const Tensor& t, std::span<const std::uint8_t> labels)
{
    if (t.shape.size() != 2 || t.batch() != static_cast<std::int64_t>(labels.size()))
        throw Error("cross-entropy: outputs " + shapeToString(t.shape) + " do not match " +
                    std::to_string(labels.size()) + " labels");
    for (const auto l : labels)
        if (l >= t.shape[1])
            throw Error("cross-entropy: label " + std::to_string(l) + " is not below the " +
                        std::to_string(t.shape[1]) + " outputs of the model");
}

} // namespace

std::int64_t argmax(const float* v, std::int64_t k)
{
    return std::max_element(v, v + k) - v;
}

LossResult softmaxCrossEntropy(const Tensor& logits, std::span<const std::uint8_t> labels,
                               Tensor& grad)
{
    checkLabels(logits, labels);
    const std::int64_t n = logits.batch(), k = logits.shape[1];
    grad.reset(logits.shape);
    LossResult r;
    for (std::int64_t s = 0; s < n; ++s) {
        const float* z = logits.sample(s);
        float* g = grad.sample(s);
        const float m = *std::max_element(z, z + k);
        double sum = 0;
        for (std::int64_t j = 0; j < k; ++j)
            sum += std::exp(double(z[j]) - m);
        const double logSum = std::log(sum) + m;
        r.loss += logSum - z[labels[s]];
        for (std::int64_t j = 0; j < k; ++j)
            g[j] = static_cast<float>(std::exp(double(z[j]) - logSum) / double(n));
        g[labels[s]] -= 1.0f / static_cast<float>(n);
        r.correct += argmax(z, k) == labels[s];
    }
    r.loss /= static_cast<double>(std::max<std::int64_t>(n, 1));
    return r;
}

LossResult probabilityCrossEntropy(const Tensor& probs, std::span<const std::uint8_t> labels,
                                   Tensor& grad)
{
    checkLabels(probs, labels);
    const std::int64_t n = probs.batch(), k = probs.shape[1];
    constexpr float kClip = 1e-7f;
    grad.reset(probs.shape);
    std::fill(grad.data.begin(), grad.data.end(), 0.0f);
    LossResult r;
    for (std::int64_t s = 0; s < n; ++s) {
        const float* p = probs.sample(s);
        const float pl = std::clamp(p[labels[s]], kClip, 1.0f - kClip);
        r.loss -= std::log(double(pl));
        grad.sample(s)[labels[s]] = -1.0f / (static_cast<float>(n) * pl);
        r.correct += argmax(p, k) == labels[s];
    }
    r.loss /= static_cast<double>(std::max<std::int64_t>(n, 1));
    return r;
}

} // namespace qs::nn
