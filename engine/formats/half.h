// IEEE binary16 and bfloat16 conversions, round-to-nearest-even, NaN and Inf preserved.
#pragma once

#include <bit>
#include <cstdint>

namespace qs {

inline std::uint16_t f32ToF16(float f)
{
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    std::uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) // Inf stays Inf; NaN stays a (quiet) NaN with its top payload bits
        return static_cast<std::uint16_t>(sign | 0x7c00u |
                                          (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
    if (ax >= 0x477ff000u) // >= 65520 rounds (ties to even) past 65504
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    if (ax < 0x38800000u) { // below 2^-14: the result is subnormal or zero
        // Adding 0.5 puts the value's bits at the binary16 subnormal spacing (2^-24) in the
        // float mantissa, so the hardware addition performs the round-to-nearest-even.
        const float v = std::bit_cast<float>(ax) + 0.5f;
        return static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(v) - 0x3f000000u));
    }
    const std::uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + odd; // rebias the exponent (127 -> 15) and round to nearest even
    return static_cast<std::uint16_t>(sign | (ax >> 13));
}

inline float f16ToF32(std::uint16_t h)
{
    // Branch-free so that conversion loops vectorise: move exponent and mantissa into place,
    // rebias, then fix up the two special exponents with selects. Subnormals come out of an
    // exact float subtraction (2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24).
    const std::uint32_t em = static_cast<std::uint32_t>(h & 0x7fffu) << 13;
    const std::uint32_t exp = em & 0x0f800000u;
    std::uint32_t bits = em + 0x38000000u;                 // exponent + (127 - 15)
    bits = exp == 0x0f800000u ? bits + 0x38000000u : bits; // Inf/NaN: exponent all ones
    const float sub = std::bit_cast<float>(bits + 0x00800000u) - 0x1p-14f;
    bits = exp == 0 ? std::bit_cast<std::uint32_t>(sub) : bits; // zero and subnormals
    return std::bit_cast<float>(bits | (static_cast<std::uint32_t>(h & 0x8000u) << 16));
}

inline std::uint16_t f32ToBf16(float f)
{
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return static_cast<std::uint16_t>((x >> 16) | 0x40u); // quiet NaN
    return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline float bf16ToF32(std::uint16_t b)
{
    return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

inline float roundToF16(float f)
{
    return f16ToF32(f32ToF16(f));
}
inline float roundToBf16(float f)
{
    return bf16ToF32(f32ToBf16(f));
}

// Largest finite binary16 value; group scales saturate here instead of becoming Inf.
inline constexpr float kF16Max = 65504.0f;

} // namespace qs
