// What views say of a result beyond its numbers: the distance to an ideal quantizer, NaN/Inf.
#pragma once

#include "tensorresult.h"

#include <QString>

#include <optional>

namespace qs::notes {

// The bit width a result is measured against: its integer format's bits. Other formats have no
// ideal reference (their grids are not uniform, or carry block scales of their own).
std::optional<int> idealBits(const TensorResult& r);
// The SQNR of the best uniform (Max, 1960) and the Lloyd-Max quantizer with `bits` bits on a
// Gaussian, in dB.
double idealUniformDb(int bits);
double idealLloydMaxDb(int bits);
// The measured SQNR minus the ideal uniform one; nullopt without an integer format or a finite
// measured SQNR.
std::optional<double> vsIdealDb(const TensorResult& r);
// "ideal for a Gaussian at 4 bits: uniform 19.38 dB, Lloyd-Max 20.22 dB; this layer is 1.9 dB
// below"; empty when there is no reference.
QString idealComparison(const TensorResult& r);

// "3 NaN and 1 infinite values: left out of the metrics"; empty when every weight is finite.
QString nonFiniteWarning(const TensorResult& r);
bool hasNonFinite(const TensorResult& r);

} // namespace qs::notes
