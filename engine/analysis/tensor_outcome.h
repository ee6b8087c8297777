// One tensor's quantization outcome as a plain value: spec, storage cost, analysis or error.
#pragma once

#include "analysis/analyze.h"
#include "analysis/tensor_quantizer.h"
#include "io/model.h"

#include <cstdint>
#include <optional>
#include <string>

namespace qs {

struct TensorOutcome
{
    std::string name;
    std::string storedType;        // the type as the model file names it ("F16", "q4_K")
    std::optional<QuantSpec> spec; // nullopt: kept at its stored precision
    bool quantizable = false;      // float values QuantScope can quantize and analyse
    int channelAxis = 0;
    std::int64_t params = 0;
    std::uint64_t bytesBefore = 0;
    std::uint64_t bytesAfter = 0;
    double bitsPerWeight = 0.0;
    std::optional<TensorAnalysis> analysis; // only for float tensors
    std::string error; // why this tensor could not be quantized (then no analysis)
};

// The storage cost and metrics of tensor `index` of `model` under `spec` (nullopt: kept).
// A kept float tensor is analysed as its own float32 values (zero error, but its histogram)
// unless `analyseKept` is false, which saves a pass when nobody looks at kept tensors.
// Throws qs::Error when the spec cannot apply to the tensor, qs::Cancelled on cancellation.
TensorOutcome computeTensorOutcome(const Model& model, int index,
                                   const std::optional<QuantSpec>& spec, const Control& control,
                                   bool analyseKept = true);

// The outcome's format name ("int8", or "keep" without a spec) and granularity ("" when kept).
std::string formatName(const TensorOutcome& o);
std::string granularityName(const TensorOutcome& o);

} // namespace qs
