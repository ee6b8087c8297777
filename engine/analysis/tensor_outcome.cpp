#include "analysis/tensor_outcome.h"

namespace qs {

TensorOutcome computeTensorOutcome(const Model& model, int index,
                                   const std::optional<QuantSpec>& spec, const Control& control,
                                   bool analyseKept)
{
    const TensorInfo& t = model.tensors.at(static_cast<std::size_t>(index));
    TensorOutcome r;
    r.name = t.name;
    r.storedType = t.storedType;
    r.spec = spec;
    r.quantizable = isQuantizable(t.dtype);
    r.channelAxis = t.channelAxis;
    r.params = t.numel();
    r.bytesBefore = t.byteSize;
    r.bytesAfter = t.byteSize;
    if (spec) r.bytesAfter = storageCost(t, *spec).bytes;
    r.bitsPerWeight =
        r.params ? static_cast<double>(r.bytesAfter) * 8.0 / static_cast<double>(r.params) : 0.0;
    if (r.quantizable && (spec || analyseKept)) {
        const QuantSpec s = spec.value_or(QuantSpec{findFormat("fp32"), Granularity{}});
        TensorQuantizer qz(model.data(t), t, s);
        r.analysis = analyzeTensor(qz, control);
        model.checkIntact(); // a result computed from zero pages is not a result
    }
    return r;
}

std::string formatName(const TensorOutcome& o)
{
    return o.spec ? std::string(o.spec->format->name) : std::string("keep");
}

std::string granularityName(const TensorOutcome& o)
{
    return o.spec ? o.spec->granularity.toString() : std::string();
}

} // namespace qs
