#include "nn/dense.h"

#include "nn/random.h"

#include <cmath>

namespace qs::nn {

void glorotUniform(Param& p, std::int64_t fanIn, std::int64_t fanOut, Rng& rng)
{
    const float limit = std::sqrt(6.0f / static_cast<float>(fanIn + fanOut));
    for (float& v : p.value)
        v = (2.0f * rng.uniform() - 1.0f) * limit;
}

Dense::Dense(std::string name, std::int64_t units, bool useBias, const std::string& activation)
    : Layer(std::move(name)), m_units(units), m_useBias(useBias)
{
    if (units < 1) fail("units must be positive, not " + std::to_string(units));
    m_act.set(activation, this->name());
}

Json Dense::config() const
{
    return {{"units", m_units}, {"activation", m_act.name()}, {"use_bias", m_useBias}};
}

Shape Dense::outputShapeFor(const Shape& input)
{
    if (input.size() != 1)
        fail("needs a flat input (add a Flatten layer before it), not " + shapeToString(input));
    m_kernel.allocate({input[0], m_units});
    if (m_useBias) m_bias.allocate({m_units});
    return {m_units};
}

void Dense::initialize(Rng& rng)
{
    glorotUniform(m_kernel, m_kernel.shape[0], m_units, rng);
    std::fill(m_bias.value.begin(), m_bias.value.end(), 0.0f);
}

void Dense::ensureBias()
{
    if (m_useBias) return;
    m_useBias = true;
    m_bias.allocate({m_units});
}

std::vector<Param*> Dense::params()
{
    if (m_useBias) return {&m_kernel, &m_bias};
    return {&m_kernel};
}

void Dense::forward(const Tensor& in, Tensor& out, const Pass& pass)
{
    const std::int64_t k = inputShape()[0];
    Tensor& y = m_act.target(out);
    y.reset({in.batch(), m_units});
    forChunks(pass, in.batch(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        affineForward(in.sample(b), e - b, k, m_units, m_kernel.value.data(),
                      m_useBias ? m_bias.value.data() : nullptr, y.sample(b));
    });
    m_act.forward(out, pass);
}

void Dense::backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                     const Pass& pass)
{
    const Tensor& dY = m_act.backward(out, dOut, pass);
    const std::int64_t k = inputShape()[0];
    m_parts.prepare(chunkCount(in.batch()), m_kernel.value.size(), m_useBias ? m_units : 0);
    if (dIn) dIn->reset(in.shape);
    forChunks(pass, in.batch(), [&](std::int64_t c, std::int64_t b, std::int64_t e) {
        affineBackward(in.sample(b), dY.sample(b), e - b, k, m_units, m_kernel.value.data(),
                       m_parts.kernel[c].data(), m_useBias ? m_parts.bias[c].data() : nullptr,
                       dIn ? dIn->sample(b) : nullptr);
    });
    m_parts.reduce(pass, m_kernel, bias());
}

} // namespace qs::nn
