// Keras Dense: y = x W + b on a flat input, kernel [in, units].
#pragma once

#include "nn/affine.h"

namespace qs::nn {

class Dense : public Layer
{
public:
    Dense(std::string name, std::int64_t units, bool useBias = true,
          const std::string& activation = "linear");
    std::string className() const override { return "Dense"; }
    Json config() const override;
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }
    void initialize(Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;
    std::vector<Param*> params() override;

    std::int64_t units() const { return m_units; }
    Param& kernel() { return m_kernel; }
    Param* bias() { return m_useBias ? &m_bias : nullptr; }
    // Gives the layer a bias (zeros) when it has none: batch-norm folding needs one.
    void ensureBias();
    const std::string& activation() const { return m_act.name(); }

protected:
    Shape outputShapeFor(const Shape& input) override;

private:
    std::int64_t m_units;
    bool m_useBias;
    Param m_kernel{"kernel", {}, {}, {}, true}, m_bias{"bias", {}, {}, {}, true};
    FusedActivation m_act;
    ChunkGrads m_parts;
};

// Keras's glorot_uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)).
void glorotUniform(Param& p, std::int64_t fanIn, std::int64_t fanOut, Rng& rng);

} // namespace qs::nn
