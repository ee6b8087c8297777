// A format and a granularity chooser side by side, e.g. for the plan's default precision.
#pragma once

#include "plan/plan.h"

#include <QWidget>

#include <optional>

class QComboBox;

namespace qs {

class PrecisionPicker : public QWidget
{
    Q_OBJECT
public:
    explicit PrecisionPicker(QWidget* parent = nullptr);

    // Shows a precision without emitting precisionChosen (nullopt shows "keep").
    void setPrecision(const std::optional<Precision>& precision);
    Precision precision() const;
    QComboBox* formatCombo() const { return m_format; }
    QComboBox* granularityCombo() const { return m_granularity; }

signals:
    // Only for choices a person makes, so that showing the document's state never loops back.
    void precisionChosen(const qs::Precision& precision);

private:
    void updateGranularityEnabled();
    void choose();

    QComboBox* m_format;
    QComboBox* m_granularity;
    QString m_lastGranularity;
};

} // namespace qs
