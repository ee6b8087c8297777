#include "learn/accuracylesson.h"

#include "learn/lessondata.h"
#include "learn/lessonplot.h"

#include <QHBoxLayout>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs {

AccuracyLesson::AccuracyLesson(Kind kind, QWidget* parent)
    : LessonPage(kind == Kind::Weights ? QStringLiteral("ptq") : QStringLiteral("activations"),
                 parent),
      m_kind(kind), m_run(new QPushButton(tr("Evaluate"))), m_progress(new QProgressBar),
      m_accuracyPlot(newLessonPlot(tr("Fashion-MNIST test accuracy")))
{
    m_run->setObjectName(QStringLiteral("evaluate"));
    m_progress->setObjectName(QStringLiteral("progress"));
    m_progress->setFormat(tr("%v of %m settings"));
    m_progress->setValue(0);
    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* plots = new QHBoxLayout;
    plots->addWidget(m_accuracyPlot);
    if (kind == Kind::Activations) {
        m_layerPlot = newLessonPlot(tr("Output SQNR per layer"));
        plots->addWidget(m_layerPlot);
    }
    layout->addLayout(plots, 1);
    auto* controls = new QHBoxLayout;
    controls->addWidget(m_run);
    controls->addWidget(m_progress, 1);
    layout->addLayout(controls);
    setLiveWidget(live);

    connect(m_run, &QPushButton::clicked, this, &AccuracyLesson::start);
    connect(&m_watcher, &QFutureWatcher<AccuracyResults>::progressRangeChanged, m_progress,
            &QProgressBar::setRange);
    connect(&m_watcher, &QFutureWatcher<AccuracyResults>::progressValueChanged, m_progress,
            &QProgressBar::setValue);
    connect(&m_watcher, &QFutureWatcher<AccuracyResults>::finished, this, [this] {
        m_run->setEnabled(true);
        if (m_watcher.future().resultCount() > 0) showResults(m_watcher.result());
        emit finished();
    });

    if (kind == Kind::Weights) {
        setTry(tr("int4 per channel, weights only"),
               Plan::uniform(Precision("int4", Granularity::parse("channel"))));
    } else {
        // Activation quantization is an evaluation option, not part of a plan: the plan stays
        // empty and `what` names the setting.
        setTry(tr("evaluate with static int8 activations (percentile calibration)"), Plan{});
    }
    if (lessonClassifierPath().isEmpty()) {
        m_run->setEnabled(false);
        setStatus(tr("The Fashion-MNIST classifier is not installed, so this lesson cannot run."));
    } else {
        setStatus(tr("Press Evaluate to measure %L1 test images per setting.").arg(m_images));
    }
}

AccuracyLesson::~AccuracyLesson()
{
    // The job only reads its own copies; cancelling lets it stop after the current setting.
    m_watcher.cancel();
    m_watcher.waitForFinished();
}

std::vector<AccuracySetting> AccuracyLesson::settings() const
{
    using nn::ActivationMode;
    using nn::CalibrationMethod;
    if (m_kind == Kind::Weights) {
        std::vector<AccuracySetting> s;
        for (const char* f : {"int8", "int4", "int2"})
            s.push_back({QString::fromLatin1(f), Precision(f, Granularity::parse("channel")),
                         ActivationMode::None, CalibrationMethod::MinMax});
        s.push_back({tr("int2 + QAT"), Precision("int2", Granularity::parse("channel")),
                     ActivationMode::None, CalibrationMethod::MinMax, true});
        return s;
    }
    return {{tr("dynamic"), std::nullopt, ActivationMode::Dynamic, CalibrationMethod::MinMax},
            {tr("static min-max"), std::nullopt, ActivationMode::Static, CalibrationMethod::MinMax},
            {tr("static percentile"), std::nullopt, ActivationMode::Static,
             CalibrationMethod::Percentile}};
}

void AccuracyLesson::start()
{
    const QString path = lessonClassifierPath();
    if (path.isEmpty() || m_watcher.isRunning()) return;
    m_run->setEnabled(false);
    m_progress->setValue(0);
    setStatus(tr("Evaluating %L1 test images per setting in the background...").arg(m_images));
    m_watcher.setFuture(runAccuracy(path, settings(), m_images));
}

void AccuracyLesson::showResults(const AccuracyResults& results)
{
    m_results = results;
    if (!results.error.isEmpty()) {
        setStatus(results.error);
        return;
    }
    QStringList labels{tr("float")};
    QVector<double> accuracy{100.0 * results.floatAccuracy};
    for (const AccuracyRow& r : results.rows) {
        labels << QString(r.label).replace(QLatin1Char(' '), QLatin1Char('\n')); // narrow bars
        accuracy << 100.0 * r.accuracy;
    }
    setBars(m_accuracyPlot, labels, accuracy, tr("accuracy (%)"), 1);
    m_accuracyPlot->yAxis->setRange(0, 100 * 1.12);
    m_accuracyPlot->replot();
    if (m_layerPlot) drawLayers();
    setStatus(tr("Measured on the first %L1 test images; float accuracy %2%.")
                  .arg(results.images)
                  .arg(100.0 * results.floatAccuracy, 0, 'f', 1));
}

void AccuracyLesson::drawLayers()
{
    m_layerPlot->clearGraphs();
    const QColor colors[] = {QColor(70, 130, 180), QColor(200, 90, 0), QColor(60, 150, 60)};
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    double top = 0;
    for (std::size_t i = 0; i < m_results.rows.size(); ++i) {
        const AccuracyRow& row = m_results.rows[i];
        auto* g = m_layerPlot->addGraph();
        g->setName(row.label);
        g->setPen(QPen(colors[i % 3], 2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
        for (std::size_t k = 0; k < row.layers.size(); ++k) {
            const double db = row.layers[k].outputSqnrDb;
            // An unchanged output has infinite SQNR; it is left out of the line.
            g->addData(static_cast<double>(k + 1), std::isfinite(db) ? db : std::nan(""));
            if (std::isfinite(db)) top = std::max(top, db);
            if (i == 0)
                ticker->addTick(static_cast<double>(k + 1),
                                QString::fromStdString(row.layers[k].name));
        }
    }
    m_layerPlot->xAxis->setTicker(ticker);
    m_layerPlot->xAxis->setTickLabelRotation(45);
    const double n = m_results.rows.empty() ? 1.0 : m_results.rows.front().layers.size();
    m_layerPlot->xAxis->setRange(0.5, n + 0.5);
    m_layerPlot->yAxis->setRange(0, top * 1.1 + 1);
    m_layerPlot->yAxis->setLabel(tr("output SQNR (dB)"));
    m_layerPlot->legend->setVisible(true);
    // Bottom right is empty: SQNR values sit well above zero.
    m_layerPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    m_layerPlot->replot();
}

} // namespace qs
