// The distribution of a tensor's quantization error (dequantized minus original).
#pragma once

#include "resultplot.h"

namespace qs {

class ErrorHistogramPlot : public ResultPlot
{
    Q_OBJECT
public:
    explicit ErrorHistogramPlot(QWidget* parent = nullptr);

protected:
    void rebuild() override;
};

} // namespace qs
