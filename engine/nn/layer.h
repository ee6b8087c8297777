// The runtime's layer interface, its parameters, and the fixed batch chunking that makes
// multithreaded passes give the same bits for any thread count.
#pragma once

#include "analysis/executor.h"
#include "core/error.h"
#include "nn/tensor.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qs::nn {

class Rng;

using Json = nlohmann::ordered_json;

// The most values one parameter, and all parameters of a model, may hold (64 MiB and 256 MiB of
// float32, each as much again for gradients; far above the models the runtime is meant for): a
// model config that asks for more is refused before it can exhaust memory.
inline constexpr std::int64_t kMaxParamValues = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxModelParamValues = std::int64_t{1} << 26;

// A weight array in Keras layout (Conv2D kernel [kh, kw, in, out], Dense kernel [in, out]).
// grad is overwritten by each backward pass; non-trainable parameters (batch-norm moving
// statistics) have no gradient and are left alone by optimisers.
struct Param
{
    std::string name; // Keras weight name without the layer: "kernel", "moving_mean"
    Shape shape;
    std::vector<float> value, grad;
    bool trainable = true;

    // Zeros of shape s; values of the same shape are kept, so rebuilding a loaded or copied
    // layer does not lose its weights.
    void allocate(Shape s)
    {
        if (const std::int64_t n = shapeNumel(s); n > kMaxParamValues)
            throw Error("the " + name + " of shape " + shapeToString(s) + " would hold " +
                        std::to_string(n) + " values, more than the runtime's limit of " +
                        std::to_string(kMaxParamValues));
        if (s != shape || value.size() != static_cast<std::size_t>(shapeNumel(s))) {
            shape = std::move(s);
            value.assign(static_cast<std::size_t>(shapeNumel(shape)), 0.0f);
        }
        grad.assign(trainable ? value.size() : 0, 0.0f);
    }
};

// How a pass runs. `step` and `seed` key dropout masks; `training` selects batch statistics
// for batch normalisation and turns dropout on.
struct Pass
{
    const Executor* executor = nullptr; // serial when null
    bool training = false;
    std::uint64_t seed = 0;
    std::uint64_t step = 0;
};

// Batches are cut into chunks of this many samples whatever the thread count; partial results
// of chunks (parameter gradients, batch statistics) are summed in chunk order.
constexpr std::int64_t kChunkSamples = 16;

inline std::int64_t chunkCount(std::int64_t n)
{
    return (n + kChunkSamples - 1) / kChunkSamples;
}

// Calls fn(chunk, firstSample, endSample) for every chunk of n samples, possibly concurrently.
void forChunks(const Pass& pass, std::int64_t n,
               const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn);

// out = parts[0] + parts[1] + ... summed in that order for every element (elements are split
// across threads; each element's sum is always formed the same way).
void sumInOrder(const Pass& pass, const std::vector<std::vector<float>>& parts, float* out,
                std::size_t count);

class Layer
{
public:
    explicit Layer(std::string name) : m_name(std::move(name)) {}
    virtual ~Layer() = default;

    const std::string& name() const { return m_name; }
    void setName(std::string n) { m_name = std::move(n); }
    // The Keras class this layer is saved as ("Conv2D", "Dense", "BatchNormalization", ...).
    virtual std::string className() const = 0;
    // The Keras layer config except "name", "trainable" and "dtype".
    virtual Json config() const { return Json::object(); }
    virtual std::unique_ptr<Layer> clone() const = 0;

    // Per-sample input shape -> per-sample output shape; allocates parameters (zeros). Throws
    // qs::Error naming the layer when the input does not fit.
    Shape build(const Shape& input);
    const Shape& inputShape() const { return m_in; }
    const Shape& outputShape() const { return m_out; }
    // Keras's default initialisers (Glorot-uniform kernels, zero biases, unit gammas).
    virtual void initialize(Rng&) {}

    virtual void forward(const Tensor& in, Tensor& out, const Pass& pass) = 0;
    // From the output gradient: the parameter gradients and, when dIn is not null, the input
    // gradient. `in` and `out` are the tensors of the preceding forward pass.
    virtual void backward(const Tensor& in, const Tensor& out, const Tensor& dOut, Tensor* dIn,
                          const Pass& pass) = 0;

    virtual std::vector<Param*> params() { return {}; }
    std::vector<const Param*> params() const;

protected:
    virtual Shape outputShapeFor(const Shape& input) = 0;
    [[noreturn]] void fail(const std::string& what) const;

private:
    std::string m_name;
    Shape m_in, m_out;
};

} // namespace qs::nn
