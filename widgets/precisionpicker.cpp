#include "precisionpicker.h"

#include "granularityvalidator.h"
#include "precisionchoices.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

namespace qs {

PrecisionPicker::PrecisionPicker(QWidget* parent, const QString& formatLabelText)
    : QWidget(parent), m_format(new QComboBox(this)), m_granularity(new QComboBox(this)),
      m_calibration(new QComboBox(this))
{
    m_format->setObjectName(QStringLiteral("formatCombo"));
    const QStringList names = choices::formatNames();
    for (int i = 0; i < names.size(); ++i) {
        m_format->addItem(names[i]);
        m_format->setItemData(i, choices::formatDescription(names[i]), Qt::ToolTipRole);
    }
    m_format->setToolTip(
        tr("Number format for every floating-point tensor with two or more dimensions"));

    m_granularity->setObjectName(QStringLiteral("granularityCombo"));
    m_granularity->addItems(choices::granularityPresets());
    m_granularity->setEditable(true);
    m_granularity->setInsertPolicy(QComboBox::NoInsert);
    m_granularity->setValidator(new GranularityValidator(m_granularity));
    m_granularity->setToolTip(
        tr("Values sharing one scale: tensor, channel or group:N (type any N)"));
    m_granularity->setMinimumContentsLength(9);

    m_calibration->setObjectName(QStringLiteral("calibrationCombo"));
    m_calibration->setEditable(true); // percentile:P takes any P
    m_calibration->setInsertPolicy(QComboBox::NoInsert);
    m_calibration->setMinimumContentsLength(12);
    m_calibration->setToolTip(tr("How each scale group's range is chosen (integer formats): "
                                 "min-max, a percentile, the MSE-optimal clip or HQQ"));

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* formatLabel = new QLabel(
        formatLabelText.isEmpty() ? tr("Default &format:") : formatLabelText, this);
    formatLabel->setBuddy(m_format);
    auto* granularityLabel = new QLabel(tr("&Granularity:"), this);
    granularityLabel->setBuddy(m_granularity);
    layout->addWidget(formatLabel);
    layout->addWidget(m_format);
    layout->addSpacing(8);
    layout->addWidget(granularityLabel);
    layout->addWidget(m_granularity);
    layout->addSpacing(8);
    auto* calibrationLabel = new QLabel(tr("&Calibration:"), this);
    calibrationLabel->setBuddy(m_calibration);
    layout->addWidget(calibrationLabel);
    layout->addWidget(m_calibration);

    connect(m_format, &QComboBox::activated, this, &PrecisionPicker::choose);
    connect(m_granularity, &QComboBox::activated, this, &PrecisionPicker::choose);
    connect(m_calibration, &QComboBox::activated, this, &PrecisionPicker::choose);
    connect(m_calibration->lineEdit(), &QLineEdit::editingFinished, this, [this] {
        if (m_calibration->isEnabled()) choose();
    });
    // A typed group size ("group:96") is chosen when editing ends, as no list entry is activated.
    connect(m_granularity->lineEdit(), &QLineEdit::editingFinished, this, [this] {
        if (m_granularity->currentText() != m_lastGranularity) choose();
    });
    setPrecision(std::nullopt);
}

void PrecisionPicker::setPrecision(const std::optional<Precision>& precision)
{
    const QSignalBlocker formatBlocker(m_format);
    const QSignalBlocker granularityBlocker(m_granularity);
    const QSignalBlocker calibrationBlocker(m_calibration);
    m_format->setCurrentText(precision ? QString::fromStdString(precision->format)
                                       : choices::keepName());
    if (precision && precision->granularity)
        m_granularity->setEditText(choices::granularityName(*precision->granularity));
    m_lastGranularity = m_granularity->currentText();
    fillCalibrations(precision && precision->calibration
                         ? choices::calibrationName(*precision->calibration)
                         : QString());
    updateEnabled();
}

Precision PrecisionPicker::precision() const
{
    Precision p;
    p.format = m_format->currentText().toStdString();
    if (choices::hasGranularity(m_format->currentText()))
        p.granularity = choices::parseGranularity(m_granularity->currentText());
    if (choices::hasCalibration(m_format->currentText()))
        p.calibration =
            choices::parseCalibration(m_calibration->currentText(), m_format->currentText());
    return p;
}

void PrecisionPicker::fillCalibrations(const QString& current)
{
    const QString format = m_format->currentText();
    const QString keep = current.isEmpty() ? m_calibration->currentText() : current;
    const QSignalBlocker blocker(m_calibration);
    m_calibration->clear();
    m_calibration->addItems(choices::calibrationChoices(format));
    // The previous choice stays when the new format allows it (hqq only suits affine ones).
    if (choices::parseCalibration(keep, format))
        m_calibration->setEditText(keep);
    else if (m_calibration->count() > 0)
        m_calibration->setCurrentIndex(0);
}

void PrecisionPicker::updateEnabled()
{
    m_granularity->setEnabled(choices::hasGranularity(m_format->currentText()));
    m_calibration->setEnabled(choices::hasCalibration(m_format->currentText()));
}

void PrecisionPicker::choose()
{
    if (sender() == m_format) fillCalibrations({});
    updateEnabled();
    if (m_calibration->isEnabled() &&
        !choices::parseCalibration(m_calibration->currentText(), m_format->currentText())) {
        fillCalibrations(QStringLiteral("minmax")); // back to a valid choice
        return;
    }
    const QString g = m_granularity->currentText();
    if (choices::hasGranularity(m_format->currentText()) && !choices::parseGranularity(g)) {
        m_granularity->setEditText(m_lastGranularity); // back to the last valid choice
        return;
    }
    m_lastGranularity = g;
    emit precisionChosen(precision());
}

} // namespace qs
