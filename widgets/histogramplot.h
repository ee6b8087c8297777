// A tensor's weight histogram before and after quantization, with the clipping range.
#pragma once

#include "resultplot.h"

namespace qs {

class HistogramPlot : public ResultPlot
{
    Q_OBJECT
public:
    explicit HistogramPlot(QWidget* parent = nullptr);

protected:
    void rebuild() override;
};

} // namespace qs
