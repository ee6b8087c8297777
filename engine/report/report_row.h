// One tensor's line in every report (quantize --json, CSV, HTML), built from its outcome.
#pragma once

#include "analysis/tensor_outcome.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace qs {

// The values are what `quantize --json` prints; nullopt is "not applicable" (JSON null, an empty
// CSV cell): metrics of a kept tensor, sqnr when the error is zero, any non-finite number.
struct ReportRow
{
    std::string name, dtype, format;
    std::optional<std::string> granularity, calibration, rounding;
    int channelAxis = 0;
    std::int64_t params = 0;
    std::uint64_t bytesBefore = 0, bytesAfter = 0;
    double bitsPerWeight = 0.0;
    std::optional<double> mse, rmse, sqnrDb, maxAbsError, cosine, rmseOverScale;
    std::optional<std::int64_t> nanCount, infCount, calibratedGroups, scaleGroups;
    // What an ideal quantizer with as many bits reaches on a Gaussian (integer formats).
    std::optional<double> idealUniformDb, idealLloydMaxDb;
    bool hasIdeal = false;
    std::string error;
};

ReportRow reportRow(const TensorOutcome& outcome);

// The row as `quantize --json` prints it, keys in its order.
nlohmann::ordered_json toJson(const ReportRow& row);

// Totals over the rows of one plan.
struct ReportTotals
{
    std::int64_t params = 0;
    std::uint64_t bytesBefore = 0, bytesAfter = 0;
    // Every float tensor stored as fp32 / fp16, other tensors as stored: the usual yardsticks.
    std::uint64_t bytesFp32 = 0, bytesFp16 = 0;
    double signal = 0, noise = 0; // Σw² and Σ(w − ŵ)² over the quantized tensors
    double bitsPerWeight() const;
    double compression() const;           // before / after, 0 when nothing is stored
    std::optional<double> sqnrDb() const; // 10·log10(Σsignal / Σnoise); null when noise is 0
};

ReportTotals reportTotals(std::span<const TensorOutcome> outcomes);

} // namespace qs
