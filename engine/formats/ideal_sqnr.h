// Reference SQNRs of ideal scalar quantizers of a unit Gaussian, computed numerically.
#pragma once

namespace qs {

enum class IdealQuantizer {
    // 2^bits levels (k - 1/2) * step, k = -2^(bits-1) + 1 .. 2^(bits-1), no level at 0
    // ("mid-rise"), step chosen to minimise the mean squared error: Max's (1960) optimum
    // uniform quantizer.
    Uniform,
    // 2^bits levels and thresholds satisfying the Lloyd-Max conditions (each threshold midway
    // between its levels, each level the centroid of its cell): the minimum-MSE scalar
    // quantizer with that many levels.
    LloydMax,
    // 2^bits - 1 levels k * step, k = -(2^(bits-1) - 1) .. 2^(bits-1) - 1 ("mid-tread"), step
    // optimised: the grid of the symmetric intN formats (restricted range, codes +-qmax) at the
    // best possible scale.
    UniformMidTread,
};

// 10 * log10(1 / MSE) in dB for x ~ N(0, 1) quantized by `kind` with `bits` (1..12; 2..12 for
// UniformMidTread, which has a single level at 1 bit); NaN outside that range. Computed once
// per (bits, kind) and cached; safe to call from several threads.
double idealSqnrDb(int bits, IdealQuantizer kind);

// The same without the cache, also returning the optimised step (Uniform, UniformMidTread) or
// the outermost level (LloydMax) in `param` when it is not null; for tests and tools.
double computeIdealSqnrDb(int bits, IdealQuantizer kind, double* param = nullptr);

} // namespace qs
