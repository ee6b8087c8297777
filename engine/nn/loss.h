// Cross-entropy of class labels, from logits or from probabilities (a model ending in softmax).
#pragma once

#include "nn/tensor.h"

#include <cstdint>
#include <span>

namespace qs::nn {

struct LossResult
{
    double loss = 0; // mean over the batch
    std::int64_t correct = 0; // samples whose largest output is their label
};

// Softmax + cross-entropy on logits [N, K]; grad = (softmax - onehot) / N.
LossResult softmaxCrossEntropy(const Tensor& logits, std::span<const std::uint8_t> labels,
                               Tensor& grad);

// Cross-entropy on probabilities [N, K] (clipped to [1e-7, 1 - 1e-7] like Keras);
// grad = -1 / (N p_label) at the label.
LossResult probabilityCrossEntropy(const Tensor& probs, std::span<const std::uint8_t> labels,
                                   Tensor& grad);

// Index of the largest of k values (the first on ties).
std::int64_t argmax(const float* v, std::int64_t k);

} // namespace qs::nn
