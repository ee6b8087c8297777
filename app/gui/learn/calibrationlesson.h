// Lesson 4, outliers and clipping: four ways to choose the range, optionally with an outlier.
#pragma once

#include "learn/lessondata.h"
#include "learn/lessonpage.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;

namespace qs {

struct CalibrationPoint
{
    QString method; // as the engine parses it: "minmax", "percentile:99.9", "mse", "hqq"
    double sqnrDb = 0;
};

// uint4 with one scale for the whole tensor, where one far value hurts the most.
std::vector<CalibrationPoint> measureCalibrations(const FloatTensor& tensor);
// A copy with one value set to `factor` times the largest magnitude.
FloatTensor withOutlier(const FloatTensor& tensor, float factor);

class CalibrationLesson : public LessonPage
{
    Q_OBJECT
public:
    explicit CalibrationLesson(QWidget* parent = nullptr);

    QCheckBox* outlierBox() const { return m_outlier; }
    QComboBox* methodChoice() const { return m_method; }
    const std::vector<CalibrationPoint>& points() const { return m_points; }
    QCustomPlot* plot() const { return m_plot; }

private:
    void update();

    FloatTensor m_tensor;
    std::vector<CalibrationPoint> m_points;
    QCheckBox* m_outlier;
    QComboBox* m_method;
    QCustomPlot* m_plot;
};

} // namespace qs
