// Base of the per-tensor histogram plots: the shown result, a log-scale switch and the view
// range that a double-click restores.
#pragma once

#include "plotwidget.h"
#include "tensorresult.h"

class QCheckBox;

namespace qs {

class ResultPlot : public PlotWidget
{
    Q_OBJECT
public:
    // A null result shows the empty state, or that pendingName is still being computed.
    void setResult(const TensorResultPtr& result, const QString& pendingName = {});
    TensorResultPtr result() const { return m_result; }
    void setLogScale(bool on);
    bool logScale() const;
    QCheckBox* logScaleBox() const { return m_log; }

protected:
    // `suffix` names exported files ("<tensor>-<suffix>.png"); `logTip` explains the switch.
    ResultPlot(const QString& suffix, const QString& logTip, QWidget* parent);
    QString exportName() const override;
    void resetView() override;
    // Redraws from result(); sets the ranges below and calls resetView() and showPlot().
    virtual void rebuild() = 0;
    void setViewRange(double xLow, double xHigh, double yMax);

private:
    TensorResultPtr m_result;
    QCheckBox* m_log;
    QString m_suffix;
    double m_xLow = -1, m_xHigh = 1, m_yMax = 1;
};

} // namespace qs
