// A small seeded safetensors model for the widget tests: float matrices, a bias, an I64 tensor.
#pragma once

#include <QString>

namespace qs::test {

// Writes the model into dir and returns its path. Tensors, in file order:
//   embed.weight [64, 40] F32, layers.0.weight [16, 32] F32, layers.0.bias [16] F32,
//   layers.1.weight [8, 16] F32, position_ids [1, 12] I64.
QString writeSmallModel(const QString& dir,
                        const QString& fileName = QStringLiteral("small.safetensors"));

// Four [8, 16] F32 matrices of seeded Gaussian values, some with non-finite weights:
//   clean.weight (none), mixed.weight (3 NaN, 1 +Inf), nan.weight (1 NaN),
//   inf.weight (1 +Inf, 1 -Inf).
QString writeNonFiniteModel(const QString& dir,
                            const QString& fileName = QStringLiteral("nonfinite.safetensors"));

// A file with a plausible name and garbage content, for the error paths.
QString writeGarbage(const QString& dir,
                     const QString& fileName = QStringLiteral("broken.safetensors"));

} // namespace qs::test
