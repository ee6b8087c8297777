// Keras MaxPooling2D and AveragePooling2D, channels last. With "same" padding, windows are
// clipped to the input: the maximum ignores padding and the average divides by the number of
// input elements the window covers (TensorFlow's semantics).
#pragma once

#include "nn/geometry.h"
#include "nn/layer.h"

namespace qs::nn {

struct PoolOptions
{
    std::int64_t poolH = 2, poolW = 2;
    std::int64_t strideH = 2, strideW = 2; // Keras: strides default to the pool size
    bool same = false;
};

class Pool2D : public Layer
{
public:
    Pool2D(std::string name, const PoolOptions& options, bool max);
    std::string className() const override { return m_max ? "MaxPooling2D" : "AveragePooling2D"; }
    Json config() const override;
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Pool2D>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;
    bool isMax() const { return m_max; }

protected:
    Shape outputShapeFor(const Shape& input) override;

private:
    // The input rows [y0, y1) and columns [x0, x1) of output position (oy, ox).
    void window(std::int64_t oy, std::int64_t ox, std::int64_t& y0, std::int64_t& y1,
                std::int64_t& x0, std::int64_t& x1) const;

    PoolOptions m_opt;
    bool m_max;
    std::int64_t m_c = 0;
    WindowAxis m_y, m_x;
    std::vector<std::int32_t> m_argmax; // per output element: offset in its sample's input
};

} // namespace qs::nn
