// A batch-norm-folded Sequential run with integer Dense and Conv2D layers: the real int8
// counterpart of static activation fake quantization.
#pragma once

#include "nn/affine.h"
#include "nn/int8_gemm.h"
#include "nn/sequential.h"

namespace qs::nn {

class Int8Model
{
public:
    // `ranges` are the static activation ranges of every layer output (as evaluateModel
    // calibrates them; entries of layers whose outputs are not quantized are ignored),
    // `quantized(i)` says whose are. `inputRange` is the grid of the images the first layer
    // reads: [0, 1] puts 8-bit pixels k/255 on it exactly. The model is copied; its Dense and
    // Conv2D kernels are requantized to int8 per output channel.
    Int8Model(const Sequential& folded, std::vector<Range> ranges, std::vector<bool> quantized,
              Range inputRange);

    // Like Sequential::forward with the static fake-quantization hook: layers other than Dense
    // and Conv2D run in float on the (already on-grid) values, then every quantized output is
    // put on its grid. Dense and Conv2D read their input as int8 codes and accumulate in int32.
    const Tensor& forward(const Tensor& input, const Executor* executor);

private:
    struct Gemm
    {
        Int8Weights weights;
        std::vector<float> bias; // zeros when the layer has none
        ActivationGrid input;    // the grid of the values this layer reads
        FusedActivation activation;
    };
    void runDense(std::size_t i, const Tensor& in, Tensor& out, const Pass& pass);
    void runConv(std::size_t i, const Tensor& in, Tensor& out, const Pass& pass);

    Sequential m_model;
    std::vector<Range> m_ranges;
    std::vector<bool> m_quantized;
    std::vector<Gemm> m_gemm; // per layer; empty weights for other layers
    std::vector<Tensor> m_acts;
    // Per chunk of samples: the int8 input (patches for Conv2D) and the int32 accumulators.
    std::vector<std::vector<std::int8_t>> m_codes;
    std::vector<std::vector<std::int32_t>> m_acc;
};

} // namespace qs::nn
