#include "resultplot.h"

#include "histogramstyle.h"

#include <QCheckBox>
#include <QHBoxLayout>

#include <qcustomplot.h>

namespace qs {

ResultPlot::ResultPlot(const QString& suffix, const QString& logTip, QWidget* parent)
    : PlotWidget(parent), m_log(new QCheckBox(tr("Log scale"), this)), m_suffix(suffix)
{
    m_log->setObjectName(QStringLiteral("logScale"));
    m_log->setToolTip(logTip);
    controlsLayout()->addWidget(m_log);
    connect(m_log, &QCheckBox::toggled, this, [this] { rebuild(); });
}

void ResultPlot::setResult(const TensorResultPtr& result, const QString& pendingName)
{
    m_result = result;
    rebuild();
    if (!result && !pendingName.isEmpty()) {
        setTitle(QString());
        showMessage(tr("Quantizing %1\u2026").arg(pendingName));
    }
}

void ResultPlot::setLogScale(bool on)
{
    m_log->setChecked(on);
}

bool ResultPlot::logScale() const
{
    return m_log->isChecked();
}

QString ResultPlot::exportName() const
{
    return m_result ? QString::fromStdString(m_result->name) + QLatin1Char('-') + m_suffix
                    : m_suffix;
}

void ResultPlot::resetView()
{
    plot()->xAxis->setRange(m_xLow, m_xHigh);
    histogramstyle::applyCountAxis(plot()->yAxis, logScale(), m_yMax);
}

void ResultPlot::setViewRange(double xLow, double xHigh, double yMax)
{
    m_xLow = xLow;
    m_xHigh = xHigh;
    m_yMax = yMax;
}

} // namespace qs
