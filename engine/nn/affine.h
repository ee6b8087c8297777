// What Dense and Conv2D share: the GEMMs of y = x W + b over a chunk of rows, per-chunk
// gradient buffers, and a Keras "activation" argument run on the pre-activation.
#pragma once

#include "nn/layer.h"

namespace qs::nn {

// y[rows, n] = x[rows, k] * w[k, n] (+ b[n]); all row-major.
void affineForward(const float* x, std::int64_t rows, std::int64_t k, std::int64_t n,
                   const float* w, const float* b, float* y);

// dW[k, n] = x^T dy, dB[n] = column sums of dy (when dB is not null), dX[rows, k] = dy w^T
// (when dX is not null). dW and dB are overwritten.
void affineBackward(const float* x, const float* dy, std::int64_t rows, std::int64_t k,
                    std::int64_t n, const float* w, float* dW, float* dB, float* dX);

// Per-chunk partial gradients of a kernel and a bias, summed in chunk order afterwards.
struct ChunkGrads
{
    std::vector<std::vector<float>> kernel, bias;
    void prepare(std::int64_t chunks, std::size_t kernelSize, std::size_t biasSize);
    void reduce(const Pass& pass, Param& kernelParam, Param* biasParam) const;
};

// A Keras layer's "activation" argument. Held by pointer so layers stay copyable; activation
// layers keep no state between passes, so copies may share one.
class FusedActivation
{
public:
    void set(const std::string& activation, const std::string& owner);
    const std::string& name() const { return m_name; }
    bool active() const { return m_layer != nullptr; }
    // Where the affine part writes: the pre-activation buffer, or `out` itself when linear.
    Tensor& target(Tensor& out) { return m_layer ? m_pre : out; }
    void forward(Tensor& out, const Pass& pass);
    // The gradient with respect to the pre-activation (dOut itself when linear).
    const Tensor& backward(const Tensor& out, const Tensor& dOut, const Pass& pass);

private:
    std::string m_name = "linear";
    std::shared_ptr<Layer> m_layer;
    Tensor m_pre, m_dPre;
};

} // namespace qs::nn
