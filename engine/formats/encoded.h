// A tensor in its stored quantized form (packed codes, scales, zero points), and back.
#pragma once

#include "analysis/tensor_quantizer.h"

#include <cstdint>
#include <vector>

namespace qs {

struct EncodedTensor
{
    const Format* format = nullptr;
    std::int64_t numel = 0;
    std::vector<std::uint8_t> codes;     // bit-packed in logical order, low bits first; ggml
                                         // block formats: the blocks as ggml stores them
    std::vector<float> scales;           // per tensor / per channel (fp32)
    std::vector<std::uint16_t> scales16; // per group (fp16 bits)
    std::vector<std::uint8_t> zeroPoints;
};

// Computes the scales (pass 1) and the packed codes. Floating formats store their own bits.
EncodedTensor encodeTensor(TensorQuantizer& quantizer, const Control& control);
// Rebuilds float32 values in logical order from the stored form alone.
void decodeTensor(const EncodedTensor& enc, const TensorQuantizer& layout, float* out,
                  const Control& control);

} // namespace qs
