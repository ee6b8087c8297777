// Sessions and reports from the window: save, reopen without recomputing, a model changed on
// disk, autosave and recovery, and every report kind written to disk.
#include "document.h"
#include "mainwindow.h"
#include "reportcontroller.h"
#include "sessioncontroller.h"

#include <QAction>
#include <QFile>
#include <QDir>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

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
QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestSessionGui : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_model; // a copy, so that a test may change it on disk

    std::unique_ptr<MainWindow> window()
    {
        auto w = std::make_unique<MainWindow>();
        w->resize(1400, 850);
        w->show();
        return w;
    }
    void openModel(MainWindow& w)
    {
        QSignalSpy opened(w.document(), &Document::modelOpened);
        w.openFile(m_model);
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*w.document()), kTimeoutMs);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        m_model = m_dir.filePath(QStringLiteral("model.safetensors"));
        QVERIFY(QFile::copy(QStringLiteral(QS_LLM_MODEL), m_model));
    }

    void saveAndReopenIsInstant()
    {
        const QString path = m_dir.filePath(QStringLiteral("work.qscope"));
        quint64 bytesB = 0;
        {
            auto w = window();
            openModel(*w);
            Document* doc = w->document();
            doc->duplicateActivePlan();
            doc->setDefaultPrecision(Precision{"int4", Granularity{Granularity::Kind::Group, 32}});
            doc->setLocked({1}, true);
            QTRY_VERIFY_WITH_TIMEOUT(settled(*doc), kTimeoutMs);
            bytesB = doc->totalBytesAfter(1);
            QVERIFY(w->sessions()->save(path));
        }
        auto w = window();
        QSignalSpy opened(w->sessions(), &SessionController::opened);
        w->openFile(path); // as File > Open or the command line do
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kTimeoutMs);
        Document* doc = w->document();
        QCOMPARE(doc->planCount(), 2);
        QCOMPARE(doc->planName(1), QStringLiteral("B"));
        QCOMPARE(doc->activePlan(), 1);
        QVERIFY(doc->isLocked(1));
        // Every quantized tensor's result came from the file: nothing left to compute for them.
        QCOMPARE(doc->totalBytesAfter(1), bytesB);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*doc), kTimeoutMs);
        QCOMPARE(doc->resultOf(1, 4)->formatName(), QStringLiteral("int4"));
        QCOMPARE(QSettings().value(QStringLiteral("recentFiles")).toStringList().value(0),
                 QFileInfo(path).absoluteFilePath());
    }

    void changedModelIsRecomputedWithAWarning()
    {
        const QString path = m_dir.filePath(QStringLiteral("changed.qscope"));
        {
            auto w = window();
            openModel(*w);
            QVERIFY(w->sessions()->save(path));
        }
        { // one byte of tensor data (a file this small is fingerprinted whole)
            QFile f(m_model);
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.seek(f.size() - 100);
            const char b = char(f.peek(1).at(0) ^ 0x5a);
            f.write(&b, 1);
        }
        auto w = window();
        QSignalSpy opened(w->sessions(), &SessionController::opened);
        w->openFile(path);
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kTimeoutMs);
        QVERIFY(w->errorDialog());
        QVERIFY(w->errorDialog()->text().contains(QStringLiteral("changed on disk")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*w->document()), kTimeoutMs);
    }

    void autosaveIsRecovered()
    {
        QDir(SessionController::autosaveDirectory()).removeRecursively();
        QString autosaved;
        {
            auto w = window();
            openModel(*w);
            QVERIFY(!w->findChild<QWidget*>(QStringLiteral("recoveryBanner"))->isVisibleTo(w.get()));
            w->document()->setPrecision(0, Precision{"fp16"});
            QTRY_VERIFY_WITH_TIMEOUT(settled(*w->document()), kTimeoutMs);
            w->sessions()->autosave(); // what the timer does every minute
            autosaved = w->sessions()->autosavePath();
            QVERIFY(QFile::exists(autosaved));
            // A running window's autosave is not someone else's to recover.
            auto other = window();
            QVERIFY(other->sessions()->orphanedAutosaves().isEmpty());
            QVERIFY(!other->sessions()->recoverAction()->isEnabled());
        } // gone without closing: as after a crash
        auto w = window();
        QCOMPARE(w->sessions()->orphanedAutosaves(), QStringList{autosaved});
        QVERIFY(w->sessions()->recoverAction()->isEnabled());
        auto* banner = w->findChild<QWidget*>(QStringLiteral("recoveryBanner"));
        QVERIFY(banner->isVisible());
        QSignalSpy opened(w->sessions(), &SessionController::opened);
        QTest::mouseClick(w->findChild<QPushButton*>(QStringLiteral("recoverButton")),
                          Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, kTimeoutMs);
        QCOMPARE(w->document()->precision(0)->format, std::string("fp16"));
        QVERIFY(w->sessions()->path().isEmpty()); // Save asks where, not over the autosave
        // The recovered work is this window's autosave now: not offered twice, not lost.
        QVERIFY(!QFile::exists(autosaved));
        QVERIFY(QFile::exists(w->sessions()->autosavePath()));
        QVERIFY(w->sessions()->hasUnsavedWork());
        QVERIFY(!banner->isVisible());
        QVERIFY(!w->sessions()->recoverAction()->isEnabled());
        // Closing without saving leaves it for the next start; saving ends it.
        w->close();
        auto again = window();
        QCOMPARE(again->sessions()->orphanedAutosaves().size(), 1);
        QSignalSpy reopened(again->sessions(), &SessionController::opened);
        again->sessions()->recoverAction()->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(reopened.size(), 1, kTimeoutMs);
        QVERIFY(again->sessions()->save(m_dir.filePath(QStringLiteral("recovered.qscope"))));
        QVERIFY(!again->sessions()->hasUnsavedWork());
        again->close();
        QVERIFY(QDir(SessionController::autosaveDirectory())
                    .entryList({QStringLiteral("*.qscope")}, QDir::Files)
                    .isEmpty());
    }

    // Opening another model over unsaved edits keeps them as recoverable work.
    void replacedWorkIsKept()
    {
        QDir(SessionController::autosaveDirectory()).removeRecursively();
        auto w = window();
        openModel(*w);
        QVERIFY(w->sessions()->orphanedAutosaves().isEmpty());
        w->document()->setPrecision(1, Precision{"int4"});
        QTRY_VERIFY_WITH_TIMEOUT(settled(*w->document()), kTimeoutMs);
        QSignalSpy orphans(w->sessions(), &SessionController::orphansChanged);
        openModel(*w);
        QVERIFY(!w->sessions()->hasUnsavedWork());
        QCOMPARE(w->sessions()->orphanedAutosaves().size(), 1);
        QVERIFY(orphans.size() >= 1);
        QVERIFY(w->findChild<QWidget*>(QStringLiteral("recoveryBanner"))->isVisible());
        const QString kept = w->sessions()->orphanedAutosaves().constFirst();
        w->sessions()->discard(kept);
        QVERIFY(!QFile::exists(kept));
        QVERIFY(!w->findChild<QWidget*>(QStringLiteral("recoveryBanner"))->isVisible());
    }

    void reportsAreWritten_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("contains");
        QTest::newRow("html") << int(ReportController::Kind::Html) << "r.html" << "<svg";
        QTest::newRow("csv") << int(ReportController::Kind::Csv) << "r.csv"
                             << "name,format,granularity,channel_axis,params,bytes_before";
        QTest::newRow("plan") << int(ReportController::Kind::PlanJson) << "p.json"
                              << "\"default\"";
        QTest::newRow("llama") << int(ReportController::Kind::LlamaTensorTypes) << "t.txt"
                               << "=q8_0";
        QTest::newRow("ort") << int(ReportController::Kind::OrtOverrides) << "o.json"
                             << "QInt8";
    }
    void reportsAreWritten()
    {
        QFETCH(int, kind);
        QFETCH(QString, file);
        QFETCH(QString, contains);
        auto w = window();
        openModel(*w);
        const auto k = static_cast<ReportController::Kind>(kind);
        if (k == ReportController::Kind::LlamaTensorTypes)
            w->document()->setDefaultPrecision(Precision{"q8_0"});
        QTRY_VERIFY_WITH_TIMEOUT(settled(*w->document()), kTimeoutMs);
        const QString path = m_dir.filePath(file);
        QSignalSpy written(w->reports(), &ReportController::written);
        const QString notes = w->reports()->write(k, path);
        QCOMPARE(written.size(), 1);
        QVERIFY2(readAll(path).contains(contains.toUtf8()), qPrintable(path));
        // A safetensors model's names are not GGUF names: the user is told so.
        if (k == ReportController::Kind::LlamaTensorTypes)
            QVERIFY(notes.contains(QStringLiteral("rename")) || notes.contains(QStringLiteral("GGUF")));
    }
};

QTEST_MAIN(TestSessionGui)
#include "tst_sessiongui.moc"
