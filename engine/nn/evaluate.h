// What quantization does to a Keras classifier's predictions: weights dequantized through a
// plan, activations optionally fake-quantized to int8, compared with the float model.
#pragma once

#include "data/idx.h"
#include "nn/act_quant.h"
#include "analysis/executor.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qs {
class Plan;
}

namespace qs::nn {

enum class ActivationMode {
    None,    // float activations
    Dynamic, // each sample's range of each layer output, at inference time
    Static,  // ranges calibrated beforehand on training images
};

struct EvaluateOptions
{
    const Plan* plan = nullptr; // null: weights stay float
    ActivationMode activations = ActivationMode::None;
    CalibrationMethod calibration = CalibrationMethod::MinMax;
    double percentile = 99.99;
    std::int64_t calibrationSamples = 512; // the first ones of the calibration set
    std::int64_t batchSize = 256;
    const Executor* executor = nullptr;
    // With static activations: also run the model with real int8 Dense and Conv2D kernels.
    bool int8Kernels = false;
    // Called after each batch of test images with how many are done; returning false stops the
    // evaluation, which then throws qs::Error. Lets a caller cancel and report progress.
    std::function<bool(std::int64_t imagesDone)> batchDone;
};

struct LayerReport
{
    std::string name;
    double outputSqnrDb = 0; // +inf when the output is unchanged
};

struct EvaluateResult
{
    std::int64_t images = 0;
    double accuracy = 0;          // of the quantized model
    double referenceAccuracy = 0; // of the float model
    double agreement = 0;         // share of images where both predict the same class
    double kl = 0;                // mean KL(float softmax || quantized softmax), nats
    double latencyMsPerImage = 0; // wall time of the quantized (fake-quantized) inference
    double floatLatencyMsPerImage = 0; // of the float model's inference
    // The int8 kernels' run (int8Kernels): -1 when it did not run.
    double int8Accuracy = -1;
    double int8Agreement = -1; // share of images where it predicts what the fake path does
    double int8LatencyMsPerImage = -1;
    int quantizedTensors = 0;
    std::vector<LayerReport> layers; // of the batch-norm-folded model, in order
    // The predicted class of every test image, in order: of the quantized model and of the
    // float one (confusion matrices, the images where they disagree).
    std::vector<std::uint8_t> predictions;
    std::vector<std::uint8_t> referencePredictions;
};

// Weights are quantized as the file stores them (the tensors `inspect` lists, with their
// Keras channel axes), then batch norms are folded into the preceding layers of both models.
// Activations are quantized at every layer output except the last (the logits) and except
// Flatten and Dropout, which pass values through unchanged.
EvaluateResult evaluateModel(const std::string& modelPath, const data::ImageSet& test,
                             const data::ImageSet& calibration, const EvaluateOptions& options);

} // namespace qs::nn
