#include "learn/learnpanel.h"

#include "learn/accuracylesson.h"
#include "learn/calibrationlesson.h"
#include "learn/explorerpage.h"
#include "learn/frontierlesson.h"
#include "learn/granularitylesson.h"
#include "learn/scalelesson.h"
#include "learn/sizepage.h"
#include "learn/whylesson.h"

#include <QTabWidget>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

// The lesson texts live in a static library, whose resource registration the linker would drop
// unless something refers to it; Q_INIT_RESOURCE must be called outside any namespace.
static void initLessonResources()
{
    Q_INIT_RESOURCE(lessons);
}

namespace qs {

LearnPanel::LearnPanel(QWidget* parent)
    : QWidget(parent), m_tabs(new QTabWidget), m_explorer(new ExplorerPage), m_size(new SizePage),
      m_metrics(new QTextBrowser)
{
    initLessonResources();
    m_tabs->setObjectName(QStringLiteral("learnTabs"));
    m_tabs->setDocumentMode(true);
    addPage(m_explorer, tr("Number explorer"));
    addPage(m_size, tr("Model size"));
    addLesson(new WhyLesson, tr("1 Why quantize"));
    addLesson(new ScaleLesson, tr("2 Scale and zero point"));
    addLesson(new GranularityLesson, tr("3 Granularity"));
    addLesson(new CalibrationLesson, tr("4 Outliers"));
    addLesson(new AccuracyLesson(AccuracyLesson::Kind::Weights), tr("5 PTQ and QAT"));
    addLesson(new AccuracyLesson(AccuracyLesson::Kind::Activations), tr("6 Activations"));
    addLesson(new FrontierLesson, tr("7 Mixed precision"));
    m_metrics->setObjectName(QStringLiteral("metricsPage"));
    m_metrics->setSource(QUrl(QStringLiteral("qrc:/lessons/metrics.html")));
    addPage(m_metrics, tr("Metrics explained"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
}

void LearnPanel::addLesson(LessonPage* lesson, const QString& title)
{
    m_lessons.push_back(lesson);
    connect(lesson, &LessonPage::tryOnModel, this, &LearnPanel::tryOnModel);
    addPage(lesson, title);
}

void LearnPanel::explainMetric(const QString& anchor)
{
    m_tabs->setCurrentWidget(m_metrics);
    m_metrics->scrollToAnchor(anchor);
}

void LearnPanel::addPage(QWidget* page, const QString& title)
{
    m_tabs->addTab(page, title);
}

} // namespace qs
