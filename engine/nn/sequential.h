// A Keras-style Sequential model: layers in order, built for a per-sample input shape, with
// forward and backward passes over a batch and batch-norm folding for inference.
#pragma once

#include "nn/layer.h"

#include <functional>
#include <memory>
#include <vector>

namespace qs::nn {

class Sequential
{
public:
    Sequential() = default;
    Sequential(const Sequential& other);
    Sequential& operator=(const Sequential& other);
    Sequential(Sequential&&) noexcept = default;
    Sequential& operator=(Sequential&&) noexcept = default;

    std::string name = "sequential";

    // Layer names must be unique (they name the weights in a Keras file).
    void add(std::unique_ptr<Layer> layer);
    // Builds every layer for a per-sample input shape (e.g. {28, 28, 1}); throws qs::Error
    // naming the first layer that does not fit.
    void build(const Shape& inputShape);
    bool built() const { return !m_outShape.empty(); }
    // Keras's default initialisers, seeded.
    void initialize(std::uint64_t seed);

    const Shape& inputShape() const { return m_inShape; }
    const Shape& outputShape() const { return m_outShape; }
    std::size_t size() const { return m_layers.size(); }
    Layer& layer(std::size_t i) { return *m_layers[i]; }
    const Layer& layer(std::size_t i) const { return *m_layers[i]; }

    // Runs the first `count` layers (all by default) on a batch and keeps every activation for
    // backward(); returns the last one.
    const Tensor& forward(const Tensor& input, const Pass& pass, std::size_t count = SIZE_MAX);
    // The same, calling hook(i, output) after layer i, which may change the output (activation
    // quantization does).
    using LayerHook = std::function<void(std::size_t, Tensor&)>;
    const Tensor& forward(const Tensor& input, const Pass& pass, std::size_t count,
                          const LayerHook& hook);
    // Back through the layers of the last forward pass, from the gradient of its output; fills
    // every parameter's grad.
    void backward(const Tensor& dOutput, const Pass& pass);
    // The activation after layer i of the last forward pass (i = -1: the input).
    const Tensor& activation(std::ptrdiff_t i) const { return m_acts[i + 1]; }

    // Inference over any number of samples, in batches; returns the outputs.
    Tensor predict(const float* inputs, std::int64_t count, const Executor* executor,
                   std::int64_t batchSize = 256);

    std::vector<Param*> params();
    std::int64_t parameterCount() const;

private:
    std::vector<std::unique_ptr<Layer>> m_layers;
    Shape m_inShape, m_outShape;
    std::vector<Tensor> m_acts, m_grads;
    std::size_t m_ran = 0;
};

// The model for inference with every BatchNormalization that directly follows a Conv2D or a
// Dense without a fused activation merged into that layer's kernel and bias
// (W' = W * scale[out], b' = b * scale + shift). Other batch norms stay.
Sequential foldBatchNorm(const Sequential& model);

} // namespace qs::nn
