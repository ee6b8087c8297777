// The Learn tab's lessons: each loads its text and live widget, computes its numbers through the
// engine, and offers its setting through "Try it on my model".
#include "learn/accuracylesson.h"
#include "learn/calibrationlesson.h"
#include "learn/frontierlesson.h"
#include "learn/granularitylesson.h"
#include "learn/learnpanel.h"
#include "learn/lessondata.h"
#include "learn/scalelesson.h"
#include "learn/whylesson.h"

#include <QCheckBox>
#include <QDir>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTabWidget>
#include <QTest>
#include <QTextBrowser>
#include <qcustomplot.h>

using namespace qs;

namespace {

// Long enough for a few hundred CNN inferences on a slow, shared machine; never a speed test.
constexpr int kJobWaitMs = 300000;
constexpr std::int64_t kEvalImages = 200;

template <typename T> T* lesson(const LearnPanel& panel)
{
    for (LessonPage* page : panel.lessons()) {
        if (auto* l = qobject_cast<T*>(page)) return l;
    }
    return nullptr;
}

void saveShot(QWidget* w, const QString& name)
{
    w->resize(1200, 620);
    w->show();
    QVERIFY(QTest::qWaitForWindowExposed(w));
    const QString path = QDir(QStringLiteral(QS_ARTIFACT_DIR)).filePath(name);
    QVERIFY2(w->grab().save(path), qPrintable(path));
}

} // namespace

class TestLessons : public QObject
{
    Q_OBJECT

private slots:
    void everyLessonLoads()
    {
        LearnPanel panel;
        QCOMPARE(panel.lessons().size(), std::size_t{7});
        for (LessonPage* page : panel.lessons()) {
            QVERIFY(!page->text()->toPlainText().trimmed().isEmpty());
            QVERIFY(page->liveWidget());
            QVERIFY(panel.tabs()->indexOf(page) >= 0);
        }
        auto* frontier = lesson<FrontierLesson>(panel);
        QTRY_VERIFY_WITH_TIMEOUT(!frontier->isRunning(), kJobWaitMs);
    }

    void whyQuantizeComputesSizeAndEnergy()
    {
        WhyLesson why;
        const WhyNumbers& n = why.numbers();
        QCOMPARE(n.rows.size(), std::size_t{4});
        QVERIFY(n.macsPerToken > 0);
        for (std::size_t i = 1; i < n.rows.size(); ++i)
            QVERIFY2(n.rows[i].bytes < n.rows[i - 1].bytes, qPrintable(n.rows[i].format));
        // int8 arithmetic and traffic both cost less than fp32's under the cited figures.
        QVERIFY(n.rows[2].computePj < n.rows[0].computePj);
        QVERIFY(n.rows[2].dramPj < n.rows[0].dramPj);
        QVERIFY(n.rows[0].sramPj < n.rows[0].dramPj);
        QVERIFY(why.sizePlot()->plottableCount() == 1);
        QVERIFY(!why.status()->text().isEmpty());
        saveShot(&why, QStringLiteral("lesson-why.png"));
    }

    void scaleLessonFollowsTheSliders()
    {
        ScaleLesson scale;
        scale.bitsSlider()->setValue(3);
        const GridResult three = scale.result();
        QCOMPARE(three.qmax, 7);
        QVERIFY(three.params.zeroPoint >= 0 && three.params.zeroPoint <= three.qmax);
        scale.bitsSlider()->setValue(6);
        QVERIFY(scale.result().sqnrDb > three.sqnrDb);
        QCOMPARE(scale.result().clipped, std::int64_t{0}); // min-max covers every value

        scale.clipSlider()->setValue(30);
        QVERIFY(scale.result().clipped > 0);
        QVERIFY(scale.result().params.scale < three.params.scale);
        QSignalSpy tried(&scale, &LessonPage::tryOnModel);
        scale.tryButton()->click();
        QCOMPARE(tried.count(), 1);
        const Plan plan = tried.front().at(1).value<Plan>();
        QCOMPARE(plan.defaultPrecision->format, std::string("uint6"));
        QCOMPARE(plan.defaultPrecision->calibration->toString(), std::string("mse"));
        saveShot(&scale, QStringLiteral("lesson-scale.png"));
    }

    void finerGranularityRaisesSqnrAndCost()
    {
        GranularityLesson g;
        const auto& p = g.points();
        QCOMPARE(p.size(), std::size_t{5});
        QCOMPARE(p[0].granularity, QStringLiteral("tensor"));
        QCOMPARE(p[1].granularity, QStringLiteral("channel"));
        QVERIFY(p[1].measured.sqnrDb > p[0].measured.sqnrDb);
        QVERIFY(p[4].measured.sqnrDb > p[1].measured.sqnrDb);
        // Cost never falls with finer scales; a 32-bit scale per channel of 256 values costs as
        // much as 16-bit ones per group of 128, so the steps need not be strict.
        for (std::size_t i = 1; i < p.size(); ++i)
            QVERIFY(p[i].measured.bitsPerWeight >= p[i - 1].measured.bitsPerWeight);
        QVERIFY(p[4].measured.bitsPerWeight > p[2].measured.bitsPerWeight);
        saveShot(&g, QStringLiteral("lesson-granularity.png"));
    }

    void anOutlierHurtsMinMaxMost()
    {
        CalibrationLesson c;
        const std::vector<CalibrationPoint> clean = c.points();
        QCOMPARE(clean.size(), std::size_t{4});
        // The tensor's outlier rows make a shrunken range pay off even before the planted one.
        QVERIFY(clean[1].sqnrDb > clean[0].sqnrDb);
        QVERIFY(clean[2].sqnrDb > clean[0].sqnrDb);
        saveShot(&c, QStringLiteral("lesson-calibration.png"));
        c.outlierBox()->setChecked(true);
        const std::vector<CalibrationPoint> spiked = c.points();
        QVERIFY(spiked[0].sqnrDb < clean[0].sqnrDb);
        // The engine keeps a calibrated range only when it beats min-max on the group.
        for (std::size_t i = 1; i < spiked.size(); ++i)
            QVERIFY2(spiked[i].sqnrDb >= spiked[0].sqnrDb, qPrintable(spiked[i].method));
    }

    void frontierHoldsTheUniformPlans()
    {
        FrontierLesson f;
        QTRY_VERIFY_WITH_TIMEOUT(!f.isRunning(), kJobWaitMs);
        QTRY_VERIFY(!f.data().frontier.empty()); // the finished slot has run
        const FrontierData& d = f.data();
        QVERIFY2(d.error.isEmpty(), qPrintable(d.error));
        QCOMPARE(d.uniform.size(), std::size_t{7});
        for (std::size_t i = 1; i < d.frontier.size(); ++i) {
            QVERIFY(d.frontier[i].bytes > d.frontier[i - 1].bytes);
            QVERIFY(d.frontier[i].distortion < d.frontier[i - 1].distortion);
        }
        // Its ends are every tensor at its smallest and at its most precise candidate.
        QCOMPARE(d.frontier.front().bytes, d.uniform.front().bytes);
        QVERIFY(d.frontier.back().distortion <= d.uniform.back().distortion);
        QVERIFY(!f.status()->text().isEmpty());
        saveShot(&f, QStringLiteral("lesson-frontier.png"));
    }

    void weightOnlyAccuracyRunsInTheBackground()
    {
        if (lessonClassifierPath().isEmpty()) QSKIP("the Fashion-MNIST classifier is not here");
        AccuracyLesson a(AccuracyLesson::Kind::Weights);
        a.setImageCount(kEvalImages);
        QSignalSpy done(&a, &AccuracyLesson::finished);
        a.start();
        QVERIFY(a.isRunning());
        QVERIFY(!a.runButton()->isEnabled());
        QVERIFY(done.wait(kJobWaitMs));
        const AccuracyResults& r = a.results();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.images, kEvalImages);
        QCOMPARE(r.rows.size(), std::size_t{4});
        // A trained classifier (not chance, 0.1), at least as good as its int8 version.
        QVERIFY(r.floatAccuracy > 0.5 && r.floatAccuracy + 0.02 >= r.rows[0].accuracy);
        QVERIFY(r.rows[0].accuracy >= r.rows[2].accuracy); // int8 against int2
        QVERIFY(r.rows[3].accuracy > r.rows[2].accuracy);  // QAT wins back part of int2's loss
        QCOMPARE(a.progress()->value(), 4);
        QVERIFY(a.runButton()->isEnabled());
        saveShot(&a, QStringLiteral("lesson-ptq.png"));
    }

    void activationModesReportLayers()
    {
        if (lessonClassifierPath().isEmpty()) QSKIP("the Fashion-MNIST classifier is not here");
        AccuracyLesson a(AccuracyLesson::Kind::Activations);
        a.setImageCount(kEvalImages / 2);
        QSignalSpy done(&a, &AccuracyLesson::finished);
        a.start();
        QVERIFY(done.wait(kJobWaitMs));
        const AccuracyResults& r = a.results();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.rows.size(), std::size_t{3});
        for (const AccuracyRow& row : r.rows) {
            QVERIFY(!row.layers.empty());
            QVERIFY(row.accuracy > 0.1);
        }
        QCOMPARE(a.layerPlot()->graphCount(), 3);
        saveShot(&a, QStringLiteral("lesson-activations.png"));
    }

    void tryOnModelReachesThePanel()
    {
        LearnPanel panel;
        QSignalSpy tried(&panel, &LearnPanel::tryOnModel);
        for (LessonPage* page : panel.lessons()) {
            QVERIFY(page->tryButton()->isEnabled());
            page->tryButton()->click();
        }
        QCOMPARE(tried.count(), static_cast<int>(panel.lessons().size()));
        for (const QList<QVariant>& args : tried)
            QVERIFY(!args.at(0).toString().isEmpty());
        auto* frontier = lesson<FrontierLesson>(panel);
        QTRY_VERIFY_WITH_TIMEOUT(!frontier->isRunning(), kJobWaitMs);
    }
};

QTEST_MAIN(TestLessons)
#include "tst_lessons.moc"
