// A tensor's weight histogram before and after quantization, with the clipping range.
#pragma once

#include "plotwidget.h"
#include "tensorresult.h"

class QCheckBox;

namespace qs {

class HistogramPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit HistogramPlot(QWidget* parent = nullptr);

    // A null result shows the empty state, or that pendingName is still being computed.
    void setResult(const TensorResultPtr& result, const QString& pendingName = {});
    TensorResultPtr result() const { return m_result; }
    void setLogScale(bool on);
    bool logScale() const;
    QCheckBox* logScaleBox() const { return m_log; }

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void rebuild();

    TensorResultPtr m_result;
    QCheckBox* m_log;
    double m_xLow = 0, m_xHigh = 1, m_yMax = 1;
};

} // namespace qs
