// Format, granularity and calibration choosers side by side: the plan's default precision,
// or the precision applied to the selected layers.
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
    // `formatLabel` names the format chooser ("Default &format:", "Set &selection to:").
    explicit PrecisionPicker(QWidget* parent = nullptr, const QString& formatLabel = {});

    // Shows a precision without emitting precisionChosen (nullopt shows "keep").
    void setPrecision(const std::optional<Precision>& precision);
    Precision precision() const;
    QComboBox* formatCombo() const { return m_format; }
    QComboBox* granularityCombo() const { return m_granularity; }
    QComboBox* calibrationCombo() const { return m_calibration; }

signals:
    // Only for choices a person makes, so that showing the document's state never loops back.
    void precisionChosen(const qs::Precision& precision);

private:
    void updateEnabled();
    void fillCalibrations(const QString& current);
    void choose();

    QComboBox* m_format;
    QComboBox* m_granularity;
    QComboBox* m_calibration;
    QString m_lastGranularity;
};

} // namespace qs
