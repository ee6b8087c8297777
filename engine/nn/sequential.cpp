#include "nn/sequential.h"

#include "core/error.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/random.h"

#include <algorithm>
#include <cstring>

namespace qs::nn {

Sequential::Sequential(const Sequential& other)
    : name(other.name), m_inShape(other.m_inShape), m_outShape(other.m_outShape)
{
    for (const auto& l : other.m_layers)
        m_layers.push_back(l->clone());
}

Sequential& Sequential::operator=(const Sequential& other)
{
    if (this != &other) *this = Sequential(other);
    return *this;
}

void Sequential::add(std::unique_ptr<Layer> layer)
{
    for (const auto& l : m_layers)
        if (l->name() == layer->name())
            throw Error("model '" + name + "': two layers are named '" + layer->name() + "'");
    m_layers.push_back(std::move(layer));
    m_outShape.clear();
}

void Sequential::build(const Shape& inputShape)
{
    if (m_layers.empty()) throw Error("model '" + name + "' has no layers");
    for (const auto d : inputShape)
        if (d < 1)
            throw Error("model '" + name + "': the input shape " + shapeToString(inputShape) +
                        " has an empty axis");
    m_inShape = inputShape;
    Shape s = inputShape;
    for (auto& l : m_layers)
        s = l->build(s);
    m_outShape = s;
}

void Sequential::initialize(std::uint64_t seed)
{
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
        Rng rng(mixKey(seed, i)); // each layer's draws stay the same when others change
        m_layers[i]->initialize(rng);
    }
}

const Tensor& Sequential::forward(const Tensor& input, const Pass& pass, std::size_t count)
{
    return forward(input, pass, count, {});
}

const Tensor& Sequential::forward(const Tensor& input, const Pass& pass, std::size_t count,
                                  const LayerHook& hook)
{
    if (!built()) throw Error("model '" + name + "' is not built");
    if (Shape(input.shape.begin() + std::min<std::size_t>(1, input.shape.size()), input.shape.end()) !=
        m_inShape)
        throw Error("model '" + name + "' takes inputs of " + shapeToString(m_inShape) +
                    " per sample, not " + shapeToString(input.shape));
    m_ran = std::min(count, m_layers.size());
    m_acts.resize(m_layers.size() + 1);
    m_acts[0] = input;
    for (std::size_t i = 0; i < m_ran; ++i) {
        m_layers[i]->forward(m_acts[i], m_acts[i + 1], pass);
        if (hook) hook(i, m_acts[i + 1]);
    }
    return m_acts[m_ran];
}

void Sequential::backward(const Tensor& dOutput, const Pass& pass)
{
    m_grads.resize(m_layers.size() + 1);
    m_grads[m_ran] = dOutput;
    for (std::size_t i = m_ran; i-- > 0;) {
        // The first layer's input gradient is never needed: skip computing it.
        Tensor* dIn = i > 0 ? &m_grads[i] : nullptr;
        m_layers[i]->backward(m_acts[i], m_acts[i + 1], m_grads[i + 1], dIn, pass);
    }
}

Tensor Sequential::predict(const float* inputs, std::int64_t count, const Executor* executor,
                           std::int64_t batchSize)
{
    const std::int64_t per = shapeNumel(m_inShape);
    Tensor out(batchShape(count, m_outShape));
    const std::int64_t outPer = shapeNumel(m_outShape);
    Pass pass{executor, false, 0, 0};
    Tensor batch;
    for (std::int64_t b = 0; b < count; b += batchSize) {
        const std::int64_t n = std::min(batchSize, count - b);
        batch.reset(batchShape(n, m_inShape));
        std::memcpy(batch.data.data(), inputs + b * per, sizeof(float) * n * per);
        const Tensor& y = forward(batch, pass);
        std::memcpy(out.data.data() + b * outPer, y.data.data(), sizeof(float) * n * outPer);
    }
    return out;
}

std::vector<Param*> Sequential::params()
{
    std::vector<Param*> all;
    for (auto& l : m_layers)
        for (Param* p : l->params())
            all.push_back(p);
    return all;
}

std::int64_t Sequential::parameterCount() const
{
    std::int64_t n = 0;
    for (const auto& l : m_layers)
        for (const Param* p : std::as_const(*l).params())
            n += static_cast<std::int64_t>(p->value.size());
    return n;
}

namespace {

// Scales output channel o (the kernel's last axis) by scale[o] and maps the bias through the
// batch norm's affine transform.
void foldInto(Param& kernel, Param& bias, const std::vector<float>& scale,
              const std::vector<float>& shift)
{
    const std::size_t out = scale.size();
    for (std::size_t i = 0; i < kernel.value.size(); ++i)
        kernel.value[i] *= scale[i % out];
    for (std::size_t o = 0; o < out; ++o)
        bias.value[o] = bias.value[o] * scale[o] + shift[o];
}

} // namespace

Sequential foldBatchNorm(const Sequential& model)
{
    Sequential out;
    out.name = model.name;
    for (std::size_t i = 0; i < model.size(); ++i) {
        auto layer = model.layer(i).clone();
        const auto* bn = i + 1 < model.size()
                             ? dynamic_cast<const BatchNorm*>(&model.layer(i + 1))
                             : nullptr;
        auto* conv = dynamic_cast<Conv2D*>(layer.get());
        auto* dense = dynamic_cast<Dense*>(layer.get());
        const bool linear = (conv && conv->options().activation == "linear") ||
                            (dense && dense->activation() == "linear");
        if (bn && linear) {
            std::vector<float> scale, shift;
            bn->inferenceAffine(scale, shift);
            if (conv) {
                conv->ensureBias();
                foldInto(conv->kernel(), *conv->bias(), scale, shift);
            } else {
                dense->ensureBias();
                foldInto(dense->kernel(), *dense->bias(), scale, shift);
            }
            ++i; // the batch norm is now part of this layer
        }
        out.add(std::move(layer));
    }
    if (model.built()) out.build(model.inputShape());
    return out;
}

} // namespace qs::nn
