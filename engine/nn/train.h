// Mini-batch training of a classifier on an image set, and its accuracy on another.
#pragma once

#include "data/idx.h"
#include "nn/optimizer.h"
#include "nn/sequential.h"

#include <functional>
#include <vector>

namespace qs::nn {

struct TrainProgress
{
    int epoch = 0, epochs = 0; // epoch counts from 1
    std::int64_t batch = 0, batches = 0; // batches done in this epoch
    double loss = 0, accuracy = 0; // running means over this epoch's batches so far
};

struct EpochReport
{
    int epoch = 0;
    double loss = 0, trainAccuracy = 0;
    double testAccuracy = -1; // -1 without a test set
    double learningRate = 0;  // at the epoch's first step
    double seconds = 0;       // wall time of the epoch, evaluation included
};

struct TrainOptions
{
    int epochs = 10;
    std::int64_t batchSize = 128;
    // Cosine decay from learningRate to learningRate * finalFraction over all steps.
    float learningRate = 1e-3f;
    float finalFraction = 0.01f;
    std::uint64_t seed = 0; // shuffling, dropout and augmentation
    // Mirror each training image left-right with probability 1/2 (clothes look the same
    // mirrored; digits would not).
    bool flip = false;
    const Executor* executor = nullptr;
    std::function<void(const TrainProgress&)> progress; // after every batch
    std::function<void(const EpochReport&)> epochDone;
    std::function<bool()> cancelled; // checked between batches; true throws qs::Cancelled
};

// Trains `model` (built for {height, width, 1}, initialised or loaded) with cross-entropy: on
// the logits before a final Softmax layer, or on the probabilities of a final Dense with a
// softmax activation. Results depend on the seed only, not on the executor's thread count.
std::vector<EpochReport> train(Sequential& model, Optimizer& optimizer,
                               const data::ImageSet& trainSet, const data::ImageSet* testSet,
                               const TrainOptions& options);

// The share of images whose largest model output is their label.
double accuracy(Sequential& model, const data::ImageSet& set, const Executor* executor);

// The learning rate of step `step` of `total` under the options' cosine schedule.
float scheduledRate(const TrainOptions& options, std::int64_t step, std::int64_t total);

} // namespace qs::nn
