// The Learn panel: hands-on pages about number formats and short lessons on quantization.
#pragma once

#include "plan/plan.h"

#include <QWidget>

#include <vector>

class QTabWidget;
class QTextBrowser;

namespace qs {

class ExplorerPage;
class LessonPage;
class SizePage;

// Lessons are further tabs; addPage keeps the panel open to them without touching the rest.
class LearnPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LearnPanel(QWidget* parent = nullptr);

    void addPage(QWidget* page, const QString& title);

    QTabWidget* tabs() const { return m_tabs; }
    QTextBrowser* metricsPage() const { return m_metrics; }
    // Shows the explanation of a metric ("sqnr", "mse", "rmse-scale", …: the anchors of
    // resources/lessons/metrics.html).
    void explainMetric(const QString& anchor);
    ExplorerPage* explorerPage() const { return m_explorer; }
    SizePage* sizePage() const { return m_size; }
    // The lessons in teaching order: why, scale, granularity, calibration, PTQ, activations,
    // mixed precision.
    const std::vector<LessonPage*>& lessons() const { return m_lessons; }

signals:
    // A lesson's "Try it on my model": `what` describes the setting, `plan` applies it.
    void tryOnModel(const QString& what, const qs::Plan& plan);

private:
    void addLesson(LessonPage* lesson, const QString& title);

    QTabWidget* m_tabs;
    ExplorerPage* m_explorer;
    SizePage* m_size;
    QTextBrowser* m_metrics;
    std::vector<LessonPage*> m_lessons;
};

} // namespace qs
