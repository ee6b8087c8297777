// Lesson 3, granularity: int4 with one scale per tensor, per channel, per group of 128/64/32.
#pragma once

#include "learn/lessondata.h"
#include "learn/lessonpage.h"

class QComboBox;
class QCustomPlot;

namespace qs {

struct GranularityPoint
{
    QString granularity; // "tensor", "channel", "group:128", ...
    Measurement measured;
};

std::vector<GranularityPoint> measureGranularities(const FloatTensor& tensor);

class GranularityLesson : public LessonPage
{
    Q_OBJECT
public:
    explicit GranularityLesson(QWidget* parent = nullptr);

    const std::vector<GranularityPoint>& points() const { return m_points; }
    QComboBox* choice() const { return m_choice; }
    QCustomPlot* plot() const { return m_plot; }

private:
    void draw();

    std::vector<GranularityPoint> m_points;
    QComboBox* m_choice;
    QCustomPlot* m_plot;
};

} // namespace qs
