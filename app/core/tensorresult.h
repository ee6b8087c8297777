// One tensor's quantization outcome: an immutable value shared between threads and views.
#pragma once

#include "analysis/tensor_outcome.h"
#include "formats/storage.h"
#include "io/model.h"
#include "plan/plan.h"

#include <QMetaType>
#include <QString>

#include <memory>
#include <optional>

namespace qs {

// The engine's TensorOutcome plus what the document needs to place it.
struct TensorResult : TensorOutcome
{
    TensorResult() = default;
    explicit TensorResult(TensorOutcome o) : TensorOutcome(std::move(o)) {}

    int index = -1;       // position in Model::tensors
    quint64 revision = 0; // the document's revision of this tensor when the job started

    QString formatName() const;      // "int8" or "keep"
    QString granularityName() const; // "channel", "" when kept
};

using TensorResultPtr = std::shared_ptr<const TensorResult>;

// computeTensorOutcome with the tensor's index filled in.
TensorResult computeTensorResult(const Model& model, int index,
                                 const std::optional<QuantSpec>& spec, const Control& control);

} // namespace qs

Q_DECLARE_METATYPE(qs::TensorResultPtr)
