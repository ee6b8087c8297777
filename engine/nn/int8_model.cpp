#include "nn/int8_model.h"

#include "core/error.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/geometry.h"

#include <algorithm>

namespace qs::nn {

Int8Model::Int8Model(const Sequential& folded, std::vector<Range> ranges,
                     std::vector<bool> quantized, Range inputRange)
    : m_model(folded), m_ranges(std::move(ranges)), m_quantized(std::move(quantized))
{
    if (m_ranges.size() != m_model.size() || m_quantized.size() != m_model.size())
        throw Error("the int8 model needs one activation range per layer");
    m_gemm.resize(m_model.size());
    // The grid of the values a layer reads is that of the last quantized output before it:
    // Flatten and Dropout pass values through unchanged.
    Range current = inputRange;
    for (std::size_t i = 0; i < m_model.size(); ++i) {
        Layer& l = m_model.layer(i);
        Gemm& g = m_gemm[i];
        Param* kernel = nullptr;
        Param* bias = nullptr;
        std::int64_t n = 0;
        if (auto* d = dynamic_cast<Dense*>(&l)) {
            kernel = &d->kernel();
            bias = d->bias();
            n = d->units();
            g.activation.set(d->activation(), l.name());
        } else if (auto* c = dynamic_cast<Conv2D*>(&l)) {
            kernel = &c->kernel();
            bias = c->bias();
            n = c->options().filters;
            g.activation.set(c->options().activation, l.name());
        }
        if (kernel) {
            const auto k = static_cast<std::int64_t>(kernel->value.size()) / n;
            g.weights = quantizeWeightsInt8(kernel->value.data(), k, n);
            g.bias = bias ? bias->value : std::vector<float>(static_cast<std::size_t>(n), 0.0f);
            g.input = activationGrid(current);
            if (!m_quantized[i] && i + 1 < m_model.size())
                throw Error("layer '" + l.name() + "': an int8 layer's output must be quantized");
        }
        if (m_quantized[i]) current = m_ranges[i];
    }
}

void Int8Model::runDense(std::size_t i, const Tensor& in, Tensor& out, const Pass& pass)
{
    Gemm& g = m_gemm[i];
    const Int8Weights& w = g.weights;
    Tensor& y = g.activation.target(out);
    y.reset({in.batch(), w.n});
    forChunks(pass, in.batch(), [&](std::int64_t c, std::int64_t b, std::int64_t e) {
        auto& codes = m_codes[c];
        auto& acc = m_acc[c];
        codes.assign(static_cast<std::size_t>((e - b) * w.kPadded), 0);
        acc.resize(static_cast<std::size_t>((e - b) * w.n));
        for (std::int64_t s = b; s < e; ++s)
            quantizeActivations(in.sample(s), w.k, g.input, codes.data() + (s - b) * w.kPadded);
        gemmInt8(codes.data(), e - b, w, g.input.zero, acc.data());
        for (std::int64_t r = 0; r < e - b; ++r)
            for (std::int64_t ch = 0; ch < w.n; ++ch)
                y.sample(b + r)[ch] =
                    float(acc[r * w.n + ch]) * (g.input.scale * w.scale[ch]) + g.bias[ch];
    });
    g.activation.forward(out, pass);
}

void Int8Model::runConv(std::size_t i, const Tensor& in, Tensor& out, const Pass& pass)
{
    auto& conv = static_cast<Conv2D&>(m_model.layer(i));
    const Conv2DOptions& o = conv.options();
    Gemm& g = m_gemm[i];
    const Int8Weights& w = g.weights;
    const Shape& is = conv.inputShape();
    const WindowAxis ay = windowAxis(is[0], o.kernelH, o.strideH, o.same);
    const WindowAxis ax = windowAxis(is[1], o.kernelW, o.strideW, o.same);
    const std::int64_t H = is[0], W = is[1], C = is[2], P = ay.out * ax.out;
    Tensor& y = g.activation.target(out);
    y.reset(batchShape(in.batch(), conv.outputShape()));
    // Padding reads the zero point: the code of 0.0, as float padding reads 0.0.
    const auto pad = static_cast<std::int8_t>(g.input.zero);
    forChunks(pass, in.batch(), [&](std::int64_t c, std::int64_t b, std::int64_t e) {
        const std::int64_t n = e - b;
        auto& codes = m_codes[c];
        auto& acc = m_acc[c];
        // The sample's codes first (H*W*C), then its patch rows, reused sample by sample.
        codes.assign(static_cast<std::size_t>(H * W * C + P * w.kPadded), 0);
        acc.resize(static_cast<std::size_t>(P * w.n));
        std::int8_t* img = codes.data();
        std::int8_t* rows = img + H * W * C;
        for (std::int64_t s = b; s < b + n; ++s) {
            quantizeActivations(in.sample(s), H * W * C, g.input, img);
            std::int8_t* row = rows;
            for (std::int64_t oy = 0; oy < ay.out; ++oy)
                for (std::int64_t ox = 0; ox < ax.out; ++ox, row += w.kPadded)
                    for (std::int64_t ky = 0; ky < o.kernelH; ++ky) {
                        const std::int64_t iy = oy * ay.stride - ay.padBefore + ky;
                        for (std::int64_t kx = 0; kx < o.kernelW; ++kx) {
                            const std::int64_t ix = ox * ax.stride - ax.padBefore + kx;
                            std::int8_t* dst = row + (ky * o.kernelW + kx) * C;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                std::fill(dst, dst + C, pad);
                            else
                                std::copy_n(img + (iy * W + ix) * C, C, dst);
                        }
                    }
            gemmInt8(rows, P, w, g.input.zero, acc.data());
            float* ys = y.sample(s);
            for (std::int64_t p = 0; p < P; ++p)
                for (std::int64_t ch = 0; ch < w.n; ++ch)
                    ys[p * w.n + ch] =
                        float(acc[p * w.n + ch]) * (g.input.scale * w.scale[ch]) + g.bias[ch];
        }
    });
    g.activation.forward(out, pass);
}

const Tensor& Int8Model::forward(const Tensor& input, const Executor* executor)
{
    const Pass pass{executor, false, 0, 0};
    m_acts.resize(m_model.size() + 1);
    m_acts[0] = input;
    const auto chunks = static_cast<std::size_t>(chunkCount(input.batch()));
    m_codes.resize(std::max(m_codes.size(), chunks));
    m_acc.resize(std::max(m_acc.size(), chunks));
    for (std::size_t i = 0; i < m_model.size(); ++i) {
        Layer& l = m_model.layer(i);
        if (dynamic_cast<Dense*>(&l))
            runDense(i, m_acts[i], m_acts[i + 1], pass);
        else if (dynamic_cast<Conv2D*>(&l))
            runConv(i, m_acts[i], m_acts[i + 1], pass);
        else
            l.forward(m_acts[i], m_acts[i + 1], pass);
        if (m_quantized[i] && i + 1 < m_model.size()) fakeQuantize(m_acts[i + 1].data, m_ranges[i]);
    }
    return m_acts.back();
}

} // namespace qs::nn
