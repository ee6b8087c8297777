// Layers without weights that act on each sample alone: activations, Rescaling, Dropout,
// Flatten and Softmax.
#pragma once

#include "nn/layer.h"

namespace qs::nn {

class ReLU : public Layer
{
public:
    using Layer::Layer;
    std::string className() const override { return "ReLU"; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLU>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;

protected:
    Shape outputShapeFor(const Shape& input) override { return input; }
};

// The exact GELU, x * Phi(x), as Keras's "gelu" activation computes it by default.
class GELU : public Layer
{
public:
    using Layer::Layer;
    // Keras 2 has no GELU layer class: it is saved as Activation("gelu").
    std::string className() const override { return "Activation"; }
    Json config() const override { return {{"activation", "gelu"}}; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<GELU>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;

protected:
    Shape outputShapeFor(const Shape& input) override { return input; }
};

// Softmax over the last axis.
class Softmax : public Layer
{
public:
    using Layer::Layer;
    std::string className() const override { return "Softmax"; }
    Json config() const override { return {{"axis", -1}}; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Softmax>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;

protected:
    Shape outputShapeFor(const Shape& input) override { return input; }
};

// y = x * scale + offset (Keras Rescaling, e.g. 1/255 on raw pixels).
class Rescaling : public Layer
{
public:
    Rescaling(std::string name, float scale, float offset)
        : Layer(std::move(name)), m_scale(scale), m_offset(offset)
    {
    }
    std::string className() const override { return "Rescaling"; }
    Json config() const override { return {{"scale", m_scale}, {"offset", m_offset}}; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Rescaling>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;

protected:
    Shape outputShapeFor(const Shape& input) override { return input; }

private:
    float m_scale, m_offset;
};

// Inverted dropout: in training, each value is kept with probability 1 - rate and scaled by
// 1 / (1 - rate); otherwise the identity. The mask of a sample depends only on the pass's
// seed and step, the layer's name and the sample's index in the batch.
class Dropout : public Layer
{
public:
    Dropout(std::string name, float rate);
    std::string className() const override { return "Dropout"; }
    Json config() const override { return {{"rate", m_rate}}; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Dropout>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;
    float rate() const { return m_rate; }

protected:
    Shape outputShapeFor(const Shape& input) override { return input; }

private:
    float m_rate;
    std::vector<std::uint8_t> m_mask; // of the last training pass
};

// Channels-last flattening, the order Keras's Flatten produces.
class Flatten : public Layer
{
public:
    using Layer::Layer;
    std::string className() const override { return "Flatten"; }
    Json config() const override { return {{"data_format", "channels_last"}}; }
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Flatten>(*this); }
    void forward(const Tensor& in, Tensor& out, const Pass& pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                  const Pass& pass) override;

protected:
    Shape outputShapeFor(const Shape& input) override;
};

// The layer for a Keras activation name ("relu", "gelu", "softmax"); nullptr for "linear".
// Throws qs::Error for names the runtime does not implement.
std::unique_ptr<Layer> makeActivation(const std::string& activation, const std::string& name);

} // namespace qs::nn
