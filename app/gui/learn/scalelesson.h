// Lesson 2, scale and zero point: bits and clipping over one tensor's histogram, live.
#pragma once

#include "formats/int_quant.h"
#include "learn/lessondata.h"
#include "learn/lessonpage.h"

class QCustomPlot;
class QLabel;
class QSlider;

namespace qs {

// One unsigned (affine) grid over a clipped range and what it does to the tensor.
struct GridResult
{
    int bits = 0, qmax = 0;
    float lo = 0, hi = 0;     // the clipped range the grid is fitted to
    ScaleParams params;       // scale and zero point, as the engine computes them
    double sqnrDb = 0;        // of the whole tensor through that grid
    std::int64_t clipped = 0; // values outside [lo, hi]
};

// PyTorch's MinMax observer over [clip * min, clip * max] with 2^bits - 1 as the largest code.
GridResult fitGrid(const FloatTensor& tensor, int bits, double clip);

class ScaleLesson : public LessonPage
{
    Q_OBJECT
public:
    explicit ScaleLesson(QWidget* parent = nullptr);

    QSlider* bitsSlider() const { return m_bits; }
    QSlider* clipSlider() const { return m_clip; } // percent of the largest magnitude
    const GridResult& result() const { return m_result; }
    QCustomPlot* plot() const { return m_plot; }

private:
    void update();

    FloatTensor m_tensor;
    GridResult m_result;
    QSlider* m_bits;
    QSlider* m_clip;
    QLabel* m_readout;
    QCustomPlot* m_plot;
};

} // namespace qs
