// The Accuracy panel on the bundled Fashion-MNIST classifier with a small test subset: it fills
// the table with what the engine computes, its confusion matrix counts every image once, and a
// cancelled evaluation reports nothing.
#include "accuracyconfusion.h"
#include "accuracydisagreements.h"
#include "accuracypanel.h"
#include "accuracyplots.h"
#include "accuracytablemodel.h"
#include "document.h"
#include "io/model.h"
#include "nn/evaluate.h"

#include <QtTest>

#include <QAbstractItemModelTester>
#include <QPushButton>

#include <numeric>

using namespace qs;

namespace {
constexpr int kTimeoutMs = 300000; // a generous bound for slow sanitizer builds, never a target
constexpr int kImages = 200;
const QString kModel = QStringLiteral(QS_FASHION_MODEL);

void saveShot(QWidget& w, const QString& name)
{
    const QString path = QStringLiteral(QS_ARTIFACT_DIR "/%1.png").arg(name);
    QVERIFY(w.grab().save(path));
    qInfo() << "screenshot:" << path;
}

// The first `count` images of a set, as the panel's job takes them.
data::ImageSet first(const data::ImageSet& set, std::int64_t count)
{
    data::ImageSet out = set;
    out.count = count;
    out.images.resize(static_cast<std::size_t>(count * set.height * set.width));
    out.labels.resize(static_cast<std::size_t>(count));
    return out;
}
} // namespace

class TestAccuracyPanel : public QObject
{
    Q_OBJECT
private slots:
    void evaluatesTheOpenClassifier()
    {
        Document doc;
        doc.setModel(openModel(kModel.toStdString()), kModel);
        doc.addPlan(QStringLiteral("int4"),
                    Plan::uniform(Precision("int4", Granularity{Granularity::Kind::Channel, 0})));
        AccuracyPanel panel(&doc, nullptr, kModel);
        panel.resize(1300, 850);
        panel.show();
        QAbstractItemModelTester tester(panel.tableModel());
        QSignalSpy done(&panel, &AccuracyPanel::evaluated);
        QSignalSpy failed(&panel, &AccuracyPanel::evaluationFailed);
        panel.setImageCount(kImages);
        auto* evaluate = panel.findChild<QPushButton*>(QStringLiteral("evaluateButton"));
        QVERIFY(evaluate);
        QTest::mouseClick(evaluate, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(done.count() + failed.count(), 1, kTimeoutMs);
        QCOMPARE(failed.count(), 0);

        // FP32, then the two plans in three modes each.
        AccuracyTableModel* model = panel.tableModel();
        QCOMPARE(model->rowCount(), 1 + 2 * 3);
        const double fp32 =
            model->data(model->index(0, AccuracyTableModel::Accuracy), AccuracyTableModel::SortRole)
                .toDouble();
        QVERIFY(fp32 >= 0.0 && fp32 <= 1.0);
        const data::Dataset set = data::loadDataset("fashion-mnist");
        const nn::EvaluateResult engine = nn::evaluateModel(
            kModel.toStdString(), first(set.test, kImages), first(set.train, 512), {});
        QCOMPARE(fp32, engine.accuracy);
        QCOMPARE(panel.results()->fallbackReason, QString());

        // The selected row (the first quantized one) classifies every image exactly once.
        const std::vector<int>& counts = panel.confusionPlot()->counts();
        QCOMPARE(counts.size(), std::size_t{100});
        QCOMPARE(std::accumulate(counts.begin(), counts.end(), 0), kImages);
        const EvaluateRow* row = model->rowAt(1);
        const int agreeing = static_cast<int>(std::lround(row->result.agreement * kImages));
        QCOMPARE(panel.disagreements()->disagreementCount(), kImages - agreeing);

        // The int4 row under static activations: its confusion matrix too.
        panel.selectRow(model->rowCount() - 1);
        const std::vector<int>& last = panel.confusionPlot()->counts();
        QCOMPARE(std::accumulate(last.begin(), last.end(), 0), kImages);
        saveShot(panel, QStringLiteral("accuracypanel"));
        auto* layers = panel.findChild<AccuracyLayerPlot*>();
        QVERIFY(layers && layers->barCount() > 0);
        layers->resize(640, 420);
        saveShot(*layers, QStringLiteral("accuracypanel-layers"));
    }

    void bitsCurve()
    {
        Document doc;
        AccuracyPanel panel(&doc, nullptr, kModel); // no model open: the bundled one
        panel.resize(1300, 850);
        QSignalSpy done(&panel, &AccuracyPanel::curveComputed);
        panel.setImageCount(100);
        panel.computeCurve();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
        const EvaluateResultsPtr curve = panel.curve();
        QCOMPARE(curve->rows.size(), std::size_t{7});
        QCOMPARE(curve->rows.front().bits, 8);
        QCOMPARE(curve->rows.back().bits, 2);
        QVERIFY(!curve->fallbackReason.isEmpty()); // it says why the bundled model was used
        // int8 per channel keeps nearly every prediction; int2 cannot.
        QVERIFY(curve->rows.front().result.agreement > curve->rows.back().result.agreement);
        auto* plot = panel.findChild<AccuracyBitsPlot*>();
        QVERIFY(plot && plot->pointCount() == 7);
        plot->resize(640, 420);
        saveShot(*plot, QStringLiteral("accuracypanel-bits"));
    }

    void cancelDropsTheResult()
    {
        Document doc;
        doc.setModel(openModel(kModel.toStdString()), kModel);
        AccuracyPanel panel(&doc, nullptr, kModel);
        QSignalSpy done(&panel, &AccuracyPanel::evaluated);
        panel.setImageCount(5000);
        panel.evaluate();
        QVERIFY(panel.isRunning());
        QTest::mouseClick(panel.findChild<QPushButton*>(QStringLiteral("cancelButton")),
                          Qt::LeftButton);
        QVERIFY(!panel.isRunning());
        // A newer small evaluation completes; the cancelled one never reports.
        panel.setImageCount(50);
        panel.evaluate();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
        QCOMPARE(panel.results()->test->count, 50);
        QCOMPARE(done.count(), 1);
    }
};

QTEST_MAIN(TestAccuracyPanel)
#include "tst_accuracypanel.moc"
