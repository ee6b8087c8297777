#include "nn/optimizer.h"

#include "core/error.h"

#include <cmath>

namespace qs::nn {
namespace {

// The optimiser's state buffers, made for the first list of parameters and checked after.
void matchState(std::vector<std::vector<float>>& state, const std::vector<Param*>& params)
{
    if (state.empty()) {
        for (const Param* p : params)
            state.emplace_back(p->trainable ? p->value.size() : 0, 0.0f);
        return;
    }
    if (state.size() != params.size())
        throw Error("optimizer: the parameter list changed between steps");
    for (std::size_t i = 0; i < params.size(); ++i)
        if (params[i]->trainable && state[i].size() != params[i]->value.size())
            throw Error("optimizer: parameter '" + params[i]->name + "' changed size");
}

} // namespace

void Sgd::step(const std::vector<Param*>& params, float lr)
{
    matchState(m_velocity, params);
    for (std::size_t i = 0; i < params.size(); ++i) {
        Param& p = *params[i];
        if (!p.trainable) continue;
        auto& vel = m_velocity[i];
        for (std::size_t j = 0; j < p.value.size(); ++j) {
            vel[j] = m_momentum * vel[j] - lr * p.grad[j];
            p.value[j] += m_nesterov ? m_momentum * vel[j] - lr * p.grad[j] : vel[j];
        }
    }
}

void Adam::step(const std::vector<Param*>& params, float lr)
{
    matchState(m_m, params);
    matchState(m_v, params);
    ++m_t;
    const double c1 = 1.0 - std::pow(double(m_beta1), double(m_t));
    const double c2 = 1.0 - std::pow(double(m_beta2), double(m_t));
    for (std::size_t i = 0; i < params.size(); ++i) {
        Param& p = *params[i];
        if (!p.trainable) continue;
        auto& m = m_m[i];
        auto& v = m_v[i];
        for (std::size_t j = 0; j < p.value.size(); ++j) {
            const float g = p.grad[j];
            m[j] = m_beta1 * m[j] + (1 - m_beta1) * g;
            v[j] = m_beta2 * v[j] + (1 - m_beta2) * g * g;
            const double mHat = m[j] / c1, vHat = v[j] / c2;
            p.value[j] -= static_cast<float>(lr * mHat / (std::sqrt(vHat) + m_epsilon));
        }
    }
}

} // namespace qs::nn
