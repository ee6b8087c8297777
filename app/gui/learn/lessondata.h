// What the lessons measure: the example model, a tensor's values, and engine metrics on them.
#pragma once

#include "analysis/tensor_quantizer.h"
#include "io/model.h"

#include <QString>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace qs {

// The bundled example model, opened once (throws qs::Error when it cannot be found or read).
std::shared_ptr<const Model> lessonModel();
// The Fashion-MNIST classifier next to the example model; empty when it is not there.
QString lessonClassifierPath();

// A tensor's values copied to float32 in memory order, with a matching F32 description, so a
// lesson can change values (inject an outlier) and still quantize through the engine.
struct FloatTensor
{
    TensorInfo info;
    std::vector<float> values;
    std::span<const std::byte> bytes() const { return std::as_bytes(std::span(values)); }
};

FloatTensor loadTensor(const Model& model, const std::string& name);

struct Measurement
{
    double sqnrDb = 0;        // +inf when the round trip is exact
    double bitsPerWeight = 0; // codes plus scales and zero points, from the storage rules
    std::int64_t scaleGroups = 0;
};

// Quantizes the tensor with the spec exactly as the analysis does.
Measurement measure(const FloatTensor& tensor, const QuantSpec& spec);
QuantSpec makeSpec(const char* format, const char* granularity, const char* calibration = "minmax");

// "31.4 dB", or "exact" for an infinite SQNR.
QString formatDb(double db);

} // namespace qs
