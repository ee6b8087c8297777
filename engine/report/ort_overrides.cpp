// ONNX Runtime's TensorQuantOverrides for the tensors it can express.
#include "report/reports.h"

#include <nlohmann/json.hpp>

namespace qs {
namespace {

// QuantType member names of onnxruntime.quantization for the formats it shares with QuantScope:
// symmetric intN is QIntN with symmetric=true (ORT's symmetric range is ±(2^(N-1) − 1), as
// QuantScope's), affine uintN is QUIntN with a zero point.
const char* quantType(const Format& f)
{
    if (f.kind == FormatKind::IntSymmetric && f.bits == 8) return "QInt8";
    if (f.kind == FormatKind::IntSymmetric && f.bits == 4) return "QInt4";
    if (f.kind == FormatKind::IntAffine && f.bits == 8) return "QUInt8";
    if (f.kind == FormatKind::IntAffine && f.bits == 4) return "QUInt4";
    return nullptr;
}

} // namespace

ToolFile ortTensorQuantOverrides(std::span<const TensorOutcome> outcomes)
{
    ToolFile out;
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    bool calibrated = false, stochastic = false;
    for (const auto& o : outcomes) {
        if (!o.spec) continue;
        const QuantSpec& s = *o.spec;
        const char* type = quantType(*s.format);
        if (!type) {
            out.skipped.push_back(
                {o.name, "ONNX Runtime has no quant_type for " + std::string(s.format->name)});
            continue;
        }
        if (s.granularity.kind == Granularity::Kind::Group) {
            out.skipped.push_back({o.name, "TensorQuantOverrides has no block size (" +
                                               s.granularity.toString() + ")"});
            continue;
        }
        nlohmann::ordered_json d = {{"quant_type", type},
                                    {"symmetric", s.format->kind == FormatKind::IntSymmetric},
                                    {"reduce_range", false}};
        // ORT wants an axis for per-channel weights; a tensor that is one channel is per-tensor.
        if (s.granularity.kind == Granularity::Kind::Channel && o.channelAxis >= 0)
            d["axis"] = o.channelAxis;
        j[o.name] = nlohmann::ordered_json::array({d});
        calibrated |= s.calibration.method != Calibration::Method::MinMax;
        stochastic |= s.rounding == Rounding::Stochastic;
    }
    if (calibrated)
        out.notes.push_back("ONNX Runtime computes min-max scales for weights: the plan's "
                            "calibration (percentile, mse, hqq) is not carried over");
    if (stochastic)
        out.notes.push_back(
            "ONNX Runtime rounds to nearest: stochastic rounding is not carried over");
    out.text = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    return out;
}

} // namespace qs
