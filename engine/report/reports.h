// Report files of one plan's results: CSV, HTML, llama.cpp tensor types, ONNX Runtime overrides.
#pragma once

#include "analysis/tensor_outcome.h"

#include <span>
#include <string>
#include <vector>

namespace qs {

// One row per tensor under the header
// name,format,granularity,channel_axis,params,bytes_before,bytes_after,bits_per_weight,mse,rmse,
// sqnr_db,max_abs_error,cosine (RFC 4180: CRLF line ends, fields with a comma, quote or line
// break quoted). Not-applicable values are empty cells; numbers are the shortest text that reads
// back to the same double.
std::string csvReport(std::span<const TensorOutcome> outcomes);

struct SkippedTensor
{
    std::string name, reason;
};

// A file for another tool, the tensors it cannot express, and remarks for the user.
struct ToolFile
{
    std::string text;
    std::vector<SkippedTensor> skipped;
    std::vector<std::string> notes;
};

// For llama-quantize --tensor-type-file: one `PATTERN=type` per quantized tensor. llama-quantize
// reads the file as whitespace-separated tokens with no comment syntax, lower-cases the pattern
// and uses it as an unanchored regex search; so each pattern is the tensor name anchored (^...$)
// with every character other than [a-z0-9_] escaped, and everything else (skipped tensors, the
// renaming caveat for non-GGUF sources) is returned in `skipped` and `notes`, not written.
ToolFile llamaTensorTypes(std::span<const TensorOutcome> outcomes, const std::string& modelFormat);

// ONNX Runtime's TensorQuantOverrides (extra_options of quantize_static / get_qdq_config) as JSON:
// tensor name -> [{"quant_type", "symmetric", "reduce_range"[, "axis"]}], quant_type spelt as
// the QuantType member ("QInt8", ...) for QuantType.from_string. int8/uint8/int4/uint4 per tensor
// or per channel only; everything else is skipped.
ToolFile ortTensorQuantOverrides(std::span<const TensorOutcome> outcomes);

struct ReportInput
{
    std::string modelPath, modelFormat, planName, planJson, appVersion;
    std::vector<TensorOutcome> outcomes; // model order
};

// A self-contained HTML page: no scripts, no external files; plots are inline SVG.
std::string htmlReport(const ReportInput& input);

// Writes `text` to `path` atomically (path.part renamed into place). Throws qs::Error naming path.
void writeReportFile(const std::string& path, const std::string& text);

} // namespace qs
