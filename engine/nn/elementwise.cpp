#include "nn/elementwise.h"

#include "core/error.h"
#include "nn/random.h"

#include <algorithm>
#include <cmath>

namespace qs::nn {
namespace {

// Runs fn(first, count) over the flat element ranges of each chunk of samples.
template <typename Fn>
void forElements(const Pass& pass, const Tensor& t, Fn fn)
{
    const std::int64_t per = t.sampleSize();
    forChunks(pass, t.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        fn(b * per, (e - b) * per);
    });
}

} // namespace

void ReLU::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i)
            out.data[i] = std::max(in.data[i], 0.0f);
    });
}

void ReLU::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                    const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i)
            dIn->data[i] = in.data[i] > 0.0f ? dOut.data[i] : 0.0f;
    });
}

void GELU::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i) {
            const float x = in.data[i];
            out.data[i] = 0.5f * x * (1.0f + std::erf(x * 0.70710678f));
        }
    });
}

void GELU::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                    const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    // d/dx x*Phi(x) = Phi(x) + x*phi(x)
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i) {
            const float x = in.data[i];
            const float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678f));
            const float pdf = 0.39894228f * std::exp(-0.5f * x * x);
            dIn->data[i] = dOut.data[i] * (cdf + x * pdf);
        }
    });
}

void Softmax::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    const std::int64_t k = in.shape.back();
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t r = f; r < f + n; r += k) {
            const float* x = in.data.data() + r;
            float* y = out.data.data() + r;
            const float m = *std::max_element(x, x + k); // shifted so exp cannot overflow
            double sum = 0;
            for (std::int64_t j = 0; j < k; ++j)
                sum += (y[j] = std::exp(x[j] - m));
            const float inv = static_cast<float>(1.0 / sum);
            for (std::int64_t j = 0; j < k; ++j)
                y[j] *= inv;
        }
    });
}

void Softmax::backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                       const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    const std::int64_t k = in.shape.back();
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t r = f; r < f + n; r += k) {
            double dot = 0;
            for (std::int64_t j = 0; j < k; ++j)
                dot += double(dOut.data[r + j]) * out.data[r + j];
            for (std::int64_t j = 0; j < k; ++j)
                dIn->data[r + j] = out.data[r + j] * (dOut.data[r + j] - static_cast<float>(dot));
        }
    });
}

void Rescaling::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i)
            out.data[i] = in.data[i] * m_scale + m_offset;
    });
}

void Rescaling::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                         const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    forElements(pass, in, [&](std::int64_t f, std::int64_t n) {
        for (std::int64_t i = f; i < f + n; ++i)
            dIn->data[i] = dOut.data[i] * m_scale;
    });
}

Dropout::Dropout(std::string name, float rate) : Layer(std::move(name)), m_rate(rate)
{
    if (!(rate >= 0.0f && rate < 1.0f))
        fail("the rate " + std::to_string(rate) + " is outside [0, 1)");
}

void Dropout::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    if (!pass.training || m_rate == 0.0f) {
        out.data = in.data;
        return;
    }
    m_mask.resize(in.data.size());
    const float keep = 1.0f - m_rate, scale = 1.0f / keep;
    const std::uint64_t key = mixKey(mixKey(pass.seed, pass.step), nameHash(name()));
    const std::int64_t per = in.sampleSize();
    forChunks(pass, in.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            Rng rng(mixKey(key, static_cast<std::uint64_t>(s)));
            for (std::int64_t i = s * per; i < (s + 1) * per; ++i) {
                m_mask[i] = rng.uniform() < keep;
                out.data[i] = m_mask[i] ? in.data[i] * scale : 0.0f;
            }
        }
    });
}

void Dropout::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                       const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    if (!pass.training || m_rate == 0.0f) {
        dIn->data = dOut.data;
        return;
    }
    const float scale = 1.0f / (1.0f - m_rate);
    for (std::size_t i = 0; i < dIn->data.size(); ++i)
        dIn->data[i] = m_mask[i] ? dOut.data[i] * scale : 0.0f;
}

Shape Flatten::outputShapeFor(const Shape& input)
{
    return {shapeNumel(input)};
}

void Flatten::forward(const Tensor& in, Tensor& out, const Pass&)
{
    out.shape = {in.batch(), in.sampleSize()};
    out.data = in.data; // row-major NHWC already is Keras's flattening order
}

void Flatten::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                       const Pass&)
{
    if (!dIn) return;
    dIn->shape = in.shape;
    dIn->data = dOut.data;
}

std::unique_ptr<Layer> makeActivation(const std::string& activation, const std::string& name)
{
    if (activation == "linear") return nullptr;
    if (activation == "relu") return std::make_unique<ReLU>(name);
    if (activation == "gelu") return std::make_unique<GELU>(name);
    if (activation == "softmax") return std::make_unique<Softmax>(name);
    throw Error("layer '" + name + "': the activation '" + activation +
                "' is not supported (linear, relu, gelu, softmax)");
}

} // namespace qs::nn
