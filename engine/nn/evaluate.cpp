#include "nn/evaluate.h"

#include "analysis/analyze.h"
#include "core/error.h"
#include "io/model.h"
#include "nn/int8_model.h"
#include "nn/keras_model.h"
#include "nn/loss.h"
#include "plan/plan.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace qs::nn {
namespace {

// Replaces every weight the plan selects by its dequantized values; returns how many.
int quantizeWeights(Sequential& model, const std::string& path, const Plan& plan,
                    const Executor* executor)
{
    std::map<std::string, Param*> byName; // Keras weight names, as the reader names tensors
    for (std::size_t i = 0; i < model.size(); ++i)
        for (Param* p : model.layer(i).params())
            byName[model.layer(i).name() + "/" + p->name + ":0"] = p;
    const auto file = openModel(path);
    int count = 0;
    for (const TensorInfo& t : file->tensors) {
        const auto spec = plan.resolve(t);
        const auto it = byName.find(t.name);
        if (!spec || it == byName.end()) continue;
        Param& p = *it->second;
        if (static_cast<std::size_t>(t.numel()) != p.value.size())
            throw Error(path + ": tensor '" + t.name + "' does not match the model's weight");
        TensorQuantizer qz(file->data(t), t, *spec);
        dequantizeTensor(qz, p.value.data(), Control{executor, {}, {}});
        ++count;
    }
    return count;
}

bool quantizable(const Sequential& m, std::size_t i)
{
    const std::string c = m.layer(i).className();
    return i + 1 < m.size() && c != "Flatten" && c != "Dropout";
}

Tensor batchOf(const data::ImageSet& set, std::int64_t first, std::int64_t n)
{
    Tensor x(Shape{n, set.height, set.width, 1});
    std::memcpy(x.data.data(), set.images.data() + first * set.height * set.width,
                sizeof(float) * static_cast<std::size_t>(x.numel()));
    return x;
}

std::vector<Range> calibrate(Sequential& model, const data::ImageSet& set, const EvaluateOptions& o)
{
    std::vector<RangeCalibrator> cal(model.size());
    const std::int64_t n = std::min(o.calibrationSamples, set.count);
    if (n < 1) throw Error("static activation quantization needs calibration images");
    for (std::int64_t b = 0; b < n; b += o.batchSize) {
        const Tensor x = batchOf(set, b, std::min(o.batchSize, n - b));
        model.forward(x, {o.executor}, SIZE_MAX, [&](std::size_t i, Tensor& out) {
            if (quantizable(model, i)) cal[i].add(out.data);
        });
    }
    std::vector<Range> ranges;
    for (const auto& c : cal)
        ranges.push_back(c.range(o.calibration, o.percentile));
    return ranges;
}

void softmaxRow(const float* z, std::int64_t k, std::vector<double>& p)
{
    p.resize(static_cast<std::size_t>(k));
    const double m = *std::max_element(z, z + k);
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j)
        sum += (p[j] = std::exp(double(z[j]) - m));
    for (auto& v : p)
        v /= sum;
}

// The int8 kernels over the test set, compared with the fake-quantized predictions.
void runInt8(const Sequential& quant, const std::vector<Range>& ranges, const data::ImageSet& test,
             const data::ImageSet& calibration, const EvaluateOptions& o,
             const std::vector<std::int64_t>& predicted, EvaluateResult& r)
{
    if (o.activations != ActivationMode::Static)
        throw Error("the int8 kernels need static activation ranges (--activations static)");
    std::vector<bool> quantized(quant.size());
    for (std::size_t i = 0; i < quant.size(); ++i)
        quantized[i] = quantizable(quant, i);
    // The fake-quantized path reads the images in float; pixels k/255 are exactly the codes of
    // the [0, 1] grid, so the int8 path reads them without loss. Other inputs get the
    // calibration images' range.
    const std::int64_t nCal = std::min(o.calibrationSamples, calibration.count);
    const auto pixels = calibration.images.begin();
    const auto [mn, mx] =
        std::minmax_element(pixels, pixels + nCal * calibration.height * calibration.width);
    const Range input = *mn >= 0 && *mx <= 1 ? Range{0, 1} : Range{*mn, *mx};
    Int8Model model(quant, ranges, quantized, input);
    std::int64_t correct = 0, agree = 0;
    double seconds = 0;
    for (std::int64_t b = 0; b < test.count; b += o.batchSize) {
        const std::int64_t n = std::min(o.batchSize, test.count - b);
        const Tensor x = batchOf(test, b, n);
        const auto start = std::chrono::steady_clock::now();
        const Tensor& y = model.forward(x, o.executor);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::int64_t k = y.shape[1];
        for (std::int64_t s = 0; s < n; ++s) {
            const std::int64_t c = argmax(y.sample(s), k);
            correct += c == test.labels[static_cast<std::size_t>(b + s)];
            agree += c == predicted[static_cast<std::size_t>(b + s)];
        }
    }
    const double count = double(std::max<std::int64_t>(test.count, 1));
    r.int8Accuracy = double(correct) / count;
    r.int8Agreement = double(agree) / count;
    r.int8LatencyMsPerImage = 1000.0 * seconds / count;
}

} // namespace

EvaluateResult evaluateModel(const std::string& path, const data::ImageSet& test,
                             const data::ImageSet& calibration, const EvaluateOptions& o)
{
    Sequential loaded = loadKerasModel(path);
    if (loaded.inputShape() != Shape{test.height, test.width, 1})
        throw Error(path + ": the model takes " + shapeToString(loaded.inputShape()) +
                    " but the images are " + std::to_string(test.height) + "x" +
                    std::to_string(test.width) + "x1");
    EvaluateResult r;
    Sequential quantLoaded = loaded;
    if (o.plan) r.quantizedTensors = quantizeWeights(quantLoaded, path, *o.plan, o.executor);
    Sequential ref = foldBatchNorm(loaded), quant = foldBatchNorm(quantLoaded);
    std::vector<Range> ranges;
    if (o.activations == ActivationMode::Static) ranges = calibrate(quant, calibration, o);

    const auto hook = [&](std::size_t i, Tensor& out) {
        if (o.activations == ActivationMode::None || !quantizable(quant, i)) return;
        if (o.activations == ActivationMode::Static) {
            fakeQuantize(out.data, ranges[i]);
            return;
        }
        const std::int64_t per = out.sampleSize();
        for (std::int64_t s = 0; s < out.batch(); ++s) {
            const std::span<float> v(out.sample(s), static_cast<std::size_t>(per));
            const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
            fakeQuantize(v, {*mn, *mx});
        }
    };

    std::vector<double> signal(ref.size(), 0.0), noise(ref.size(), 0.0);
    std::int64_t correct = 0, refCorrect = 0, agree = 0;
    double klSum = 0, seconds = 0, floatSeconds = 0;
    std::vector<double> p, q;
    std::vector<std::int64_t> predicted; // of the quantized model, for the int8 comparison
    using Clock = std::chrono::steady_clock;
    for (std::int64_t b = 0; b < test.count; b += o.batchSize) {
        const std::int64_t n = std::min(o.batchSize, test.count - b);
        const Tensor x = batchOf(test, b, n);
        const auto start0 = Clock::now();
        const Tensor& y0 = ref.forward(x, {o.executor});
        const auto start = Clock::now();
        const Tensor& y1 = quant.forward(x, {o.executor}, SIZE_MAX, hook);
        const auto end = Clock::now();
        floatSeconds += std::chrono::duration<double>(start - start0).count();
        seconds += std::chrono::duration<double>(end - start).count();
        for (std::size_t i = 0; i < ref.size(); ++i) {
            const auto& a = ref.activation(static_cast<std::ptrdiff_t>(i)).data;
            const auto& c = quant.activation(static_cast<std::ptrdiff_t>(i)).data;
            for (std::size_t j = 0; j < a.size(); ++j) {
                signal[i] += double(a[j]) * a[j];
                noise[i] += (double(a[j]) - c[j]) * (double(a[j]) - c[j]);
            }
        }
        const std::int64_t k = y0.shape[1];
        for (std::int64_t s = 0; s < n; ++s) {
            const auto c0 = argmax(y0.sample(s), k), c1 = argmax(y1.sample(s), k);
            const std::uint8_t label = test.labels[static_cast<std::size_t>(b + s)];
            refCorrect += c0 == label;
            correct += c1 == label;
            agree += c0 == c1;
            predicted.push_back(c1);
            r.predictions.push_back(static_cast<std::uint8_t>(c1));
            r.referencePredictions.push_back(static_cast<std::uint8_t>(c0));
            softmaxRow(y0.sample(s), k, p);
            softmaxRow(y1.sample(s), k, q);
            for (std::int64_t j = 0; j < k; ++j)
                if (p[j] > 0) klSum += p[j] * std::log(p[j] / std::max(q[j], 1e-300));
        }
        if (o.batchDone && !o.batchDone(b + n)) throw Error("the evaluation was cancelled");
    }
    const double count = double(std::max<std::int64_t>(test.count, 1));
    r.images = test.count;
    r.accuracy = double(correct) / count;
    r.referenceAccuracy = double(refCorrect) / count;
    r.agreement = double(agree) / count;
    r.kl = klSum / count;
    r.latencyMsPerImage = 1000.0 * seconds / count;
    r.floatLatencyMsPerImage = 1000.0 * floatSeconds / count;
    if (o.int8Kernels) runInt8(quant, ranges, test, calibration, o, predicted, r);
    for (std::size_t i = 0; i < ref.size(); ++i)
        r.layers.push_back({ref.layer(i).name(),
                            noise[i] > 0 ? 10.0 * std::log10(signal[i] / noise[i])
                                         : std::numeric_limits<double>::infinity()});
    return r;
}

} // namespace qs::nn
