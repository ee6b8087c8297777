// Keras Conv2D, channels last: im2col per chunk of samples, then one GEMM with the kernel
// [kh, kw, in, out] viewed as a (kh*kw*in) x out matrix.
#pragma once

#include "nn/affine.h"
#include "nn/geometry.h"

namespace qs::nn {

struct Conv2DOptions
{
    std::int64_t filters = 1;
    std::int64_t kernelH = 3, kernelW = 3;
    std::int64_t strideH = 1, strideW = 1;
    bool same = false; // padding "same" (else "valid")
    bool useBias = true;
    std::string activation = "linear";
};

class Conv2D : public Layer
{
public:
    Conv2D(std::string name, const Conv2DOptions& options);
    std::string className() const override { return "Conv2D"; }
    Json config() const override;
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv2D>(*this); }
    void initialize(Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;
    std::vector<Param*> params() override;

    const Conv2DOptions& options() const { return m_opt; }
    Param& kernel() { return m_kernel; }
    Param* bias() { return m_opt.useBias ? &m_bias : nullptr; }
    void ensureBias();

protected:
    Shape outputShapeFor(const Shape& input) override;

private:
    void im2col(const float* x, std::int64_t n, float* patches) const;
    void col2im(const float* dPatches, std::int64_t n, float* dx) const;
    std::int64_t patchSize() const { return m_opt.kernelH * m_opt.kernelW * m_cin; }
    std::int64_t outPixels() const { return m_y.out * m_x.out; }

    Conv2DOptions m_opt;
    std::int64_t m_cin = 0;
    WindowAxis m_y, m_x;
    Param m_kernel{"kernel", {}, {}, {}, true}, m_bias{"bias", {}, {}, {}, true};
    FusedActivation m_act;
    ChunkGrads m_parts;
    // Per chunk: the im2col patches of the last forward pass (reused by backward), then the
    // patch gradients.
    std::vector<std::vector<float>> m_patches, m_dPatches;
};

} // namespace qs::nn
