// A tensor in its stored quantized form (packed codes, scales, zero points), and back.
#pragma once

#include "analysis/tensor_quantizer.h"
#include "formats/code_bytes.h"

#include <cstdint>
#include <vector>

namespace qs {

struct EncodedTensor
{
    const Format* format = nullptr;
    std::int64_t numel = 0;
    // Bit-packed in logical order (channel by channel; see TensorSource), low bits first, signed
    // codes in two's complement; fp8: one byte per value; ggml block formats: the blocks as ggml
    // stores them, in memory order.
    CodeBytes codes;
    std::vector<float> scales;            // per group: integers per tensor / channel, fp8, nf4
    std::vector<std::uint16_t> scales16;  // per group: integers with group:G (fp16 bits)
    std::vector<std::uint8_t> scalesE8M0; // per group: mxfp4 (2^(b - 127))
    std::vector<std::uint8_t> zeroPoints; // per group: affine integers
    std::vector<std::uint16_t> zeros16;   // per group: affine integers calibrated by hqq (fp16)
};

// Computes the scales (pass 1) and the packed codes. Floating formats store their own bits.
EncodedTensor encodeTensor(TensorQuantizer& quantizer, const Control& control);
// Rebuilds float32 values in logical order from the stored form alone.
void decodeTensor(const EncodedTensor& enc, const TensorQuantizer& layout, float* out,
                  const Control& control);

} // namespace qs
