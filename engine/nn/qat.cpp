#include "nn/qat.h"

#include "analysis/analyze.h"
#include "core/error.h"
#include "io/model.h"
#include "nn/dense.h"
#include "nn/loss.h"
#include "nn/random.h"
#include "plan/plan.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>

namespace qs::nn {

WeightFakeQuantizer::WeightFakeQuantizer(Sequential& model, const std::string& path,
                                         const Plan& plan)
{
    std::map<std::string, Param*> byName; // Keras weight names, as the reader names tensors
    for (std::size_t i = 0; i < model.size(); ++i)
        for (Param* p : model.layer(i).params())
            byName[model.layer(i).name() + "/" + p->name + ":0"] = p;
    const auto file = openModel(path);
    for (const TensorInfo& t : file->tensors) {
        const auto spec = plan.resolve(t);
        const auto it = byName.find(t.name);
        if (!spec || it == byName.end()) continue;
        if (static_cast<std::size_t>(t.numel()) != it->second->value.size())
            throw Error(path + ": tensor '" + t.name + "' does not match the model's weight");
        Item item{it->second, t, *spec, {}};
        // The quantizer reads the training copy, not the file: contiguous native float32.
        item.info.dtype = DType::F32;
        item.info.storedType = "F32";
        item.info.strides.clear();
        item.info.bigEndian = false;
        item.info.byteSize = static_cast<std::uint64_t>(t.numel()) * sizeof(float);
        m_items.push_back(std::move(item));
    }
}

void WeightFakeQuantizer::apply(const Executor* executor)
{
    for (Item& it : m_items) {
        it.saved = it.param->value;
        TensorQuantizer qz(std::as_bytes(std::span<const float>(it.saved)), it.info, it.spec);
        dequantizeTensor(qz, it.param->value.data(), Control{executor, {}, {}});
    }
}

void WeightFakeQuantizer::restore()
{
    for (Item& it : m_items)
        it.param->value.swap(it.saved);
}

namespace {

// Sets every batch norm's moving statistics to the mean and variance of its input over the
// first images of `set`, layer after layer (each one's input depends on the ones before).
// Training moves them with momentum 0.99 while the weights change under them, so after a short
// fine-tune they can trail the fake-quantized network's real statistics; evaluation folds
// them into the quantized kernels, so they must match those.
void reestimateBatchNorms(Sequential& model, const data::ImageSet& set, std::int64_t samples,
                          const Executor* executor)
{
    const std::int64_t n = std::min(samples, set.count), per = set.height * set.width;
    constexpr std::int64_t kBatch = 256;
    for (std::size_t i = 0; i < model.size(); ++i) {
        if (model.layer(i).className() != "BatchNormalization") continue;
        Param *mean = nullptr, *var = nullptr;
        for (Param* p : model.layer(i).params()) {
            if (p->name == "moving_mean") mean = p;
            if (p->name == "moving_variance") var = p;
        }
        if (!mean || !var) continue;
        const auto channels = static_cast<std::int64_t>(mean->value.size());
        std::vector<double> stats(2 * mean->value.size(), 0.0); // sums, then sums of squares
        double* sum = stats.data();
        double* squares = stats.data() + channels;
        std::int64_t rows = 0;
        for (std::int64_t b = 0; b < n; b += kBatch) {
            const std::int64_t m = std::min(kBatch, n - b);
            Tensor x(batchShape(m, model.inputShape()));
            std::copy_n(set.images.data() + b * per, m * per, x.data.data());
            const Tensor& in = model.forward(x, {executor}, i); // layers before i: its input
            for (std::int64_t j = 0; j < in.numel(); ++j) {
                const double v = in.data[static_cast<std::size_t>(j)];
                sum[j % channels] += v;
                squares[j % channels] += v * v;
            }
            rows += in.numel() / channels;
        }
        if (rows == 0) continue;
        for (std::int64_t c = 0; c < channels; ++c) {
            const double mu = sum[c] / double(rows);
            mean->value[c] = static_cast<float>(mu);
            var->value[c] = static_cast<float>(std::max(0.0, squares[c] / double(rows) - mu * mu));
        }
    }
}

} // namespace

std::vector<EpochReport> quantAwareTrain(Sequential& model, const std::string& path,
                                         const Plan& plan, const data::ImageSet& trainSet,
                                         const QatOptions& o)
{
    if (model.inputShape() != Shape{trainSet.height, trainSet.width, 1})
        throw Error(path + ": the model takes " + shapeToString(model.inputShape()) +
                    " but the training images are " + std::to_string(trainSet.height) + "x" +
                    std::to_string(trainSet.width) + "x1");
    if (o.epochs < 1 || o.batchSize < 1 || trainSet.count < 1)
        throw Error("quantization-aware training needs at least one epoch, one sample per batch "
                    "and one image");
    WeightFakeQuantizer fq(model, path, plan);
    const std::size_t last = model.size() - 1;
    // As train(): cross-entropy from the logits before a final Softmax, or on the
    // probabilities of a final softmax Dense.
    const bool logitsBeforeLast = model.layer(last).className() == "Softmax";
    const auto* dense = dynamic_cast<const Dense*>(&model.layer(last));
    const bool probabilities = dense && dense->activation() == "softmax";
    const std::size_t run = logitsBeforeLast ? last : model.size();

    TrainOptions schedule;
    schedule.learningRate = o.learningRate;
    const std::int64_t per = trainSet.height * trainSet.width, W = trainSet.width;
    const std::int64_t batches = (trainSet.count + o.batchSize - 1) / o.batchSize;
    const std::int64_t totalSteps = batches * o.epochs;
    const auto params = model.params();
    Adam optimizer;
    std::vector<EpochReport> reports;
    Tensor x, grad;
    std::vector<std::uint8_t> labels;
    std::vector<std::int64_t> order(static_cast<std::size_t>(trainSet.count));
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        std::iota(order.begin(), order.end(), 0);
        Rng rng(mixKey(o.seed, std::uint64_t(epoch)));
        for (std::int64_t i = trainSet.count - 1; i > 0; --i)
            std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
        EpochReport rep;
        rep.epoch = epoch;
        std::int64_t seen = 0, correct = 0;
        double lossSum = 0;
        for (std::int64_t b = 0; b < batches; ++b) {
            const std::int64_t first = b * o.batchSize;
            const std::int64_t n = std::min(o.batchSize, trainSet.count - first);
            x.reset(batchShape(n, model.inputShape()));
            labels.resize(static_cast<std::size_t>(n));
            for (std::int64_t i = 0; i < n; ++i) {
                const std::int64_t src = order[first + i];
                const float* img = trainSet.images.data() + src * per;
                float* dst = x.sample(i);
                const bool flip =
                    o.flip && (mixKey(o.seed, std::uint64_t(epoch * trainSet.count + src)) & 1);
                for (std::int64_t p = 0; p < per; ++p)
                    dst[p] = flip ? img[(p / W) * W + (W - 1 - p % W)] : img[p];
                labels[i] = trainSet.labels[src];
            }
            const std::int64_t step = (epoch - 1) * batches + b;
            const Pass pass{o.executor, true, o.seed, static_cast<std::uint64_t>(step)};
            fq.apply(o.executor);
            const Tensor& out = model.forward(x, pass, run);
            const LossResult r = probabilities ? probabilityCrossEntropy(out, labels, grad)
                                               : softmaxCrossEntropy(out, labels, grad);
            model.backward(grad, pass);
            fq.restore();
            const float lr = scheduledRate(schedule, step, totalSteps);
            if (b == 0) rep.learningRate = lr;
            optimizer.step(params, lr);
            seen += n;
            correct += r.correct;
            lossSum += r.loss * double(n);
        }
        rep.loss = lossSum / double(seen);
        rep.trainAccuracy = double(correct) / double(seen);
        rep.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        reports.push_back(rep);
        if (o.epochDone) o.epochDone(rep);
    }
    if (o.batchNormSamples > 0) {
        fq.apply(o.executor);
        reestimateBatchNorms(model, trainSet, o.batchNormSamples, o.executor);
        fq.restore();
    }
    return reports;
}

} // namespace qs::nn
