// The main window end to end: open a model, wait for every result, edit a layer's precision,
// see the plots and totals follow, and survive a broken file.
#include "document.h"
#include "errorhistogramplot.h"
#include "exportcontroller.h"
#include "histogramplot.h"
#include "jobstatuswidget.h"
#include "layerbrowser.h"
#include "layertablemodel.h"
#include "mainwindow.h"
#include "plotspanel.h"
#include "precisionpicker.h"
#include "sizechart.h"
#include "sqnrplot.h"
#include "testmodel.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTreeView>
#include <QTemporaryDir>
#include <QTest>

#include <qcustomplot.h>

using qs::LayerTableModel;

namespace {
constexpr int kOpenTimeoutMs = 30000;
constexpr int kComputeTimeoutMs = 120000;

bool allComputed(const qs::Document& d)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (!d.result(row)) return false;
    return d.tensorCount() > 0 && !d.isBusy();
}
} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void opensAndComputesEveryLayer();
    void editingALayerRecomputesIt();
    void delegateCommitsOnChoice();
    void delegateAcceptsTypedGroupSize();
    void delegateOffersCalibration_data();
    void delegateOffersCalibration();
    void sqnrTabSelectsLayer();
    void defaultPrecisionFromToolBar();
    void filterNarrowsTheTable();
    void cancelStopsTheJob();
    void malformedFileShowsError();
    void dropOpensFile();
    void exportWritesTheFile();
    void refusedExportShowsError();

private:
    void openAndWait(const QString& path);
    int editableProxyRow() const; // a proxy row of a quantized float matrix

    QTemporaryDir m_dir;
    QString m_modelPath;
    std::unique_ptr<qs::MainWindow> m_window;
};

void TestMainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(
        true); // keep the recent-files list out of the user's settings
    QSettings().clear();
    QLocale::setDefault(QLocale::c());
    QVERIFY(m_dir.isValid());
    m_modelPath = QStringLiteral(QS_EXAMPLE_MODEL);
    if (!QFileInfo(m_modelPath).isFile()) {
        qWarning("%s is missing: using a generated model", qPrintable(m_modelPath));
        m_modelPath = qs::test::writeSmallModel(m_dir.path());
    }
}

void TestMainWindow::init()
{
    m_window = std::make_unique<qs::MainWindow>();
    m_window->resize(1500, 900);
    // These tests address tensors by row of a flat list; tst_workbench covers the block tree.
    m_window->layerBrowser()->setGrouped(false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestMainWindow::cleanup()
{
    m_window.reset();
}

void TestMainWindow::openAndWait(const QString& path)
{
    QSignalSpy opened(m_window->document(), &qs::Document::modelOpened);
    m_window->openFile(path);
    QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kOpenTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_window->document()), kComputeTimeoutMs);
}

int TestMainWindow::editableProxyRow() const
{
    const QAbstractItemModel* proxy = m_window->layerBrowser()->proxy();
    for (int row = 0; row < proxy->rowCount(); ++row) {
        const QModelIndex sqnr = proxy->index(row, LayerTableModel::SqnrColumn);
        if ((proxy->index(row, LayerTableModel::GranularityColumn).flags() & Qt::ItemIsEditable) &&
            sqnr.data(LayerTableModel::SortRole).isValid())
            return row;
    }
    return -1;
}

void TestMainWindow::opensAndComputesEveryLayer()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    const QString fileName = QFileInfo(m_modelPath).fileName();
    QVERIFY(m_window->windowTitle().contains(fileName));
    QCOMPARE(m_window->layerModel()->rowCount(), doc->tensorCount());
    // The first row is selected and its plots are drawn.
    QCOMPARE(m_window->layerBrowser()->currentRow(),
             m_window->layerBrowser()
                 ->proxy()
                 ->mapToSource(m_window->layerBrowser()->proxy()->index(0, 0))
                 .row());
    QTRY_VERIFY(m_window->plotsPanel()->histogram()->isShowingPlot() ||
                !doc->result(m_window->layerBrowser()->currentRow())->analysis);
    // Totals in the status bar and the size chart.
    QTRY_VERIFY(m_window->jobStatus()->totalsLabel()->text().contains(QStringLiteral("smaller")));
    QTRY_COMPARE(m_window->sizeChart()->shownBytesAfter(), doc->totalBytesAfter());
    QVERIFY(!m_window->jobStatus()->progressBar()->isVisible());
    // Remembered for File > Open Recent.
    QCOMPARE(QSettings().value(QStringLiteral("recentFiles")).toStringList().value(0),
             QFileInfo(m_modelPath).absoluteFilePath());
}

void TestMainWindow::editingALayerRecomputesIt()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    QSortFilterProxyModel* proxy = m_window->layerBrowser()->proxy();
    QTreeView* view = m_window->layerBrowser()->view();
    // Sort by size, as a person looking for the big layers would.
    view->sortByColumn(LayerTableModel::BytesBeforeColumn, Qt::DescendingOrder);
    const int proxyRow = editableProxyRow();
    QVERIFY(proxyRow >= 0);
    const int row = proxy->mapToSource(proxy->index(proxyRow, 0)).row();
    view->setCurrentIndex(proxy->index(proxyRow, LayerTableModel::NameColumn));
    QCOMPARE(m_window->plotsPanel()->row(), row);

    const QModelIndex sqnr = proxy->index(proxyRow, LayerTableModel::SqnrColumn);
    const QModelIndex after = proxy->index(proxyRow, LayerTableModel::BytesAfterColumn);
    const QString oldSqnr = sqnr.data().toString();
    const QString oldAfter = after.data().toString();
    const QString oldFormat =
        proxy->index(proxyRow, LayerTableModel::FormatColumn).data().toString();
    const QString newFormat =
        oldFormat == QLatin1String("int4") ? QStringLiteral("int8") : QStringLiteral("int4");

    // What the delegate does when a format is picked from its combo box.
    QVERIFY(proxy->setData(proxy->index(proxyRow, LayerTableModel::FormatColumn), newFormat));
    QCOMPARE(doc->precision(row)->format, newFormat.toStdString());
    QTRY_VERIFY_WITH_TIMEOUT(sqnr.data().toString() != oldSqnr &&
                                 after.data().toString() != oldAfter,
                             kComputeTimeoutMs);
    QCOMPARE(doc->result(row)->formatName(), newFormat);

    // The plots show the new result of the selected row.
    qs::HistogramPlot* histogram = m_window->plotsPanel()->histogram();
    QTRY_COMPARE(histogram->result(), doc->result(row));
    QVERIFY(histogram->isShowingPlot());
    QVERIFY(histogram->plot()->graphCount() >= 2);
    QVERIFY(histogram->plot()->graph(0)->data()->size() > 0);
    QVERIFY(histogram->plot()->graph(1)->name().contains(newFormat));
    qs::ErrorHistogramPlot* error = m_window->plotsPanel()->errorHistogram();
    QVERIFY(error->isShowingPlot());
    QVERIFY(error->plot()->graph(0)->data()->size() > 0);
    QTRY_COMPARE(m_window->sizeChart()->shownBytesAfter(), doc->totalBytesAfter());

    QTest::qWait(100); // let the coalesced status-bar update land before the picture
    const QString shot = QStringLiteral(QS_ARTIFACT_DIR "/mainwindow.png");
    QVERIFY(m_window->grab().save(shot));
    qInfo("screenshot: %s", qPrintable(shot));
}

void TestMainWindow::delegateCommitsOnChoice()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    QTreeView* view = m_window->layerBrowser()->view();
    QSortFilterProxyModel* proxy = m_window->layerBrowser()->proxy();
    const int proxyRow = editableProxyRow();
    const int row = proxy->mapToSource(proxy->index(proxyRow, 0)).row();
    const QModelIndex format = proxy->index(proxyRow, LayerTableModel::FormatColumn);
    view->edit(format);
    auto* combo = qobject_cast<QComboBox*>(view->indexWidget(format));
    QVERIFY(combo);
    QCOMPARE(combo->currentText(), format.data().toString());
    QVERIFY(combo->findText(QStringLiteral("keep")) == 0);
    QVERIFY(combo->findText(QStringLiteral("uint4")) > 0);
    // Picking an entry is the whole edit: no Enter, no focus change.
    QSignalSpy results(doc, &qs::Document::resultChanged);
    const int i = combo->findText(QStringLiteral("uint4"));
    combo->setCurrentIndex(i);
    emit combo->activated(i);
    QCOMPARE(doc->precision(row)->format, std::string("uint4"));
    QTRY_VERIFY(!view->indexWidget(format)); // the editor closed
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}), kComputeTimeoutMs);
    QCOMPARE(format.data().toString(), QStringLiteral("uint4"));
}

void TestMainWindow::delegateAcceptsTypedGroupSize()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    QTreeView* view = m_window->layerBrowser()->view();
    QSortFilterProxyModel* proxy = m_window->layerBrowser()->proxy();
    const int proxyRow = editableProxyRow();
    const int row = proxy->mapToSource(proxy->index(proxyRow, 0)).row();
    const QModelIndex granularity = proxy->index(proxyRow, LayerTableModel::GranularityColumn);
    view->setCurrentIndex(granularity);
    view->edit(granularity);
    auto* combo = qobject_cast<QComboBox*>(view->indexWidget(granularity));
    QVERIFY(combo && combo->isEditable());
    combo->lineEdit()->selectAll();
    QTest::keyClicks(combo->lineEdit(), QStringLiteral("group:x16")); // the validator drops the x
    QCOMPARE(combo->currentText(), QStringLiteral("group:16"));
    QTest::keyClick(combo->lineEdit(), Qt::Key_Return);
    QTRY_VERIFY(!view->indexWidget(granularity));
    QCOMPARE(doc->precision(row)->granularity->toString(), std::string("group:16"));
    QTRY_COMPARE_WITH_TIMEOUT(doc->result(row)->granularityName(), QStringLiteral("group:16"),
                              kComputeTimeoutMs);
}

void TestMainWindow::delegateOffersCalibration_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<QString>("choice");
    const QStringList common{QStringLiteral("minmax"), QStringLiteral("percentile:99.9"),
                             QStringLiteral("percentile:99.99"), QStringLiteral("mse")};
    QTest::addRow("int8") << "int8" << common << "mse";
    QTest::addRow("uint4 adds hqq")
        << "uint4" << (common + QStringList{QStringLiteral("hqq")}) << "hqq";
}

void TestMainWindow::delegateOffersCalibration()
{
    QFETCH(QString, format);
    QFETCH(QStringList, offered);
    QFETCH(QString, choice);
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    QTreeView* view = m_window->layerBrowser()->view();
    QSortFilterProxyModel* proxy = m_window->layerBrowser()->proxy();
    const int proxyRow = editableProxyRow();
    const int row = proxy->mapToSource(proxy->index(proxyRow, 0)).row();
    QVERIFY(proxy->setData(proxy->index(proxyRow, LayerTableModel::FormatColumn), format));
    QTRY_VERIFY_WITH_TIMEOUT(!doc->isBusy(), kComputeTimeoutMs);

    const QModelIndex calibration = proxy->index(proxyRow, LayerTableModel::CalibrationColumn);
    view->edit(calibration);
    auto* combo = qobject_cast<QComboBox*>(view->indexWidget(calibration));
    QVERIFY(combo);
    QStringList items;
    for (int i = 0; i < combo->count(); ++i)
        items << combo->itemText(i);
    QCOMPARE(items, offered);
    QCOMPARE(combo->currentText(), QStringLiteral("minmax"));
    QSignalSpy results(doc, &qs::Document::resultChanged);
    const int i = combo->findText(choice);
    combo->setCurrentIndex(i);
    emit combo->activated(i);
    QTRY_VERIFY(!view->indexWidget(calibration));
    QCOMPARE(doc->precision(row)->calibration->toString(), choice.toStdString());
    QCOMPARE(doc->precision(row)->format, format.toStdString());
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}) && !doc->isBusy(),
                             kComputeTimeoutMs);
    QCOMPARE(results.size(), 1);
    QCOMPARE(QString::fromStdString(doc->result(row)->spec->calibration.toString()), choice);
    QVERIFY(
        calibration.data(Qt::ToolTipRole).toString().contains(QStringLiteral("groups changed")));
}

void TestMainWindow::sqnrTabSelectsLayer()
{
    openAndWait(m_modelPath);
    qs::SqnrPlot* chart = m_window->sqnrPlot();
    QTabWidget* tabs = m_window->sideTabs();
    QCOMPARE(tabs->tabText(tabs->indexOf(chart)), QStringLiteral("SQNR"));
    tabs->setCurrentWidget(chart);
    QTRY_VERIFY(chart->isShowingPlot() && chart->shownRows().size() > 2);
    chart->plot()->replot();
    // The table's selection is highlighted in the chart...
    QCOMPARE(chart->currentRow(), m_window->layerBrowser()->currentRow());
    // ...and a click on another layer's bar selects it in the table and the plots below.
    const int row = chart->shownRows().at(2);
    QVERIFY(row != m_window->layerBrowser()->currentRow());
    QTest::mouseClick(chart->plot(), Qt::LeftButton, Qt::NoModifier, chart->barCenter(row));
    QCOMPARE(m_window->layerBrowser()->currentRow(), row);
    QCOMPARE(m_window->plotsPanel()->row(), row);
    // Also when the name filter hides that layer.
    QTest::keyClicks(m_window->layerBrowser()->filterEdit(), QStringLiteral("no such layer"));
    const int other = chart->shownRows().at(0);
    QTest::mouseClick(chart->plot(), Qt::LeftButton, Qt::NoModifier, chart->barCenter(other));
    QCOMPARE(m_window->layerBrowser()->currentRow(), other);
    QVERIFY(m_window->layerBrowser()->filterEdit()->text().isEmpty());

    QTest::qWait(100); // let the coalesced status-bar update land before the picture
    const QString shot = QStringLiteral(QS_ARTIFACT_DIR "/mainwindow-sqnr.png");
    QVERIFY(m_window->grab().save(shot));
    qInfo("screenshot: %s", qPrintable(shot));
}

void TestMainWindow::defaultPrecisionFromToolBar()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    const quint64 before = doc->totalBytesAfter();
    QComboBox* format = m_window->defaultPrecisionPicker()->formatCombo();
    QComboBox* granularity = m_window->defaultPrecisionPicker()->granularityCombo();
    QCOMPARE(format->currentText(), QStringLiteral("int8"));
    granularity->setCurrentText(QStringLiteral("group:32"));
    const int i = format->findText(QStringLiteral("int4"));
    format->setCurrentIndex(i);
    emit format->activated(i); // as a click on the entry does
    // The job has started and nothing waited for it: progress and Cancel are on show.
    QVERIFY(doc->isBusy());
    QVERIFY(m_window->jobStatus()->progressBar()->isVisible());
    QVERIFY(m_window->jobStatus()->cancelButton()->isVisible());
    QVERIFY(m_window->grab().save(QStringLiteral(QS_ARTIFACT_DIR "/mainwindow-busy.png")));
    QCOMPARE(doc->plan().defaultPrecision->format, std::string("int4"));
    QCOMPARE(doc->plan().defaultPrecision->granularity->toString(), std::string("group:32"));
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*doc) && doc->totalBytesAfter() < before,
                             kComputeTimeoutMs);
    const QAbstractItemModel* proxy = m_window->layerBrowser()->proxy();
    const int row = editableProxyRow();
    QCOMPARE(proxy->index(row, LayerTableModel::FormatColumn).data().toString(),
             QStringLiteral("int4"));
    QCOMPARE(proxy->index(row, LayerTableModel::GranularityColumn).data().toString(),
             QStringLiteral("group:32"));
}

void TestMainWindow::filterNarrowsTheTable()
{
    openAndWait(m_modelPath);
    QSortFilterProxyModel* proxy = m_window->layerBrowser()->proxy();
    const int all = proxy->rowCount();
    const QString name = proxy->index(all - 1, LayerTableModel::NameColumn).data().toString();
    QTest::keyClicks(m_window->layerBrowser()->filterEdit(), name.toUpper());
    QVERIFY(proxy->rowCount() >= 1);
    QVERIFY(proxy->rowCount() < all || all == 1);
    for (int row = 0; row < proxy->rowCount(); ++row)
        QVERIFY(proxy->index(row, 0).data().toString().contains(name));
    m_window->layerBrowser()->filterEdit()->clear();
    QCOMPARE(proxy->rowCount(), all);
}

void TestMainWindow::cancelStopsTheJob()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    QSignalSpy busy(doc, &qs::Document::busyChanged);
    doc->setDefaultPrecision(qs::Precision{"uint4", qs::Granularity::parse("group:32")});
    QVERIFY(doc->isBusy());
    QTest::mouseClick(m_window->jobStatus()->cancelButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!doc->isBusy(), 5000);
    QCOMPARE(busy.last().at(0).toBool(), false);
    QVERIFY(!m_window->jobStatus()->progressBar()->isVisible());
    QVERIFY(!m_window->jobStatus()->cancelButton()->isVisible());
    // Results that were delivered stay; the window stays usable.
    QVERIFY(m_window->jobStatus()->totalsLabel()->text().contains(QStringLiteral("\u2192")));
}

void TestMainWindow::malformedFileShowsError()
{
    openAndWait(m_modelPath);
    qs::Document* doc = m_window->document();
    const int tensors = doc->tensorCount();
    const QString bad =
        qs::test::writeGarbage(m_dir.path(), QStringLiteral("garbage-weights.safetensors"));

    m_window->openFile(bad);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->errorDialog() && m_window->errorDialog()->isVisible(),
                             kOpenTimeoutMs);
    QMessageBox* box = m_window->findChild<QMessageBox*>(QStringLiteral("errorDialog"));
    QCOMPARE(box, m_window->errorDialog());
    QVERIFY(box->text().contains(QStringLiteral("garbage-weights.safetensors")));
    QVERIFY(box->informativeText().contains(QStringLiteral("garbage-weights.safetensors")));
    QVERIFY(!box->informativeText().isEmpty());
    box->accept();

    // The model that was open stays open and usable.
    QCOMPARE(doc->tensorCount(), tensors);
    QCOMPARE(doc->path(), m_modelPath);
    QVERIFY(m_window->windowTitle().contains(QFileInfo(m_modelPath).fileName()));
    const int proxyRow = editableProxyRow();
    const int row = m_window->layerBrowser()
                        ->proxy()
                        ->mapToSource(m_window->layerBrowser()->proxy()->index(proxyRow, 0))
                        .row();
    QSignalSpy results(doc, &qs::Document::resultChanged);
    QVERIFY(m_window->layerBrowser()->proxy()->setData(
        m_window->layerBrowser()->proxy()->index(proxyRow, LayerTableModel::FormatColumn),
        QStringLiteral("uint8")));
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}), kComputeTimeoutMs);
    QCOMPARE(doc->result(row)->formatName(), QStringLiteral("uint8"));
}

void TestMainWindow::dropOpensFile()
{
    const QString other =
        qs::test::writeSmallModel(m_dir.path(), QStringLiteral("dropped.safetensors"));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(other)});
    QMimeData text;
    text.setText(QStringLiteral("not a file"));
    QDragEnterEvent refused(QPoint(10, 10), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    refused.setAccepted(false);
    QCoreApplication::sendEvent(m_window.get(), &refused);
    QVERIFY(!refused.isAccepted());

    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    enter.setAccepted(false);
    QCoreApplication::sendEvent(m_window.get(), &enter);
    QVERIFY(enter.isAccepted());
    QSignalSpy opened(m_window->document(), &qs::Document::modelOpened);
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(m_window.get(), &drop);
    QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kOpenTimeoutMs);
    QCOMPARE(m_window->document()->path(), other);
    QVERIFY(m_window->windowTitle().contains(QStringLiteral("dropped.safetensors")));
}

void TestMainWindow::exportWritesTheFile()
{
    QAction* action = m_window->findChild<QAction*>(QStringLiteral("exportAction"));
    QVERIFY(action);
    QVERIFY(!action->isEnabled()); // nothing to export before a model is open
    openAndWait(m_modelPath);
    QVERIFY(action->isEnabled());
    m_window->document()->setDefaultPrecision(qs::Precision("fp16"));
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_window->document()), kComputeTimeoutMs);

    const QString out = m_dir.filePath(QStringLiteral("exported.gguf"));
    QSignalSpy exported(m_window->exporter(), &qs::ExportController::exported);
    m_window->exporter()->exportTo(out);
    QTRY_COMPARE_WITH_TIMEOUT(exported.size(), 1, kComputeTimeoutMs);
    QTRY_VERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("exported.gguf")));
    const auto back = qs::openModel(out.toStdString());
    QCOMPARE(back->tensors.size(), m_window->document()->model()->tensors.size());
    // Matrices are F16 now (the default applies to them); vectors kept their F32.
    const qs::Model& source = *m_window->document()->model();
    for (const auto& t : source.tensors) {
        const qs::TensorInfo* e = back->find(t.name);
        QVERIFY(e);
        QCOMPARE(e->dtype, t.shape.size() >= 2 ? qs::DType::F16 : t.dtype);
    }
}

void TestMainWindow::refusedExportShowsError()
{
    openAndWait(m_modelPath); // the default plan is int8 per channel, which GGUF cannot hold
    const QString out = m_dir.filePath(QStringLiteral("refused.gguf"));
    m_window->exporter()->exportTo(out);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->errorDialog() && m_window->errorDialog()->isVisible(),
                             kComputeTimeoutMs);
    QVERIFY(m_window->errorDialog()->informativeText().contains(QStringLiteral("int8")));
    m_window->errorDialog()->accept();
    QVERIFY(!QFileInfo::exists(out));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
