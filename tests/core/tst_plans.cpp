// The document's named plans and its undo stack: every edit undoes exactly, plans compute
// side by side, and results computed once are reused rather than recomputed.
#include "document.h"
#include "modelfixture.h"

#include <QtTest>

#include <QTemporaryDir>
#include <QUndoStack>

using namespace qs;

namespace {
const Granularity kChannel{Granularity::Kind::Channel, 0};
const Granularity kGroup16{Granularity::Kind::Group, 16};

bool settle(Document& doc)
{
    return QTest::qWaitFor([&] { return !doc.isBusy(); }, 30000);
}
} // namespace

class TestPlans : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model;

private slots:
    void initTestCase()
    {
        qRegisterMetaType<TensorResultPtr>();
        m_model = test::makeModel(m_dir.filePath(QStringLiteral("m.safetensors")), 4, 32, 64);
    }

    // Each kind of edit, then undo: the plan is back to what it was, and so are the results.
    void undoRestoresEveryEdit_data()
    {
        QTest::addColumn<QString>("edit");
        for (const char* e : {"precision", "selection", "default", "rules", "lock", "plan"})
            QTest::newRow(e) << QString::fromLatin1(e);
    }
    void undoRestoresEveryEdit()
    {
        QFETCH(QString, edit);
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        const std::string before = doc.plan().toJson();
        const auto resultBefore = doc.result(1);
        const Precision int4{"int4", kGroup16};
        if (edit == QLatin1String("precision")) doc.setPrecision(1, int4);
        if (edit == QLatin1String("selection")) doc.setPrecision({0, 1, 2}, int4);
        if (edit == QLatin1String("default")) doc.setDefaultPrecision(Precision{"fp16"});
        if (edit == QLatin1String("rules")) doc.setRules({{"layers\\.1\\.", int4}});
        if (edit == QLatin1String("lock")) doc.setLocked({1, 3}, true);
        if (edit == QLatin1String("plan")) {
            Plan p = Plan::uniform(Precision{"uint8", kChannel});
            doc.setPlan(p, QStringLiteral("preset"));
        }
        QVERIFY(settle(doc));
        QVERIFY(doc.plan().toJson() != before);
        QCOMPARE(doc.undoStack()->count(), 1);
        if (edit == QLatin1String("lock")) {
            QVERIFY(doc.isLocked(1) && doc.isLocked(3) && !doc.isLocked(0));
        } else {
            QVERIFY(doc.result(1) != resultBefore); // a new result for the new spec
        }
        const std::string after = doc.plan().toJson();

        doc.undoStack()->undo();
        QVERIFY(settle(doc));
        QCOMPARE(doc.plan().toJson(), before);
        // Undo reuses the result computed before the edit: the same object, no new work.
        QVERIFY(doc.result(1) == resultBefore);
        QVERIFY(!doc.isLocked(1));

        doc.undoStack()->redo();
        QVERIFY(settle(doc));
        QCOMPARE(doc.plan().toJson(), after);
    }

    void selectionIsOneUndoStep()
    {
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        doc.setPrecision({0, 2, 3}, Precision{"fp8_e4m3", kChannel});
        QVERIFY(settle(doc));
        for (int row : {0, 2, 3})
            QCOMPARE(doc.result(row)->formatName(), QStringLiteral("fp8_e4m3"));
        QCOMPARE(doc.result(1)->formatName(), QStringLiteral("int8"));
        QCOMPARE(doc.undoStack()->count(), 1);
        QVERIFY(doc.undoStack()->undoText().contains(QStringLiteral("3 layers")));
    }

    void onlyChangedRowsAreRecomputed()
    {
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        QSignalSpy changed(&doc, &Document::resultChanged);
        // A rule that matches one tensor changes one row; a lock changes none.
        doc.setRules({{"layers\\.2\\.weight", Precision{"int4", kGroup16}}});
        QVERIFY(settle(doc));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toInt(), 2);
        changed.clear();
        doc.setLocked({0}, true);
        QVERIFY(settle(doc));
        QCOMPARE(changed.size(), 0);
    }

    void plansComputeSideBySide()
    {
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        QSignalSpy plans(&doc, &Document::plansChanged);
        doc.duplicateActivePlan();
        QCOMPARE(doc.planCount(), 2);
        QCOMPARE(doc.planName(1), QStringLiteral("B"));
        QCOMPARE(doc.activePlan(), 1);
        QVERIFY(!plans.isEmpty());
        // The copy shares every result with its original: nothing to compute.
        QVERIFY(!doc.isBusy());
        for (int row = 0; row < doc.tensorCount(); ++row)
            QVERIFY(doc.resultOf(1, row) == doc.resultOf(0, row));

        doc.setDefaultPrecision(Precision{"int4", kGroup16}); // edits B only
        QVERIFY(settle(doc));
        QCOMPARE(doc.resultOf(0, 0)->formatName(), QStringLiteral("int8"));
        QCOMPARE(doc.resultOf(1, 0)->formatName(), QStringLiteral("int4"));
        QVERIFY(doc.totalBytesAfter(1) < doc.totalBytesAfter(0));

        doc.setActivePlan(0);
        QCOMPARE(doc.result(0)->formatName(), QStringLiteral("int8"));
        QCOMPARE(doc.precision(0)->format, std::string("int8"));

        doc.renamePlan(1, QStringLiteral("w4"));
        QCOMPARE(doc.planName(1), QStringLiteral("w4"));
        doc.removePlan(1);
        QCOMPARE(doc.planCount(), 1);
        doc.removePlan(0); // the last plan stays
        QCOMPARE(doc.planCount(), 1);
        doc.undoStack()->undo(); // the removal
        QCOMPARE(doc.planCount(), 2);
        QCOMPARE(doc.planName(1), QStringLiteral("w4"));
        QCOMPARE(doc.resultOf(1, 0)->formatName(), QStringLiteral("int4"));
        doc.undoStack()->undo(); // the rename
        QCOMPARE(doc.planName(1), QStringLiteral("B"));
    }

    void badRulesChangeNothing()
    {
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        const std::string before = doc.plan().toJson();
        QVERIFY_THROWS_EXCEPTION(std::exception,
                                 doc.setRules({{"(a+)+", Precision{"int8", kChannel}}}));
        QCOMPARE(doc.plan().toJson(), before);
        QCOMPARE(doc.undoStack()->count(), 0);
    }

    void openingAModelKeepsPlansButNotTheirEntries()
    {
        Document doc;
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        doc.setPrecision(0, Precision{"fp16"});
        doc.setLocked({1}, true);
        doc.duplicateActivePlan();
        QVERIFY(settle(doc));
        doc.setModel(m_model, QStringLiteral("m.safetensors"));
        QVERIFY(settle(doc));
        QCOMPARE(doc.planCount(), 2);
        QVERIFY(doc.plan().tensors.empty() && doc.plan().locked.empty());
        QCOMPARE(doc.undoStack()->count(), 0);
        for (int p = 0; p < 2; ++p)
            QCOMPARE(doc.resultOf(p, 0)->formatName(), QStringLiteral("int8"));
    }
};

QTEST_GUILESS_MAIN(TestPlans)
#include "tst_plans.moc"
