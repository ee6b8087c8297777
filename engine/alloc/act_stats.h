// Importance from the model's own activations: the mean squared input of each input column of
// every Dense and Conv2D kernel, collected by running calibration images through the runtime.
#pragma once

#include "analysis/executor.h"
#include "core/tensor.h"
#include "nn/sequential.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qs::alloc {

struct ActivationStats
{
    std::int64_t images = 0;
    // By weight tensor name as the Keras reader names it ("dense_1/kernel:0"): one value per
    // row of the kernel seen as its layer's GEMM matrix [inputs, outputs]. Dense [in, out]:
    // per input feature. Conv2D [kh, kw, cin, cout]: per im2col column (ky, kx, c), in the
    // kernel's own row-major order, with the zeros of "same" padding counted (they are inputs
    // of the GEMM as much as pixels are, as llama-imatrix counts every row it sees).
    std::map<std::string, std::vector<float>> columns;

    const std::vector<float>* find(const std::string& tensor) const;
    // The mean of every value: the weight of tensors without statistics (biases, batch-norm
    // vectors), as Imatrix::meanValue is for tensors an imatrix does not list.
    double meanValue() const;
};

// Runs `images` [n, ...input shape] through `model` for inference (batch norms with their
// moving statistics) in batches, and averages the squared input of every Dense and Conv2D
// layer per column in double. Deterministic: layers give the same bits for any thread count
// and the sums run in a fixed order. Throws qs::Error when the images do not fit the model.
ActivationStats collectActivationStats(const nn::Sequential& model, const nn::Tensor& images,
                                       const Control& control);

// Per-element weights of a Keras kernel [..., out] from its column statistics: element i of
// the row-major kernel is in input column i / out. (An imatrix's ColumnWeights takes the
// innermost axis instead, which is the input axis of ggml and PyTorch weights but the output
// axis of Keras kernels.)
class InputColumnWeights
{
public:
    // Without statistics every weight is `uniform`. Throws qs::Error when the statistics do
    // not have one value per input column of the tensor.
    InputColumnWeights(const std::vector<float>* columns, const TensorInfo& t, double uniform);
    double at(std::int64_t memoryIndex) const
    {
        return m_columns ? (*m_columns)[static_cast<std::size_t>(memoryIndex / m_out)] : m_uniform;
    }

private:
    const std::vector<float>* m_columns;
    std::int64_t m_out = 1;
    double m_uniform;
};

} // namespace qs::alloc
