// Quantization-aware fine-tuning: training with the weights a plan quantizes fake-quantized
// through the same quantizer evaluateModel applies, gradients passed straight through.
#pragma once

#include "analysis/executor.h"
#include "analysis/tensor_quantizer.h"
#include "core/tensor.h"
#include "data/idx.h"
#include "nn/optimizer.h"
#include "nn/sequential.h"
#include "nn/train.h"

#include <string>
#include <vector>

namespace qs {
class Plan;
}

namespace qs::nn {

// The weights of `model` that `plan` selects, found by the names the tensors have in the
// Keras file at `path` (the file the model was loaded from, so the plan resolves them exactly
// as evaluateModel does).
class WeightFakeQuantizer
{
public:
    WeightFakeQuantizer(Sequential& model, const std::string& path, const Plan& plan);
    int count() const { return static_cast<int>(m_items.size()); }
    // Keeps each selected weight's float values and replaces them by their quantize-dequantize
    // image, with scales found from the current values.
    void apply(const Executor* executor);
    // Puts the float values back (the gradients of the pass in between stay).
    void restore();

private:
    struct Item
    {
        Param* param;
        TensorInfo info; // as stored in the file, with the data read as contiguous float32
        QuantSpec spec;
        std::vector<float> saved;
    };
    std::vector<Item> m_items;
};

struct QatOptions
{
    int epochs = 2;
    std::int64_t batchSize = 128;
    float learningRate = 1e-4f; // cosine decay to 1% over all steps, as train() does
    std::uint64_t seed = 0;
    bool flip = true; // mirrored training images, as the bundled model was trained
    // Afterwards, the batch norms' moving statistics are measured again on this many training
    // images with the weights fake-quantized (0: kept as training left them).
    std::int64_t batchNormSamples = 4096;
    const Executor* executor = nullptr;
    std::function<void(const EpochReport&)> epochDone;
};

// Fine-tunes `model` (loaded from `path`) for options.epochs epochs of Adam. Each step: the
// selected weights are fake-quantized (scales recomputed from the current float weights), the
// forward and backward passes run on them, the float weights are restored and the optimiser
// updates them with those gradients: the straight-through estimator, with the gradient passed
// through unchanged everywhere, also where a clipping calibration clips a weight (min-max scales
// clip nothing, and a zero gradient would freeze clipped weights at their clipped value).
// Then the batch norms' moving statistics are re-estimated (QatOptions::batchNormSamples).
std::vector<EpochReport> quantAwareTrain(Sequential& model, const std::string& path,
                                         const Plan& plan, const data::ImageSet& trainSet,
                                         const QatOptions& options);

} // namespace qs::nn
