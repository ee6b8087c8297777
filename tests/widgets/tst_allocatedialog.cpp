// The "Allocate Automatically" dialog driven as a person would: candidates, budget, Compute,
// a click on the frontier, Create plan; the plan it creates fits the budget once quantized.
#include "../core/modelfixture.h"
#include "allocatedialog.h"
#include "allocsolutionmodel.h"
#include "document.h"
#include "frontierplot.h"
#include "testmodel.h"

#include <QtTest>

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>

#include <qcustomplot.h>

using namespace qs;

namespace {
constexpr int kTimeoutMs = 60000;

template <typename T> T* child(QWidget& w, const char* name)
{
    return w.findChild<T*>(QLatin1String(name));
}

void saveShot(QWidget& w, const QString& name)
{
    const QString path = QStringLiteral(QS_ARTIFACT_DIR "/%1.png").arg(name);
    QVERIFY(w.grab().save(path));
    qInfo() << "screenshot:" << path;
}

// Bytes of the budgeted tensors under a document plan, once its results are in.
quint64 plannedBytes(const Document& doc, int plan, const AllocationTable& t)
{
    quint64 sum = 0;
    for (const auto& e : t.table.tensors)
        sum += doc.resultOf(plan, static_cast<int>(e.tensor))->bytesAfter;
    return sum;
}

bool resultsIn(const Document& doc, int plan, const AllocationTable& t)
{
    for (const auto& e : t.table.tensors)
        if (!doc.resultOf(plan, static_cast<int>(e.tensor))) return false;
    return true;
}
} // namespace

class TestAllocateDialog : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void computeClickCreate()
    {
        Document doc;
        const QString path = test::writeSmallModel(m_dir.path());
        doc.setModel(openModel(path.toStdString()), path);
        AllocateDialog dialog(&doc);
        QAbstractItemModelTester tester(dialog.solutionModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));

        auto* candidates = child<QLineEdit>(dialog, "candidatesEdit");
        candidates->selectAll();
        QTest::keyClicks(candidates, QStringLiteral("int2@channel,int4@channel,int8@channel"));
        QCOMPARE(child<QComboBox>(dialog, "candidatePreset")->currentText(),
                 QStringLiteral("Custom"));
        auto* budget = child<QDoubleSpinBox>(dialog, "budgetSpin");
        budget->setValue(5.0); // bits per weight, the default unit
        QTest::mouseClick(child<QPushButton>(dialog, "computeButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.allocation().has_value(), kTimeoutMs);

        const AllocationTablePtr t = dialog.table();
        QCOMPARE(dialog.budgetBytes(), t->budgetFromBpw(5.0));
        // Three float matrices are budgeted; the 1-D bias and the integer ids are not.
        const auto& rows = dialog.solutionModel()->rows();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows.first().tensor, QStringLiteral("embed.weight"));
        for (const auto& r : rows)
            QVERIFY2(r.format.endsWith(QLatin1String("@channel")), qPrintable(r.format));
        QVERIFY(!rows.first().explanation.isEmpty());
        const QModelIndex why = dialog.solutionModel()->index(0, AllocSolutionModel::WhyColumn);
        QCOMPARE(why.data().toString(), rows.first().explanation);
        QVERIFY(why.data(Qt::ToolTipRole)
                    .toString()
                    .contains(rows.first().explanation.toHtmlEscaped()));
        QVERIFY(dialog.allocation()->solution.bytes <= dialog.budgetBytes());
        const QString summary = child<QLabel>(dialog, "summaryLabel")->text();
        QVERIFY2(summary.contains(QLatin1String("bits per weight")), qPrintable(summary));
        QVERIFY2(summary.contains(QLatin1String("optimal")), qPrintable(summary));
        QCOMPARE(child<QLineEdit>(dialog, "planName")->text(), QStringLiteral("opt 5.00 bpw"));
        // No K-quant among the candidates: the llama.cpp mixes cannot be placed, and say so.
        QVERIFY(
            dialog.frontierPlot()->notesText().contains(QLatin1String("Q4_K_M-like not shown")));
        saveShot(dialog, QStringLiteral("allocatedialog"));

        // A click on a frontier vertex makes its size the budget.
        FrontierPlot* plot = dialog.frontierPlot();
        const int vertex = static_cast<int>(t->frontier.size()) / 2;
        QVERIFY(t->frontier[std::size_t(vertex)].bytes != dialog.budgetBytes());
        const QPoint at = plot->vertexCenter(vertex);
        QCOMPARE(plot->vertexAt(at), vertex);
        QTest::mouseClick(plot->plot(), Qt::LeftButton, {}, at);
        QCOMPARE(dialog.budgetBytes(), t->frontier[std::size_t(vertex)].bytes);
        // The spin box shows the vertex's size in bits per weight, to its three decimals.
        QVERIFY(std::abs(budget->value() - t->bitsPerWeight(dialog.budgetBytes())) <= 0.0006);
        QVERIFY(dialog.allocation()->solution.bytes <= dialog.budgetBytes());
        // Every vertex is optimal for its size, so the solution is at least as good.
        QVERIFY(dialog.allocation()->solution.distortion <=
                t->frontier[std::size_t(vertex)].distortion * (1 + 1e-12));
        QCOMPARE(plot->chosen()->bytes, dialog.allocation()->solution.bytes);

        // The same budget in bytes; a budget typed in bytes is solved as given.
        auto* unit = child<QComboBox>(dialog, "budgetUnit");
        unit->setCurrentIndex(
            unit->findData(QVariant::fromValue(AllocateDialog::BudgetUnit::Bytes)));
        QCOMPARE(budget->value(), double(dialog.budgetBytes()));
        const quint64 typed = t->frontier[1].bytes + 7;
        budget->setValue(double(typed));
        QCOMPARE(dialog.budgetBytes(), typed);
        QVERIFY(dialog.allocation()->solution.bytes <= typed);
        QVERIFY(dialog.allocation()->solution.bytes >= t->frontier[1].bytes); // vertex 1 fits
        // Below the smallest choices nothing fits: no solution, nothing to create.
        budget->setValue(double(t->minBytes() - 1));
        QVERIFY(!dialog.allocation());
        QVERIFY(!child<QPushButton>(dialog, "createPlanButton")->isEnabled());
        QVERIFY(
            child<QLabel>(dialog, "summaryLabel")->text().contains(QLatin1String("infeasible")));
        QTest::mouseClick(plot->plot(), Qt::LeftButton, {}, plot->vertexCenter(vertex));
        QCOMPARE(dialog.budgetBytes(), t->frontier[std::size_t(vertex)].bytes);

        // Create plan: a new active plan whose quantized tensors fit the budget.
        const int plans = doc.planCount();
        const QString name = child<QLineEdit>(dialog, "planName")->text();
        QTest::mouseClick(child<QPushButton>(dialog, "createPlanButton"), Qt::LeftButton);
        QCOMPARE(doc.planCount(), plans + 1);
        const int plan = doc.activePlan();
        QCOMPARE(doc.planName(plan), name);
        QTRY_VERIFY_WITH_TIMEOUT(resultsIn(doc, plan, *t), kTimeoutMs);
        QVERIFY(plannedBytes(doc, plan, *t) <= dialog.budgetBytes());
        QCOMPARE(plannedBytes(doc, plan, *t), dialog.allocation()->solution.bytes);
        // The base-plan list follows the document's plans.
        QCOMPARE(child<QComboBox>(dialog, "basePlan")->count(), doc.planCount());
    }

    void badCandidatesAreReported()
    {
        Document doc;
        const QString path = test::writeSmallModel(m_dir.path());
        doc.setModel(openModel(path.toStdString()), path);
        AllocateDialog dialog(&doc);
        child<QLineEdit>(dialog, "candidatesEdit")->setText(QStringLiteral("int4@channel,nope"));
        QTest::mouseClick(child<QPushButton>(dialog, "computeButton"), Qt::LeftButton);
        QVERIFY(!dialog.job()->isRunning());
        QVERIFY(child<QLabel>(dialog, "statusLabel")->text().contains(QLatin1String("nope")));
        QVERIFY(!child<QPushButton>(dialog, "createPlanButton")->isEnabled());
    }

    void oneDialogPerDocument()
    {
        Document doc;
        QWidget window;
        showAllocateDialog(&doc, &window);
        showAllocateDialog(&doc, &window); // raised again, not a second one
        const auto dialogs = window.findChildren<AllocateDialog*>();
        QCOMPARE(dialogs.size(), 1);
        QVERIFY(dialogs.first()->isVisible());
        QVERIFY(!dialogs.first()->isModal());
        // Without a model there is nothing to compute, and the dialog says so.
        QTest::mouseClick(child<QPushButton>(*dialogs.first(), "computeButton"), Qt::LeftButton);
        QVERIFY(!dialogs.first()->job()->isRunning());
        QVERIFY(!child<QLabel>(*dialogs.first(), "statusLabel")->text().isEmpty());
    }

    void kQuantMixesNextToTheFrontier()
    {
        Document doc;
        const QString path = m_dir.filePath(QStringLiteral("k.safetensors"));
        doc.setModel(test::makeModel(path, 6, 32, 512), path);
        AllocateDialog dialog(&doc); // the default candidates: the K-quant family
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        dialog.setBudgetBitsPerWeight(4.5);
        dialog.compute();
        QTRY_VERIFY_WITH_TIMEOUT(dialog.allocation().has_value(), kTimeoutMs);
        const auto& data = dialog.frontierPlot()->data();
        QCOMPARE(data.mixes.size(), 2);
        QVERIFY(data.notes.isEmpty());
        QVERIFY(dialog.frontierPlot()->mixCenter(0).x() >= 0);
        const QString tip = dialog.frontierPlot()->toolTipAt(dialog.frontierPlot()->mixCenter(0));
        QVERIFY2(tip.contains(QLatin1String("optimal allocation at this size")), qPrintable(tip));
        QVERIFY(
            child<QLabel>(dialog, "summaryLabel")->text().contains(QLatin1String("Q4_K_M-like")));
        saveShot(dialog, QStringLiteral("allocatedialog-kquants"));

        // Other axes, same points: bytes on x, linear distortion.
        FrontierPlot* plot = dialog.frontierPlot();
        plot->setXMeasure(FrontierPlot::XMeasure::Bytes);
        plot->setLogY(false);
        QCOMPARE(plot->vertexAt(plot->vertexCenter(2)), 2);
        QVERIFY(
            plot->toolTipAt(plot->vertexCenter(2)).contains(QLatin1String("Frontier vertex 3")));

        // Recomputing with nothing changed takes the cached costs.
        QSignalSpy ready(dialog.job(), &AllocateJob::resultReady);
        dialog.compute();
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        QVERIFY(ready.first().at(2).toBool());

        // Another model: the costs of the old one are dropped, cache and all.
        const QString other =
            test::writeSmallModel(m_dir.path(), QStringLiteral("other.safetensors"));
        doc.setModel(openModel(other.toStdString()), other);
        QVERIFY(!dialog.table());
        QVERIFY(!dialog.allocation());
        QCOMPARE(dialog.job()->cacheSize(), 0);
        QVERIFY(!dialog.frontierPlot()->isShowingPlot());
    }

    // act and output need a model the runtime can run: disabled with the reason otherwise;
    // on the bundled CNN they compute, and a cancelled run reports nothing.
    void runtimeMeasures()
    {
        Document doc;
        const QString path = test::writeSmallModel(m_dir.path(), QStringLiteral("r.safetensors"));
        doc.setModel(openModel(path.toStdString()), path);
        AllocateDialog dialog(&doc);
        auto* measure = child<QComboBox>(dialog, "measure");
        auto* items = qobject_cast<QStandardItemModel*>(measure->model());
        QVERIFY(items);
        for (const char* id : {"act", "output"}) {
            const int i = measure->findData(QLatin1String(id));
            QVERIFY(i >= 0);
            QVERIFY(!items->item(i)->isEnabled());
            QVERIFY(measure->itemData(i, Qt::ToolTipRole)
                        .toString()
                        .contains(QLatin1String("not a Keras classifier")));
        }
        const QString cnn =
            QStringLiteral(QS_TEST_DATA "/../../resources/models/fashion-mnist-cnn.h5");
        if (!QFile::exists(QStringLiteral("/usr/share/datasets/fashion-mnist")))
            QSKIP("needs Fashion-MNIST");
        doc.setModel(openModel(cnn.toStdString()), cnn);
        const int output = measure->findData(QStringLiteral("output"));
        QVERIFY(items->item(output)->isEnabled());
        child<QLineEdit>(dialog, "candidatesEdit")->setText(QStringLiteral("int4@channel,int8@channel"));
        measure->setCurrentIndex(output);
        QSignalSpy ready(dialog.job(), &AllocateJob::resultReady);
        dialog.compute();
        dialog.cancel();
        QCOMPARE(child<QLabel>(dialog, "statusLabel")->text(), QStringLiteral("Cancelled."));
        measure->setCurrentIndex(measure->findData(QStringLiteral("act")));
        dialog.setBudgetBitsPerWeight(6);
        dialog.compute();
        QTRY_VERIFY_WITH_TIMEOUT(dialog.allocation().has_value(), kTimeoutMs);
        QCOMPARE(ready.count(), 1); // the cancelled request delivered nothing
        QCOMPARE(dialog.table()->table.measure, std::string("act:512"));
        // The uniform int plans of the candidates are placed on the plot.
        QCOMPARE(dialog.frontierPlot()->data().mixes.size(), 2);
        QCOMPARE(doc.costTables().size(), std::size_t(1)); // kept for the session file
    }
};

QTEST_MAIN(TestAllocateDialog)
#include "tst_allocatedialog.moc"
