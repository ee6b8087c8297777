// Lesson 7, mixed precision: the example model's allocation frontier over int2..int8 per
// channel, with the uniform int4 and int8 plans marked.
#pragma once

#include "learn/lessonpage.h"

#include <QFutureWatcher>

class QCustomPlot;
class QProgressBar;

namespace qs {

struct FrontierData
{
    struct Point
    {
        QString label; // empty for frontier vertices
        double bytes = 0, distortion = 0;
    };
    QString error;
    std::vector<Point> frontier; // convex frontier vertices, bytes increasing
    std::vector<Point> uniform;  // the same format on every tensor: int2 ... int8
};

// The candidate table of the example model (squared error per tensor and format), its frontier
// and the uniform plans' points (throws qs::Error).
FrontierData computeFrontier();

class FrontierLesson : public LessonPage
{
    Q_OBJECT
public:
    explicit FrontierLesson(QWidget* parent = nullptr);
    ~FrontierLesson() override;

    bool isRunning() const { return m_watcher.isRunning(); }
    const FrontierData& data() const { return m_data; }
    QCustomPlot* plot() const { return m_plot; }

signals:
    void finished();

private:
    void draw();

    FrontierData m_data;
    QFutureWatcher<FrontierData> m_watcher;
    QCustomPlot* m_plot;
    QProgressBar* m_busy;
};

} // namespace qs
