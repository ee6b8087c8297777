// Optimisers: SGD with (optionally Nesterov) momentum as Keras writes it, and Adam.
#pragma once

#include "nn/layer.h"

#include <vector>

namespace qs::nn {

class Optimizer
{
public:
    virtual ~Optimizer() = default;
    // One update of every trainable parameter from its grad; `params` must be the same list, in
    // the same order, on every call (the optimiser's state follows it).
    virtual void step(const std::vector<Param*>& params, float learningRate) = 0;
};

// velocity = momentum * velocity - lr * g; w += velocity (Nesterov: w += momentum * velocity
// - lr * g).
class Sgd : public Optimizer
{
public:
    explicit Sgd(float momentum = 0.0f, bool nesterov = false)
        : m_momentum(momentum), m_nesterov(nesterov)
    {
    }
    void step(const std::vector<Param*>& params, float learningRate) override;

private:
    float m_momentum;
    bool m_nesterov;
    std::vector<std::vector<float>> m_velocity;
};

// Adam as the paper (and PyTorch) writes it: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon). TensorFlow adds epsilon before
// the bias correction instead, a difference of order epsilon; the defaults are Keras's.
class Adam : public Optimizer
{
public:
    explicit Adam(float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : m_beta1(beta1), m_beta2(beta2), m_epsilon(epsilon)
    {
    }
    void step(const std::vector<Param*>& params, float learningRate) override;
    std::int64_t iterations() const { return m_t; }

private:
    float m_beta1, m_beta2, m_epsilon;
    std::int64_t m_t = 0;
    std::vector<std::vector<float>> m_m, m_v;
};

} // namespace qs::nn
