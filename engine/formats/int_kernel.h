// The element kernel of the integer formats, shared by every fast path so that they cannot
// drift apart. Semantics: q = clamp(nearbyint(x * inv), lo, hi), NaN -> 0.
#pragma once

namespace qs::kernel {

// Rounds to nearest even for |y| <= 2^22: adding 1.5 * 2^23 leaves no fraction bits, so the
// FPU's own rounding (to nearest even) does the work, and loops stay vectorisable.
inline constexpr float kMagic = 12582912.0f;

inline float roundMagic(float y)
{
    return (y + kMagic) - kMagic;
}

inline float clampCode(float y, float lo, float hi)
{
    y = (y == y) ? y : 0.0f; // NaN quantizes to 0 (the zero point for affine formats)
    y = y < lo ? lo : y;
    return y > hi ? hi : y;
}

} // namespace qs::kernel
