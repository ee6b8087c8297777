#include "nn/conv2d.h"

#include "nn/dense.h"

#include <algorithm>
#include <cstring>

namespace qs::nn {

Conv2D::Conv2D(std::string name, const Conv2DOptions& options)
    : Layer(std::move(name)), m_opt(options)
{
    if (m_opt.filters < 1 || m_opt.kernelH < 1 || m_opt.kernelW < 1 || m_opt.strideH < 1 ||
        m_opt.strideW < 1)
        fail("filters, kernel size and strides must be positive");
    m_act.set(m_opt.activation, this->name());
}

Json Conv2D::config() const
{
    return {{"filters", m_opt.filters},
            {"kernel_size", {m_opt.kernelH, m_opt.kernelW}},
            {"strides", {m_opt.strideH, m_opt.strideW}},
            {"padding", m_opt.same ? "same" : "valid"},
            {"data_format", "channels_last"},
            {"dilation_rate", {1, 1}},
            {"groups", 1},
            {"activation", m_act.name()},
            {"use_bias", m_opt.useBias}};
}

Shape Conv2D::outputShapeFor(const Shape& input)
{
    if (input.size() != 3) fail("needs a height x width x channels input, not " + shapeToString(input));
    m_cin = input[2];
    m_y = windowAxis(input[0], m_opt.kernelH, m_opt.strideH, m_opt.same);
    m_x = windowAxis(input[1], m_opt.kernelW, m_opt.strideW, m_opt.same);
    if (m_y.out < 1 || m_x.out < 1)
        fail("the " + std::to_string(m_opt.kernelH) + "x" + std::to_string(m_opt.kernelW) +
             " kernel does not fit the input " + shapeToString(input));
    m_kernel.allocate({m_opt.kernelH, m_opt.kernelW, m_cin, m_opt.filters});
    if (m_opt.useBias) m_bias.allocate({m_opt.filters});
    return {m_y.out, m_x.out, m_opt.filters};
}

void Conv2D::initialize(Rng& rng)
{
    const std::int64_t area = m_opt.kernelH * m_opt.kernelW;
    glorotUniform(m_kernel, area * m_cin, area * m_opt.filters, rng);
    std::fill(m_bias.value.begin(), m_bias.value.end(), 0.0f);
}

void Conv2D::ensureBias()
{
    if (m_opt.useBias) return;
    m_opt.useBias = true;
    m_bias.allocate({m_opt.filters});
}

std::vector<Param*> Conv2D::params()
{
    if (m_opt.useBias) return {&m_kernel, &m_bias};
    return {&m_kernel};
}

// Row (s, oy, ox) of the patch matrix holds the window's pixels in (ky, kx, c) order, the
// order of the kernel's first three axes; padding positions are zeros.
void Conv2D::im2col(const float* x, std::int64_t n, float* patches) const
{
    const std::int64_t H = m_y.in, W = m_x.in, C = m_cin;
    const std::int64_t kh = m_opt.kernelH, kw = m_opt.kernelW;
    float* row = patches;
    for (std::int64_t s = 0; s < n; ++s) {
        const float* img = x + s * H * W * C;
        for (std::int64_t oy = 0; oy < m_y.out; ++oy)
            for (std::int64_t ox = 0; ox < m_x.out; ++ox) {
                for (std::int64_t ky = 0; ky < kh; ++ky) {
                    const std::int64_t iy = oy * m_y.stride - m_y.padBefore + ky;
                    for (std::int64_t kx = 0; kx < kw; ++kx) {
                        const std::int64_t ix = ox * m_x.stride - m_x.padBefore + kx;
                        float* dst = row + (ky * kw + kx) * C;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                            std::fill(dst, dst + C, 0.0f);
                        else
                            std::memcpy(dst, img + (iy * W + ix) * C, sizeof(float) * C);
                    }
                }
                row += kh * kw * C;
            }
    }
}

void Conv2D::col2im(const float* dPatches, std::int64_t n, float* dx) const
{
    const std::int64_t H = m_y.in, W = m_x.in, C = m_cin;
    const std::int64_t kh = m_opt.kernelH, kw = m_opt.kernelW;
    std::fill(dx, dx + n * H * W * C, 0.0f);
    const float* row = dPatches;
    for (std::int64_t s = 0; s < n; ++s) {
        float* img = dx + s * H * W * C;
        for (std::int64_t oy = 0; oy < m_y.out; ++oy)
            for (std::int64_t ox = 0; ox < m_x.out; ++ox) {
                for (std::int64_t ky = 0; ky < kh; ++ky) {
                    const std::int64_t iy = oy * m_y.stride - m_y.padBefore + ky;
                    if (iy < 0 || iy >= H) continue;
                    for (std::int64_t kx = 0; kx < kw; ++kx) {
                        const std::int64_t ix = ox * m_x.stride - m_x.padBefore + kx;
                        if (ix < 0 || ix >= W) continue;
                        const float* src = row + (ky * kw + kx) * C;
                        float* dst = img + (iy * W + ix) * C;
                        for (std::int64_t c = 0; c < C; ++c)
                            dst[c] += src[c];
                    }
                }
                row += kh * kw * C;
            }
    }
}

void Conv2D::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    const std::int64_t n = in.batch(), K = patchSize(), P = outPixels();
    Tensor& y = m_act.target(out);
    y.reset(batchShape(n, outputShape()));
    m_patches.resize(static_cast<std::size_t>(chunkCount(n)));
    forChunks(pass, n, [&](std::int64_t c, std::int64_t b, std::int64_t e) {
        auto& patches = m_patches[c];
        patches.resize(static_cast<std::size_t>((e - b) * P * K));
        im2col(in.sample(b), e - b, patches.data());
        affineForward(patches.data(), (e - b) * P, K, m_opt.filters, m_kernel.value.data(),
                      m_opt.useBias ? m_bias.value.data() : nullptr, y.sample(b));
    });
    m_act.forward(out, pass);
}

void Conv2D::backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                      const Pass& pass)
{
    const Tensor& dY = m_act.backward(out, dOut, pass);
    const std::int64_t n = in.batch(), K = patchSize(), P = outPixels();
    const std::int64_t chunks = chunkCount(n);
    m_parts.prepare(chunks, m_kernel.value.size(), m_opt.useBias ? m_opt.filters : 0);
    m_dPatches.resize(static_cast<std::size_t>(chunks));
    if (dIn) dIn->reset(in.shape);
    forChunks(pass, n, [&](std::int64_t c, std::int64_t b, std::int64_t e) {
        float* dP = nullptr;
        if (dIn) {
            m_dPatches[c].resize(static_cast<std::size_t>((e - b) * P * K));
            dP = m_dPatches[c].data();
        }
        affineBackward(m_patches[c].data(), dY.sample(b), (e - b) * P, K, m_opt.filters,
                       m_kernel.value.data(), m_parts.kernel[c].data(),
                       m_opt.useBias ? m_parts.bias[c].data() : nullptr, dP);
        if (dIn) col2im(dP, e - b, dIn->sample(b));
    });
    m_parts.reduce(pass, m_kernel, bias());
}

} // namespace qs::nn
