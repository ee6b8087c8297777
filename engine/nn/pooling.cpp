#include "nn/pooling.h"

#include <algorithm>
#include <limits>

namespace qs::nn {

Pool2D::Pool2D(std::string name, const PoolOptions& options, bool max)
    : Layer(std::move(name)), m_opt(options), m_max(max)
{
    if (m_opt.poolH < 1 || m_opt.poolW < 1 || m_opt.strideH < 1 || m_opt.strideW < 1)
        fail("pool size and strides must be positive");
}

Json Pool2D::config() const
{
    return {{"pool_size", {m_opt.poolH, m_opt.poolW}},
            {"padding", m_opt.same ? "same" : "valid"},
            {"strides", {m_opt.strideH, m_opt.strideW}},
            {"data_format", "channels_last"}};
}

Shape Pool2D::outputShapeFor(const Shape& input)
{
    if (input.size() != 3) fail("needs a height x width x channels input, not " + shapeToString(input));
    if (shapeNumel(input) > std::numeric_limits<std::int32_t>::max())
        fail("the input " + shapeToString(input) + " is too large");
    m_c = input[2];
    m_y = windowAxis(input[0], m_opt.poolH, m_opt.strideH, m_opt.same);
    m_x = windowAxis(input[1], m_opt.poolW, m_opt.strideW, m_opt.same);
    if (m_y.out < 1 || m_x.out < 1) fail("the pool does not fit the input " + shapeToString(input));
    return {m_y.out, m_x.out, m_c};
}

void Pool2D::window(std::int64_t oy, std::int64_t ox, std::int64_t& y0, std::int64_t& y1,
                    std::int64_t& x0, std::int64_t& x1) const
{
    y0 = oy * m_y.stride - m_y.padBefore;
    x0 = ox * m_x.stride - m_x.padBefore;
    y1 = std::min(y0 + m_y.kernel, m_y.in);
    x1 = std::min(x0 + m_x.kernel, m_x.in);
    y0 = std::max<std::int64_t>(y0, 0);
    x0 = std::max<std::int64_t>(x0, 0);
}

void Pool2D::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    const std::int64_t n = in.batch(), W = m_x.in, C = m_c;
    out.reset(batchShape(n, outputShape()));
    if (m_max) m_argmax.resize(out.data.size());
    const std::int64_t outPer = out.sampleSize();
    forChunks(pass, n, [&](std::int64_t, std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const float* x = in.sample(s);
            float* y = out.sample(s);
            std::int32_t* arg = m_max ? m_argmax.data() + s * outPer : nullptr;
            for (std::int64_t oy = 0; oy < m_y.out; ++oy)
                for (std::int64_t ox = 0; ox < m_x.out; ++ox) {
                    std::int64_t y0, y1, x0, x1;
                    window(oy, ox, y0, y1, x0, x1);
                    const std::int64_t o = (oy * m_x.out + ox) * C;
                    for (std::int64_t c = 0; c < C; ++c) {
                        float best = -std::numeric_limits<float>::infinity();
                        std::int64_t bestAt = (y0 * W + x0) * C + c;
                        double sum = 0;
                        for (std::int64_t iy = y0; iy < y1; ++iy)
                            for (std::int64_t ix = x0; ix < x1; ++ix) {
                                const std::int64_t at = (iy * W + ix) * C + c;
                                if (x[at] > best) { // the first maximum takes the gradient
                                    best = x[at];
                                    bestAt = at;
                                }
                                sum += x[at];
                            }
                        if (m_max) {
                            y[o + c] = best;
                            arg[o + c] = static_cast<std::int32_t>(bestAt);
                        } else {
                            y[o + c] = static_cast<float>(sum / double((y1 - y0) * (x1 - x0)));
                        }
                    }
                }
        }
    });
}

void Pool2D::backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                      const Pass& pass)
{
    if (!dIn) return;
    dIn->reset(in.shape);
    const std::int64_t W = m_x.in, C = m_c, outPer = out.sampleSize();
    forChunks(pass, in.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            float* dx = dIn->sample(s);
            std::fill(dx, dx + in.sampleSize(), 0.0f);
            const float* dy = dOut.sample(s);
            if (m_max) {
                const std::int32_t* arg = m_argmax.data() + s * outPer;
                for (std::int64_t i = 0; i < outPer; ++i)
                    dx[arg[i]] += dy[i];
                continue;
            }
            for (std::int64_t oy = 0; oy < m_y.out; ++oy)
                for (std::int64_t ox = 0; ox < m_x.out; ++ox) {
                    std::int64_t y0, y1, x0, x1;
                    window(oy, ox, y0, y1, x0, x1);
                    const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
                    const std::int64_t o = (oy * m_x.out + ox) * C;
                    for (std::int64_t iy = y0; iy < y1; ++iy)
                        for (std::int64_t ix = x0; ix < x1; ++ix)
                            for (std::int64_t c = 0; c < C; ++c)
                                dx[(iy * W + ix) * C + c] += dy[o + c] * inv;
                }
        }
    });
}

} // namespace qs::nn
