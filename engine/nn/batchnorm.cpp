#include "nn/batchnorm.h"

#include <cmath>

namespace qs::nn {

BatchNorm::BatchNorm(std::string name, const BatchNormOptions& options)
    : Layer(std::move(name)), m_opt(options)
{
    if (!(m_opt.epsilon > 0.0f)) fail("epsilon must be positive");
    if (!(m_opt.momentum >= 0.0f && m_opt.momentum <= 1.0f)) fail("momentum must be in [0, 1]");
}

Json BatchNorm::config() const
{
    return {{"axis", {-1}}, {"momentum", m_opt.momentum}, {"epsilon", m_opt.epsilon},
            {"center", m_opt.center}, {"scale", m_opt.scale}};
}

Shape BatchNorm::outputShapeFor(const Shape& input)
{
    if (input.empty()) fail("needs an input with a channel axis");
    m_c = input.back();
    if (m_opt.scale) m_gamma.allocate({m_c});
    if (m_opt.center) m_beta.allocate({m_c});
    m_mean.allocate({m_c});
    m_var.allocate({m_c});
    return input;
}

void BatchNorm::initialize(Rng&)
{
    std::fill(m_gamma.value.begin(), m_gamma.value.end(), 1.0f);
    std::fill(m_beta.value.begin(), m_beta.value.end(), 0.0f);
    std::fill(m_mean.value.begin(), m_mean.value.end(), 0.0f);
    std::fill(m_var.value.begin(), m_var.value.end(), 1.0f);
}

std::vector<Param*> BatchNorm::params()
{
    // Keras's weight order: gamma, beta, moving_mean, moving_variance (absent ones skipped).
    std::vector<Param*> p;
    if (m_opt.scale) p.push_back(&m_gamma);
    if (m_opt.center) p.push_back(&m_beta);
    p.push_back(&m_mean);
    p.push_back(&m_var);
    return p;
}

void BatchNorm::inferenceAffine(std::vector<float>& scale, std::vector<float>& shift) const
{
    scale.resize(m_c);
    shift.resize(m_c);
    for (std::int64_t c = 0; c < m_c; ++c) {
        scale[c] = gamma(c) / std::sqrt(m_var.value[c] + m_opt.epsilon);
        shift[c] = (m_opt.center ? m_beta.value[c] : 0.0f) - m_mean.value[c] * scale[c];
    }
}

template <typename F>
std::vector<double> BatchNorm::channelSums(const Pass& pass, const Tensor& t, F f)
{
    const std::int64_t rowsPer = t.sampleSize() / m_c;
    m_parts.assign(static_cast<std::size_t>(chunkCount(t.batch())), std::vector<double>(m_c, 0.0));
    forChunks(pass, t.batch(), [&](std::int64_t k, std::int64_t b, std::int64_t e) {
        auto& acc = m_parts[k];
        for (std::int64_t r = b * rowsPer; r < e * rowsPer; ++r)
            for (std::int64_t c = 0; c < m_c; ++c)
                acc[c] += f(r * m_c + c, c);
    });
    std::vector<double> total(m_c, 0.0);
    for (const auto& p : m_parts)
        for (std::int64_t c = 0; c < m_c; ++c)
            total[c] += p[c];
    return total;
}

void BatchNorm::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    out.reset(in.shape);
    m_useMean.resize(m_c);
    m_useInvStd.resize(m_c);
    const double count = static_cast<double>(in.numel() / m_c);
    if (pass.training) {
        const auto sum = channelSums(pass, in, [&](std::int64_t i, std::int64_t) { return in.data[i]; });
        for (std::int64_t c = 0; c < m_c; ++c)
            m_useMean[c] = static_cast<float>(sum[c] / count);
        const auto sq = channelSums(pass, in, [&](std::int64_t i, std::int64_t c) {
            const double d = double(in.data[i]) - m_useMean[c];
            return d * d;
        });
        const float keep = m_opt.momentum;
        for (std::int64_t c = 0; c < m_c; ++c) {
            const double var = sq[c] / count;
            m_useInvStd[c] = static_cast<float>(1.0 / std::sqrt(var + m_opt.epsilon));
            // The moving variance takes the unbiased estimate, as TensorFlow's fused kernel
            // and PyTorch do.
            const double unbiased = count > 1 ? sq[c] / (count - 1) : var;
            m_mean.value[c] = keep * m_mean.value[c] + (1 - keep) * m_useMean[c];
            m_var.value[c] = keep * m_var.value[c] + (1 - keep) * static_cast<float>(unbiased);
        }
    } else {
        for (std::int64_t c = 0; c < m_c; ++c) {
            m_useMean[c] = m_mean.value[c];
            m_useInvStd[c] = 1.0f / std::sqrt(m_var.value[c] + m_opt.epsilon);
        }
    }
    const std::int64_t per = in.sampleSize();
    forChunks(pass, in.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b * per; i < e * per; i += m_c)
            for (std::int64_t c = 0; c < m_c; ++c) {
                const float xhat = (in.data[i + c] - m_useMean[c]) * m_useInvStd[c];
                out.data[i + c] = gamma(c) * xhat + (m_opt.center ? m_beta.value[c] : 0.0f);
            }
    });
}

void BatchNorm::backward(const Tensor& in, const Tensor&, const Tensor& dOut, Tensor* dIn,
                         const Pass& pass)
{
    const auto xhat = [&](std::int64_t i, std::int64_t c) {
        return (in.data[i] - m_useMean[c]) * m_useInvStd[c];
    };
    const auto dBeta = channelSums(pass, dOut, [&](std::int64_t i, std::int64_t) { return dOut.data[i]; });
    const auto dGamma = channelSums(pass, dOut, [&](std::int64_t i, std::int64_t c) {
        return double(dOut.data[i]) * xhat(i, c);
    });
    for (std::int64_t c = 0; c < m_c; ++c) {
        if (m_opt.scale) m_gamma.grad[c] = static_cast<float>(dGamma[c]);
        if (m_opt.center) m_beta.grad[c] = static_cast<float>(dBeta[c]);
    }
    if (!dIn) return;
    dIn->reset(in.shape);
    const double count = static_cast<double>(in.numel() / m_c);
    const std::int64_t per = in.sampleSize();
    forChunks(pass, in.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b * per; i < e * per; i += m_c)
            for (std::int64_t c = 0; c < m_c; ++c) {
                const float g = gamma(c) * m_useInvStd[c];
                float d = dOut.data[i + c];
                // With batch statistics the mean and variance depend on every input too.
                if (pass.training)
                    d -= static_cast<float>((dBeta[c] + xhat(i + c, c) * dGamma[c]) / count);
                dIn->data[i + c] = g * d;
            }
    });
}

} // namespace qs::nn
