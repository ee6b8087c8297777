#include "tensorresult.h"

namespace qs {

QString TensorResult::formatName() const
{
    return QString::fromStdString(qs::formatName(*this));
}

QString TensorResult::granularityName() const
{
    return QString::fromStdString(qs::granularityName(*this));
}

TensorResult computeTensorResult(const Model& model, int index,
                                 const std::optional<QuantSpec>& spec, const Control& control)
{
    TensorResult r(computeTensorOutcome(model, index, spec, control));
    r.index = index;
    return r;
}

} // namespace qs
