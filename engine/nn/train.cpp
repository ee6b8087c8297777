#include "nn/train.h"

#include "core/error.h"
#include "nn/dense.h"
#include "nn/loss.h"
#include "nn/random.h"

#include <chrono>
#include <cmath>
#include <numeric>

namespace qs::nn {
namespace {

void checkSet(const Sequential& model, const data::ImageSet& set, const char* what)
{
    const Shape want{set.height, set.width, 1};
    if (model.inputShape() != want)
        throw Error(std::string("the ") + what + " images are " + shapeToString(want) +
                    " but the model takes " + shapeToString(model.inputShape()));
    if (model.outputShape().size() != 1)
        throw Error("the model's output " + shapeToString(model.outputShape()) +
                    " is not one score per class");
}

// Fisher-Yates with the runtime's own generator: the same order on every platform.
std::vector<std::int64_t> shuffled(std::int64_t n, std::uint64_t seed)
{
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    Rng rng(seed);
    for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
    return order;
}

} // namespace

float scheduledRate(const TrainOptions& o, std::int64_t step, std::int64_t total)
{
    const double t = total > 1 ? double(step) / double(total - 1) : 0.0;
    const double cosine = 0.5 * (1.0 + std::cos(3.14159265358979323846 * t));
    return static_cast<float>(o.learningRate * (o.finalFraction + (1.0 - o.finalFraction) * cosine));
}

double accuracy(Sequential& model, const data::ImageSet& set, const Executor* executor)
{
    checkSet(model, set, "test");
    if (set.count == 0) return 0;
    const Tensor out = model.predict(set.images.data(), set.count, executor);
    const std::int64_t k = out.shape[1];
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < set.count; ++i)
        correct += argmax(out.sample(i), k) == set.labels[i];
    return double(correct) / double(set.count);
}

std::vector<EpochReport> train(Sequential& model, Optimizer& optimizer,
                               const data::ImageSet& trainSet, const data::ImageSet* testSet,
                               const TrainOptions& o)
{
    checkSet(model, trainSet, "training");
    if (o.epochs < 1 || o.batchSize < 1 || trainSet.count < 1)
        throw Error("training needs at least one epoch, one sample per batch and one image");
    const std::size_t last = model.size() - 1;
    // Softmax then cross-entropy is computed from the logits, which is exact where a separate
    // softmax would round small probabilities to zero.
    const bool logitsBeforeLast = model.layer(last).className() == "Softmax";
    const auto* dense = dynamic_cast<const Dense*>(&model.layer(last));
    const bool probabilities = dense && dense->activation() == "softmax";
    const std::size_t run = logitsBeforeLast ? last : model.size();

    const std::int64_t per = trainSet.height * trainSet.width, W = trainSet.width;
    const std::int64_t batches = (trainSet.count + o.batchSize - 1) / o.batchSize;
    const std::int64_t totalSteps = batches * o.epochs;
    const auto params = model.params();
    std::vector<EpochReport> reports;
    Tensor x, grad;
    std::vector<std::uint8_t> labels;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        const auto order = shuffled(trainSet.count, mixKey(o.seed, std::uint64_t(epoch)));
        EpochReport rep;
        rep.epoch = epoch;
        std::int64_t seen = 0, correct = 0;
        double lossSum = 0;
        for (std::int64_t b = 0; b < batches; ++b) {
            if (o.cancelled && o.cancelled()) throw Cancelled();
            const std::int64_t first = b * o.batchSize;
            const std::int64_t n = std::min(o.batchSize, trainSet.count - first);
            x.reset(batchShape(n, model.inputShape()));
            labels.resize(static_cast<std::size_t>(n));
            for (std::int64_t i = 0; i < n; ++i) {
                const std::int64_t src = order[first + i];
                const float* img = trainSet.images.data() + src * per;
                float* dst = x.sample(i);
                const bool flip = o.flip && (mixKey(mixKey(o.seed, 0x666c6970), std::uint64_t(epoch * trainSet.count + src)) & 1);
                for (std::int64_t p = 0; p < per; ++p)
                    dst[p] = flip ? img[(p / W) * W + (W - 1 - p % W)] : img[p];
                labels[i] = trainSet.labels[src];
            }
            const std::int64_t step = (epoch - 1) * batches + b;
            const Pass pass{o.executor, true, o.seed, static_cast<std::uint64_t>(step)};
            const Tensor& out = model.forward(x, pass, run);
            const LossResult r = probabilities ? probabilityCrossEntropy(out, labels, grad)
                                               : softmaxCrossEntropy(out, labels, grad);
            model.backward(grad, pass);
            const float lr = scheduledRate(o, step, totalSteps);
            if (b == 0) rep.learningRate = lr;
            optimizer.step(params, lr);
            seen += n;
            correct += r.correct;
            lossSum += r.loss * double(n);
            if (o.progress)
                o.progress({epoch, o.epochs, b + 1, batches, lossSum / double(seen),
                            double(correct) / double(seen)});
        }
        rep.loss = lossSum / double(seen);
        rep.trainAccuracy = double(correct) / double(seen);
        if (testSet) rep.testAccuracy = accuracy(model, *testSet, o.executor);
        rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        reports.push_back(rep);
        if (o.epochDone) o.epochDone(rep);
    }
    return reports;
}

} // namespace qs::nn
