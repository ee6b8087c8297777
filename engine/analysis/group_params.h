// One scale group's parameters from the range of its finite values, per format family.
#pragma once

#include "analysis/tensor_quantizer.h"

namespace qs {

// Integers: min-max rules (symmetricParams / affineParams, fp16 scales for group:G); fp8:
// s = amax / max (fp32); nf4: the absmax (inv = 1.0f / absmax, as bitsandbytes); mxfp4: the E8M0
// power of two X = 2^(floor(log2(amax)) - 2), clamped to [2^-127, 2^127].
ScaleParams rangeParams(const QuantSpec& spec, float minValue, float maxValue);

// mxfp4's stored scale byte for a group whose scale is X (a power of two): log2(X) + 127.
std::uint8_t mxScaleByte(const ScaleParams& p);

} // namespace qs
