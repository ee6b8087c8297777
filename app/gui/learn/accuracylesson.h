// Lessons 5 and 6: the classifier's accuracy under weight-only quantization (PTQ) and under
// dynamic or static activation quantization, evaluated in the background.
#pragma once

#include "learn/accuracyrun.h"
#include "learn/lessonpage.h"

#include <QFutureWatcher>

class QCustomPlot;
class QProgressBar;
class QPushButton;

namespace qs {

class AccuracyLesson : public LessonPage
{
    Q_OBJECT
public:
    enum class Kind { Weights, Activations };
    explicit AccuracyLesson(Kind kind, QWidget* parent = nullptr);
    ~AccuracyLesson() override;

    // Test images evaluated per setting (the first ones of the test set).
    void setImageCount(std::int64_t images) { m_images = images; }
    void start();
    bool isRunning() const { return m_watcher.isRunning(); }
    const AccuracyResults& results() const { return m_results; }

    QPushButton* runButton() const { return m_run; }
    QProgressBar* progress() const { return m_progress; }
    QCustomPlot* accuracyPlot() const { return m_accuracyPlot; }
    QCustomPlot* layerPlot() const { return m_layerPlot; } // null for the weights lesson

signals:
    void finished();

private:
    std::vector<AccuracySetting> settings() const;
    void showResults(const AccuracyResults& results);
    void drawLayers();

    Kind m_kind;
    std::int64_t m_images = 1000;
    AccuracyResults m_results;
    QFutureWatcher<AccuracyResults> m_watcher;
    QPushButton* m_run;
    QProgressBar* m_progress;
    QCustomPlot* m_accuracyPlot;
    QCustomPlot* m_layerPlot = nullptr;
};

} // namespace qs
