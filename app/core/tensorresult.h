// One tensor's quantization outcome: an immutable value shared between threads and views.
#pragma once

#include "analysis/analyze.h"
#include "formats/storage.h"
#include "io/model.h"
#include "plan/plan.h"

#include <QMetaType>
#include <QString>

#include <memory>
#include <optional>

namespace qs {

struct TensorResult
{
    int index = -1; // position in Model::tensors
    std::string name;
    std::optional<QuantSpec> spec; // nullopt: kept at its stored precision
    int channelAxis = 0;
    std::int64_t params = 0;
    std::uint64_t bytesBefore = 0;
    std::uint64_t bytesAfter = 0;
    double bitsPerWeight = 0.0;
    std::optional<TensorAnalysis> analysis; // only for float tensors
    quint64 revision = 0; // the document's revision of this tensor when the job started
    std::string error;    // why this tensor could not be quantized (then no analysis)

    QString formatName() const;      // "int8" or "keep"
    QString granularityName() const; // "channel", "" when kept
};

using TensorResultPtr = std::shared_ptr<const TensorResult>;

// The storage cost and metrics of one tensor under a spec (or kept). Pure engine work.
TensorResult computeTensorResult(const Model& model, int index,
                                 const std::optional<QuantSpec>& spec, const Control& control);

} // namespace qs

Q_DECLARE_METATYPE(qs::TensorResultPtr)
