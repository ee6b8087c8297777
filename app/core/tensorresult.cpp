#include "tensorresult.h"

namespace qs {

QString TensorResult::formatName() const
{
    return spec ? QString::fromUtf8(spec->format->name.data(),
                                    static_cast<qsizetype>(spec->format->name.size()))
                : QStringLiteral("keep");
}

QString TensorResult::granularityName() const
{
    return spec ? QString::fromStdString(spec->granularity.toString()) : QString();
}

TensorResult computeTensorResult(const Model& model, int index,
                                 const std::optional<QuantSpec>& spec, const Control& control)
{
    const TensorInfo& t = model.tensors[static_cast<std::size_t>(index)];
    TensorResult r;
    r.index = index;
    r.name = t.name;
    r.spec = spec;
    r.channelAxis = t.channelAxis;
    r.params = t.numel();
    r.bytesBefore = t.byteSize;
    r.bytesAfter = t.byteSize;
    if (spec) {
        const StorageCost cost = storageCost(t, *spec);
        r.bytesAfter = cost.bytes;
    }
    r.bitsPerWeight =
        r.params ? static_cast<double>(r.bytesAfter) * 8.0 / static_cast<double>(r.params) : 0.0;
    if (isQuantizable(t.dtype)) {
        // A kept tensor is analysed as its own float32 values: zero error, but the histogram
        // of its weights is still worth seeing.
        QuantSpec s = spec.value_or(QuantSpec{findFormat("fp32"), Granularity{}});
        TensorQuantizer qz(model.data(t), t, s);
        r.analysis = analyzeTensor(qz, control);
    }
    return r;
}

} // namespace qs
