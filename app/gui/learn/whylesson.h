// Lesson 1, why quantize: the example model's size per precision and a cited energy estimate.
#pragma once

#include "io/model.h"
#include "learn/lessonpage.h"

#include <vector>

class QCustomPlot;

namespace qs {

struct WhyNumbers
{
    struct Row
    {
        QString format;
        double bytes = 0;     // whole model: matrices in the format, 1-D tensors as stored
        double dramPj = 0;    // the weight bytes one token reads (one embedding row), from DRAM
        double sramPj = 0;    // the same reads from on-chip SRAM
        double computePj = 0; // the multiply-accumulates of one token
    };
    std::int64_t macsPerToken = 0;
    std::vector<Row> rows; // fp32, fp16, int8, int4
};

// Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm figures (picojoules).
namespace horowitz {
inline constexpr double kInt8Add = 0.03, kInt8Mul = 0.2;
inline constexpr double kFp32Add = 0.9, kFp32Mul = 3.7;
inline constexpr double kSram32 = 5.0, kDram32 = 640.0; // one 32-bit read
} // namespace horowitz

WhyNumbers computeWhyNumbers(const Model& model);

class WhyLesson : public LessonPage
{
    Q_OBJECT
public:
    explicit WhyLesson(QWidget* parent = nullptr);
    const WhyNumbers& numbers() const { return m_numbers; }
    QCustomPlot* sizePlot() const { return m_sizePlot; }
    QCustomPlot* energyPlot() const { return m_energyPlot; }

private:
    WhyNumbers m_numbers;
    QCustomPlot* m_sizePlot;
    QCustomPlot* m_energyPlot;
};

} // namespace qs
