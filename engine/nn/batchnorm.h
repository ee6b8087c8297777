// Keras BatchNormalization over the last axis: batch statistics in training (with the moving
// averages updated), the moving statistics in inference.
#pragma once

#include "nn/layer.h"

namespace qs::nn {

struct BatchNormOptions
{
    float momentum = 0.99f; // Keras's default
    float epsilon = 1e-3f;  // Keras's default
    bool center = true;     // has beta
    bool scale = true;      // has gamma
};

class BatchNorm : public Layer
{
public:
    BatchNorm(std::string name, const BatchNormOptions& options = {});
    std::string className() const override { return "BatchNormalization"; }
    Json config() const override;
    std::unique_ptr<Layer> clone() const override { return std::make_unique<BatchNorm>(*this); }
    void initialize(Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;
    std::vector<Param*> params() override;

    // The inference transform y = x * scale[c] + shift[c], from the moving statistics.
    void inferenceAffine(std::vector<float>& scale, std::vector<float>& shift) const;
    const BatchNormOptions& options() const { return m_opt; }

protected:
    Shape outputShapeFor(const Shape& input) override;

private:
    float gamma(std::int64_t c) const { return m_opt.scale ? m_gamma.value[c] : 1.0f; }
    // Per-channel sums over all rows of `t` of f(row element, channel), in double and in chunk
    // order.
    template <typename F>
    std::vector<double> channelSums(const Pass& pass, const Tensor& t, F f);

    BatchNormOptions m_opt;
    std::int64_t m_c = 0;
    Param m_gamma{"gamma", {}, {}, {}, true}, m_beta{"beta", {}, {}, {}, true};
    Param m_mean{"moving_mean", {}, {}, {}, false}, m_var{"moving_variance", {}, {}, {}, false};
    // Of the last forward pass: the mean and 1/sqrt(var + eps) it normalised with.
    std::vector<float> m_useMean, m_useInvStd;
    std::vector<std::vector<double>> m_parts;
};

} // namespace qs::nn
