// The precision workbench driven as a person would: the block tree, multi-select and apply,
// locks, undo/redo from the keyboard, the rules editor, presets and comparing two plans.
#include "document.h"
#include "layerbrowser.h"
#include "layertablemodel.h"
#include "layertreemodel.h"
#include "learn/learnpanel.h"
#include "mainwindow.h"
#include "planactions.h"
#include "planbar.h"
#include "plancompare.h"
#include "plancomparemodels.h"
#include "precisionpicker.h"
#include "ruleseditor.h"
#include "rulesmodel.h"
#include "sizechart.h"
#include "sqnrplot.h"
#include "testmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTabBar>
#include <QTabWidget>
#include <QScrollBar>
#include <QTableView>
#include <QTextBrowser>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeView>
#include <QUndoStack>

#include <qcustomplot.h>

using namespace qs;

namespace {
constexpr int kTimeoutMs = 120000;

bool settled(const Document& d)
{
    for (int p = 0; p < d.planCount(); ++p)
        for (int row = 0; row < d.tensorCount(); ++row)
            if (!d.resultOf(p, row)) return false;
    return d.tensorCount() > 0 && !d.isBusy();
}

int rowNamed(const Document& d, const std::string& name)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (d.tensor(row).name == name) return row;
    return -1;
}
} // namespace

class TestWorkbench : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;

    Document* doc() const { return m_window->document(); }
    LayerBrowser* browser() const { return m_window->layerBrowser(); }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        QLocale::setDefault(QLocale::c());
    }

    void init()
    {
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1500, 900);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        QSignalSpy opened(doc(), &Document::modelOpened);
        m_window->openFile(QStringLiteral(QS_LLM_MODEL));
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*doc()), kTimeoutMs);
    }

    void cleanup() { m_window.reset(); }

    void treeGroupsBlocksWithTotals()
    {
        LayerTreeModel* tree = browser()->tree();
        QAbstractItemModelTester tester(tree, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(browser()->proxy(),
                                             QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(tree->groupCount() >= 2); // the example model has model.layers.0 and .1
        QModelIndex block;
        for (int r = 0; r < tree->rowCount() && !block.isValid(); ++r)
            if (tree->isGroup(tree->index(r, 0))) block = tree->index(r, 0);
        QVERIFY(block.data().toString().startsWith(QStringLiteral("model.layers.0")));
        // The block's params and stored bytes are the sums of its tensors'.
        qlonglong params = 0;
        qulonglong bytes = 0;
        for (int c = 0; c < tree->rowCount(block); ++c) {
            params += tree->index(c, LayerTableModel::ParamsColumn, block)
                          .data(LayerTableModel::SortRole).toLongLong();
            bytes += tree->index(c, LayerTableModel::BytesBeforeColumn, block)
                         .data(LayerTableModel::SortRole).toULongLong();
        }
        QCOMPARE(block.siblingAtColumn(LayerTableModel::ParamsColumn)
                     .data(LayerTableModel::SortRole).toLongLong(), params);
        QCOMPARE(block.siblingAtColumn(LayerTableModel::BytesBeforeColumn)
                     .data(LayerTableModel::SortRole).toULongLong(), bytes);
        QVERIFY(block.siblingAtColumn(LayerTableModel::SqnrColumn)
                    .data(LayerTableModel::SortRole).isValid());

        // A regex filter narrows to matching tensors and keeps their blocks.
        browser()->regexToggle()->setChecked(true);
        QTest::keyClicks(browser()->filterEdit(), QStringLiteral("layers\\.1\\..*(q|k)_proj"));
        QSortFilterProxyModel* proxy = browser()->proxy();
        QCOMPARE(proxy->rowCount(), 1);
        QCOMPARE(proxy->rowCount(proxy->index(0, 0)), 2);
        // An invalid expression keeps the last filter and says so.
        QTest::keyClicks(browser()->filterEdit(), QStringLiteral("("));
        QVERIFY(browser()->filterEdit()->toolTip().contains(QStringLiteral("regular expression")));
        QCOMPARE(proxy->rowCount(), 1);
    }

    void multiSelectApplyUndoRedo()
    {
        QTreeView* view = browser()->view();
        view->expandAll();
        const int q0 = rowNamed(*doc(), "model.layers.0.self_attn.q_proj.weight");
        const int k0 = rowNamed(*doc(), "model.layers.0.self_attn.k_proj.weight");
        const int up1 = rowNamed(*doc(), "model.layers.1.mlp.up_proj.weight");
        QVERIFY(q0 >= 0 && k0 >= 0 && up1 >= 0);
        // Click the first, Ctrl+click the others, as a person selects.
        view->scrollTo(browser()->proxyIndexOf(q0));
        QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::NoModifier,
                          view->visualRect(browser()->proxyIndexOf(q0)).center());
        for (int row : {k0, up1}) {
            view->scrollTo(browser()->proxyIndexOf(row));
            QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier,
                              view->visualRect(browser()->proxyIndexOf(row)).center());
        }
        QCOMPARE(browser()->selectedRows(), (QVector<int>{q0, k0, up1}));
        PlanActions* actions = m_window->planActions();
        PrecisionPicker* picker = actions->selectionPicker();
        picker->setPrecision(Precision{"uint4", Granularity{Granularity::Kind::Group, 32},
                                       Calibration::parse("mse")});
        QTest::keySequence(m_window.get(), QKeySequence(Qt::CTRL | Qt::Key_Return));
        for (int row : {q0, k0, up1})
            QCOMPARE(doc()->precision(row)->format, std::string("uint4"));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*doc()) && doc()->result(up1)->formatName() ==
                                                        QStringLiteral("uint4"),
                                 kTimeoutMs);
        QCOMPARE(doc()->result(k0)->spec->calibration.toString(), std::string("mse"));

        // Lock the selection with Ctrl+L; the lock column shows it.
        QTest::keySequence(m_window.get(), QKeySequence(Qt::CTRL | Qt::Key_L));
        QVERIFY(doc()->isLocked(q0) && doc()->isLocked(up1));
        QCOMPARE(browser()->proxyIndexOf(q0, LayerTableModel::LockColumn).data(Qt::CheckStateRole)
                     .value<Qt::CheckState>(), Qt::Checked);

        // Undo twice (lock, then the apply) and redo once, from the keyboard.
        QTest::keySequence(m_window.get(), QKeySequence::Undo);
        QVERIFY(!doc()->isLocked(q0));
        QTest::keySequence(m_window.get(), QKeySequence::Undo);
        QCOMPARE(doc()->precision(q0)->format, std::string("int8"));
        QTRY_COMPARE_WITH_TIMEOUT(doc()->result(q0)->formatName(), QStringLiteral("int8"),
                                  kTimeoutMs);
        QTest::keySequence(m_window.get(), QKeySequence::Redo);
        QCOMPARE(doc()->precision(q0)->format, std::string("uint4"));
    }

    void rulesEditorWritesRules()
    {
        auto* editor = new RulesEditor(doc(), m_window.get());
        editor->setAttribute(Qt::WA_DeleteOnClose);
        editor->show();
        QVERIFY(QTest::qWaitForWindowExposed(editor));
        QTest::mouseClick(editor->addButton(), Qt::LeftButton);
        RulesModel* rules = editor->rulesModel();
        QAbstractItemModelTester tester(rules, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(rules->rowCount(), 1);
        QTRY_VERIFY(editor->view()->indexWidget(rules->index(0, RulesModel::MatchColumn)) ||
                    editor->view()->focusWidget());
        // Type an invalid expression first: OK is disabled and the problem is shown.
        QVERIFY(rules->setData(rules->index(0, RulesModel::MatchColumn), QStringLiteral("(a+)+")));
        QVERIFY(!editor->okButton()->isEnabled());
        QVERIFY(editor->problemLabel()->text().contains(QStringLiteral("nested quantifier")));
        QVERIFY(rules->setData(rules->index(0, RulesModel::MatchColumn),
                               QStringLiteral("mlp\\.(up|gate)_proj")));
        QVERIFY(rules->setData(rules->index(0, RulesModel::FormatColumn), QStringLiteral("fp16")));
        QVERIFY(editor->okButton()->isEnabled());
        QCOMPARE(rules->index(0, RulesModel::CountColumn).data().toInt(), 4); // 2 layers × 2
        QTest::mouseClick(editor->okButton(), Qt::LeftButton);
        QCOMPARE(doc()->plan().rules.size(), std::size_t(1));
        QCOMPARE(doc()->plan().rules[0].precision.format, std::string("fp16"));
        const int gate = rowNamed(*doc(), "model.layers.1.mlp.gate_proj.weight");
        QCOMPARE(doc()->precision(gate)->format, std::string("fp16"));
        QTRY_VERIFY_WITH_TIMEOUT(doc()->result(gate)->formatName() == QStringLiteral("fp16"),
                                 kTimeoutMs);
        doc()->undoStack()->undo();
        QVERIFY(doc()->plan().rules.empty());
    }

    void presetsApply()
    {
        QMenu* presets = m_window->planActions()->presetsMenu();
        QAction* w4 = nullptr;
        for (QAction* a : presets->actions())
            if (a->data().toString() == QStringLiteral("w4g128")) w4 = a;
        QVERIFY(w4);
        w4->trigger();
        const int embed = rowNamed(*doc(), "model.embed_tokens.weight");
        const int q = rowNamed(*doc(), "model.layers.0.self_attn.q_proj.weight");
        QCOMPARE(doc()->precision(embed)->format, std::string("int8"));
        QCOMPARE(doc()->precision(q)->format, std::string("int4"));
        QCOMPARE(m_window->defaultPrecisionPicker()->formatCombo()->currentText(),
                 QStringLiteral("int4"));
        QVERIFY(doc()->undoStack()->undoText().contains(QStringLiteral("W4")));
    }

    // Each metric column's header leads to its explanation in the Learn page.
    void metricsLinkToTheirExplanation()
    {
        for (int column : {LayerTableModel::SqnrColumn, LayerTableModel::VsIdealColumn,
                           LayerTableModel::MseColumn, LayerTableModel::BitsColumn})
            QVERIFY(!MainWindow::metricAnchor(column).isEmpty());
        m_window->explainMetric(MainWindow::metricAnchor(LayerTableModel::VsIdealColumn));
        QCOMPARE(m_window->pages()->currentWidget(), m_window->learnPanel());
        QTextBrowser* page = m_window->learnPanel()->metricsPage();
        QCOMPARE(m_window->learnPanel()->tabs()->currentWidget(), page);
        QVERIFY(page->toPlainText().contains(QStringLiteral("RMSE / scale")));
        QVERIFY(page->toPlainText().contains(QStringLiteral("0.289")));
        QVERIFY(page->verticalScrollBar()->value() > 0 ||
                page->verticalScrollBar()->maximum() == 0); // scrolled to the anchor
    }

    void darkThemeReachesThePlots()
    {
        QMenu* themes = m_window->findChild<QMenu*>(QStringLiteral("themeMenu"));
        QVERIFY(themes);
        const auto pick = [&](const char* id) {
            for (QAction* a : themes->actions())
                if (a->data().toString() == QLatin1String(id)) a->trigger();
        };
        pick("dark");
        QCustomPlot* plot = m_window->sqnrPlot()->plot();
        QTRY_VERIFY(plot->axisRect()->backgroundBrush().color().lightness() < 128);
        QVERIFY(qApp->palette().color(QPalette::Base).lightness() < 128);
        // The size chart's value labels turn light with the text, to stay readable.
        QCustomPlot* size = m_window->sizeChart()->plot();
        int labels = 0;
        for (int i = 0; i < size->itemCount(); ++i)
            if (auto* t = qobject_cast<QCPItemText*>(size->item(i))) {
                QVERIFY(t->color().lightness() > 128);
                ++labels;
            }
        QVERIFY(labels > 0);
        pick("system");
        QTRY_VERIFY(plot->axisRect()->backgroundBrush().color().lightness() >= 128);
    }

    void compareTwoPlans()
    {
        PlanBar* bar = m_window->planBar();
        QTest::mouseClick(bar->addButton(), Qt::LeftButton);
        QCOMPARE(doc()->planCount(), 2);
        QCOMPARE(bar->tabs()->count(), 2);
        QCOMPARE(doc()->activePlan(), 1);
        // Plan B goes to 4-bit groups from the toolbar; A stays int8.
        doc()->setDefaultPrecision(Precision{"int4", Granularity{Granularity::Kind::Group, 32}});
        QTRY_VERIFY_WITH_TIMEOUT(settled(*doc()), kTimeoutMs);
        PlanComparison* compare = m_window->planComparison();
        m_window->sideTabs()->setCurrentWidget(compare);
        QCOMPARE(compare->comboA()->currentText(), QStringLiteral("A"));
        QCOMPARE(compare->comboB()->currentText(), QStringLiteral("B"));
        QAbstractItemModelTester diffTester(compare->diffModel(),
                                            QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_VERIFY(compare->diffModel()->rowCount() > 0 && compare->bars()->barCount() > 0);
        // B loses SQNR everywhere it differs.
        const QModelIndex worst = compare->diffModel()->index(0, PlanDiffModel::DeltaColumn);
        QVERIFY(worst.data().toString().startsWith(QChar(0x2212)));
        // A click on a bar selects that layer in the table.
        compare->bars()->plot()->replot();
        const int row = compare->diffModel()->sourceRow(0);
        QTest::mouseClick(compare->bars()->plot(), Qt::LeftButton, Qt::NoModifier,
                          compare->bars()->pixelOf(row));
        QCOMPARE(browser()->currentRow(), row);
        // Totals: B is smaller.
        QAbstractItemModel* totals = compare->totalsView()->model();
        QAbstractItemModelTester tester(totals, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(totals->rowCount(), 2);
        QVERIFY(planTotals(*doc(), 1).bytesAfter < planTotals(*doc(), 0).bytesAfter);
        // One click on tab A makes it active again.
        QTest::mouseClick(bar->tabs(), Qt::LeftButton, Qt::NoModifier,
                          bar->tabs()->tabRect(0).center());
        QCOMPARE(doc()->activePlan(), 0);
        QCOMPARE(doc()->precision(0).value_or(Precision{"keep"}).format,
                 doc()->planAt(0).precisionFor(doc()->tensor(0)).value_or(Precision{"keep"}).format);

        QTest::qWait(300);
        const QString shot = QStringLiteral(QS_ARTIFACT_DIR "/workbench-compare.png");
        QVERIFY(m_window->grab().save(shot));
        qInfo("screenshot: %s", qPrintable(shot));
    }
};

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
