#include "alloc/output_measure.h"

#include "analysis/analyze.h"
#include "core/error.h"
#include "nn/keras_model.h"

#include <cstring>

namespace qs::alloc {
namespace {

constexpr std::int64_t kBatch = 64; // a cancel takes effect after at most one batch

// The logits' squared difference, not the KL divergence of their softmax: a confident
// prediction's softmax saturates, so KL hardly sees an error that halves its margin, while
// the next, harder image would flip. Squared logit error also keeps the additive model of the
// knapsack honest to first order: the logit change of several small weight errors is the sum
// of their changes, and its expected square is the sum of theirs when they are uncorrelated.
double squaredDifference(const std::vector<float>& a, const std::vector<float>& b)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - double(b[i]);
        sum += d * d;
    }
    return sum;
}

nn::Param* findParam(nn::Sequential& m, const std::string& tensor)
{
    for (std::size_t i = 0; i < m.size(); ++i)
        for (nn::Param* p : m.layer(i).params())
            if (m.layer(i).name() + "/" + p->name + ":0" == tensor) return p;
    return nullptr;
}

} // namespace

OutputProbe::OutputProbe(const std::string& modelPath, nn::Tensor images)
    : m_path(modelPath), m_model(nn::loadKerasModel(modelPath)), m_images(std::move(images))
{
    if (m_images.shape.size() < 2 ||
        Shape(m_images.shape.begin() + 1, m_images.shape.end()) != m_model.inputShape())
        throw Error(modelPath + ": the model takes " + shapeToString(m_model.inputShape()) +
                    " per image, the calibration images are " + shapeToString(m_images.shape));
    m_reference = logits(nn::foldBatchNorm(m_model), Control{});
}

bool OutputProbe::has(const std::string& tensor) const
{
    for (std::size_t i = 0; i < m_model.size(); ++i)
        for (const nn::Param* p : m_model.layer(i).params())
            if (m_model.layer(i).name() + "/" + p->name + ":0" == tensor) return true;
    return false;
}

std::vector<float> OutputProbe::logits(const nn::Sequential& folded, const Control& control) const
{
    nn::Sequential run = folded;
    std::vector<float> out;
    const std::int64_t n = m_images.batch(), per = m_images.sampleSize();
    for (std::int64_t first = 0; first < n; first += kBatch) {
        control.checkCancelled();
        const std::int64_t m = std::min(kBatch, n - first);
        nn::Tensor x(nn::batchShape(m, run.inputShape()));
        std::memcpy(x.data.data(), m_images.data.data() + first * per,
                    sizeof(float) * static_cast<std::size_t>(m * per));
        const nn::Tensor& y = run.forward(x, nn::Pass{}); // serial: same bits on any machine
        out.insert(out.end(), y.data.begin(), y.data.end());
    }
    return out;
}

double OutputProbe::distortion(std::span<const std::byte> data, const TensorInfo& t,
                               const QuantSpec& spec, const Control& control) const
{
    nn::Sequential q = m_model;
    nn::Param* p = findParam(q, t.name);
    if (!p)
        throw Error(m_path + ": tensor '" + t.name +
                    "' is not a weight of the runnable model, so the output measure cannot "
                    "quantize it");
    if (static_cast<std::size_t>(t.numel()) != p->value.size())
        throw Error(m_path + ": tensor '" + t.name + "' does not match the model's weight");
    TensorQuantizer qz(data, t, spec);
    Control serial;
    serial.cancelled = control.cancelled;
    dequantizeTensor(qz, p->value.data(), serial);
    const auto z = logits(nn::foldBatchNorm(q), serial);
    return m_reference.empty()
               ? 0.0
               : squaredDifference(z, m_reference) / static_cast<double>(m_reference.size());
}

} // namespace qs::alloc
